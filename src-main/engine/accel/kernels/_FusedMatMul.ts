// The built-in kernel must be registered before it is looked up below.
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { _FusedMatMul, type _FusedMatMulAttrs } from '@tensorflow/tfjs-core';
import { simdKernelsFor } from '../native/simd/module';
import type { AccelTuning } from '../tuning';
import {
  type WasmKernelArgs,
  offsets,
  release,
  runBuiltin,
  wasmKernelConfig,
} from '../wasm-backend';
import { fastDims, gemmMatMul, transpose2D } from './BatchMatMul';

const FUSED = _FusedMatMul;
const builtinFused = tf.getKernel(FUSED, 'wasm');

/**
 * tfjs-layers' Dense forward pass (its gradient uses plain BatchMatMul). Linear with a bias of
 * C's columns or none, or ReLU with such a bias: the product runs on our GEMM
 * (kernels/BatchMatMul.ts) and the bias and activation in one pass after it (bias-relu.c).
 * Other activations and PReLU go to the built-in, which runs the product only the direct way
 * (bias and PReLU weights broadcast over C's layout), so flagged operands are transposed for it.
 */
export function fusedMatMulWasm(
  { inputs, backend, attrs }: WasmKernelArgs<_FusedMatMulAttrs>,
  tuning: AccelTuning,
): tf.TensorInfo {
  const { a, b, bias } = inputs;
  if (a === undefined || b === undefined) throw new Error(`${FUSED}: missing input 'a' or 'b'.`);
  const ta = attrs.transposeA;
  const tb = attrs.transposeB;
  if (
    tuning.simd &&
    tuning.denseGemm &&
    inputs.preluActivationWeights === undefined &&
    (attrs.activation === 'linear' || (attrs.activation === 'relu' && bias !== undefined))
  ) {
    const dims = fastDims(a, b, ta, tb, true);
    const biasFits =
      bias === undefined ||
      (bias.dtype === 'float32' && bias.shape.length === 1 && bias.shape[0] === dims?.n);
    if (dims !== null && biasFits) {
      const out = gemmMatMul(backend, a, b, ta, tb, dims, tuning);
      const kernels = simdKernelsFor(backend, tuning);
      const at = offsets(backend);
      if (bias !== undefined) {
        const add = attrs.activation === 'relu' ? kernels.bias_relu : kernels.bias_add;
        add(at(out), at(bias), dims.m, dims.n);
      }
      return out;
    }
  }
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

export function fusedMatMulConfig(tuning: AccelTuning): tf.KernelConfig {
  return wasmKernelConfig<_FusedMatMulAttrs>(
    FUSED,
    (args) => fusedMatMulWasm(args, tuning),
    builtinFused,
  );
}
