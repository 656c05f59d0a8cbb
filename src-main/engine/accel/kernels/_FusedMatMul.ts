// The built-in kernel must be registered before it is looked up below.
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { _FusedMatMul, type _FusedMatMulAttrs } from '@tensorflow/tfjs-core';
import { type WasmKernelArgs, release, runBuiltin, wasmKernelConfig } from '../wasm-backend';
import { fastDims, transpose2D } from './BatchMatMul';

const FUSED = _FusedMatMul;
const builtinFused = tf.getKernel(FUSED, 'wasm');

/**
 * The fused variant (bias, activation) only ever runs the product the direct way, since bias
 * and PReLU weights broadcast over C's layout. tfjs-layers' Dense forward pass uses it without
 * transposes; its gradient uses plain BatchMatMul. This covers direct calls with flags.
 */
export function fusedMatMulWasm({
  inputs,
  backend,
  attrs,
}: WasmKernelArgs<_FusedMatMulAttrs>): tf.TensorInfo {
  const { a, b } = inputs;
  if (a === undefined || b === undefined) throw new Error(`${FUSED}: missing input 'a' or 'b'.`);
  const ta = attrs.transposeA;
  const tb = attrs.transposeB;
  // The built-in reads a.shape[2] directly: it only takes rank-3 operands.
  const dims = a.shape.length === 3 && b.shape.length === 3 ? fastDims(a, b, ta, tb) : null;
  if (dims === null) {
    return runBuiltin(FUSED, builtinFused, { inputs, backend, attrs });
  }
  const { m, k, n } = dims;
  const temps: tf.TensorInfo[] = [];
  try {
    let a3 = a;
    if (ta) {
      const t = transpose2D(backend, a, k, m);
      temps.push(t);
      a3 = { dataId: t.dataId, shape: [1, m, k], dtype: t.dtype };
    }
    let b3 = b;
    if (tb) {
      const t = transpose2D(backend, b, n, k);
      temps.push(t);
      b3 = { dataId: t.dataId, shape: [1, k, n], dtype: t.dtype };
    }
    return runBuiltin(FUSED, builtinFused, {
      inputs: { ...inputs, a: a3, b: b3 },
      backend,
      attrs: { ...attrs, transposeA: false, transposeB: false },
    });
  } finally {
    for (const t of temps) release(backend, t);
  }
}

export const fusedMatMulConfig = wasmKernelConfig(FUSED, fusedMatMulWasm, builtinFused);
