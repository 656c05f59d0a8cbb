// The built-in kernels must be registered before they are looked up below.
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { BatchMatMul, type BatchMatMulAttrs } from '@tensorflow/tfjs-core';
import { simdKernelsFor } from '../native/simd/module';
import type { AccelTuning, MatMulOrientation } from '../tuning';
import {
  type BackendWasm,
  type WasmKernelArgs,
  makeF32,
  offsets,
  release,
  runWasmKernel,
  runBuiltin,
  wasmKernelConfig,
} from '../wasm-backend';

/**
 * The backend's BatchMatMul and _FusedMatMul only reach XNNPACK when neither operand is
 * transposed and both have a batch of 1; any transpose flag sends them to a naive triple loop
 * (batch_mat_mul_impl.cc, `slow_batch_matmul`) that is ~10x slower. Every Dense layer's backward
 * pass asks for exactly that: dW = xᵀ·dy (transposeA) and dx = dy·Wᵀ (transposeB). (In training
 * tfjs fuses only linear activations, so the mlp's ReLU layer runs plain BatchMatMul forward and
 * backward; the softmax layer runs _FusedMatMul forward and BatchMatMul in its gradient.)
 * Measured per call, fresh operands, ms:
 *
 *                                      built-in   ours
 *   mlp         [32,784]ᵀ·[32,128]         2.64    0.23
 *   cnn         [128,10]·[1600,10]ᵀ        2.19    0.20
 *   cnn         [128,1600]ᵀ·[128,10]       1.56    0.62
 *   cnn-strong  [128,1024]ᵀ·[128,128]     14.0     1.26
 *   cnn-strong  [128,128]·[1024,128]ᵀ     12.6     1.46
 *
 * So the flagged operands are transposed into temporary buffers (the backend's Transpose kernel)
 * and the built-in runs without flags. XNNPACK also repacks its "weights" operand b on every
 * call (it caches the packing per buffer, but gradients are fresh buffers each step), which
 * costs more per element than a transpose; so C = A·B may instead be computed as
 * Cᵀ = Bᵀ·Aᵀ when that makes the packed operand smaller (e.g. dx = dy·Wᵀ packs dyᵀ rather than
 * Wᵀ), whichever the cost model below prefers. Batched products (a batch dimension above 1) and
 * non-float32 inputs go to the built-in unchanged.
 */

const BMM = BatchMatMul;
const builtinBmm = tf.getKernel(BMM, 'wasm');

/** ns per element, measured on the shapes above: a 2-D transpose and XNNPACK's weight packing. */
const TRANSPOSE_COST = 2;
const PACK_COST = 3.4;

export type Orientation = MatMulOrientation;

/**
 * C[m, n] = op(A)·op(B), where op transposes when the flag is set.
 * direct:  transpose the flagged operands, C = A'·B', packs op(B)   (k·n).
 * swapped: Cᵀ = op(B)ᵀ·op(A)ᵀ, which transposes the *unflagged* operands and the [n, m]
 *          result, and packs op(A)ᵀ (k·m).
 */
export function chooseOrientation(
  m: number,
  k: number,
  n: number,
  transposeA: boolean,
  transposeB: boolean,
): Orientation {
  const direct =
    TRANSPOSE_COST * ((transposeA ? m * k : 0) + (transposeB ? k * n : 0)) + PACK_COST * k * n;
  const swapped =
    TRANSPOSE_COST * ((transposeA ? 0 : m * k) + (transposeB ? 0 : k * n) + m * n) +
    PACK_COST * k * m;
  return swapped < direct ? 'swapped' : 'direct';
}

interface Dims {
  m: number;
  k: number;
  n: number;
  outShape: number[];
}

/**
 * The shapes of a product this module handles: float32, at least one transpose flag (or none,
 * with `unflagged`: our GEMM takes those too), batch dimensions that are all 1, no empty
 * dimension, matching inner sizes. Anything else → null.
 */
export function fastDims(
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  unflagged = false,
): Dims | null {
  if (!transposeA && !transposeB && !unflagged) return null;
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 2 || rb < 2) return null;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  if (outerA.some((d) => d !== 1) || outerB.some((d) => d !== 1)) return null;
  const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (k !== kb || m * k * n === 0) return null;
  const outer = outerA.length >= outerB.length ? outerA : outerB;
  return { m, k, n, outShape: [...outer, m, n] };
}

/** The 2-D transpose of a [rows, cols] buffer (any leading 1s in its shape are ignored). */
export function transpose2D(
  backend: BackendWasm,
  x: tf.TensorInfo,
  rows: number,
  cols: number,
): tf.TensorInfo {
  return runWasmKernel(
    'Transpose',
    backend,
    { x: { dataId: x.dataId, shape: [rows, cols], dtype: x.dtype } },
    { perm: [1, 0] },
  );
}

function as2D(x: tf.TensorInfo, rows: number, cols: number): tf.TensorInfo {
  return { dataId: x.dataId, shape: [rows, cols], dtype: x.dtype };
}

function runBuiltinBmm(
  backend: BackendWasm,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): tf.TensorInfo {
  return runBuiltin(BMM, builtinBmm, {
    inputs: { a, b },
    backend,
    attrs: { transposeA, transposeB },
  });
}

/**
 * Our GEMM's costs, ns: per multiply-add slot of its 4×8 tiles (padding included), per element
 * packed with vector loads (pack_a either way round, pack_b) or one by one (pack_bt), and per
 * element of C transposed when the product ran the swapped way.
 */
const GEMM_SLOT_COST = 0.08;
const GEMM_PACK_COST = 0.4;
const GEMM_STRIDED_PACK_COST = 1.2;
const GEMM_TRANSPOSE_COST = 1;

/**
 * Which way round our GEMM computes C[m, n] = op(A)·op(B): directly, or Cᵀ = op(B)ᵀ·op(A)ᵀ and a
 * transpose. Its tiles are 4 rows × 8 columns, so a Dense layer's 10 outputs fill 10 of 16
 * columns as C's n but 10 of 12 rows as Cᵀ's m; packing reads a transposed B element by element.
 */
export function chooseGemmOrientation(
  m: number,
  k: number,
  n: number,
  transposeA: boolean,
  transposeB: boolean,
): Orientation {
  const slots = (rows: number, cols: number) =>
    Math.ceil(rows / 4) * 4 * Math.ceil(cols / 8) * 8 * k * GEMM_SLOT_COST;
  const direct =
    slots(m, n) +
    GEMM_PACK_COST * m * k +
    (transposeB ? GEMM_STRIDED_PACK_COST : GEMM_PACK_COST) * k * n;
  const swapped =
    slots(n, m) +
    GEMM_PACK_COST * n * k +
    (transposeA ? GEMM_PACK_COST : GEMM_STRIDED_PACK_COST) * k * m +
    GEMM_TRANSPOSE_COST * m * n;
  return swapped < direct ? 'swapped' : 'direct';
}

/** A row-major [rows, cols] matrix, or the transpose of one stored [cols, rows]. */
interface Operand {
  at: number;
  transposed: boolean;
  rows: number;
  cols: number;
}

/**
 * C = op(A)·op(B) on our GEMM (native/simd/gemm.c), the transposes folded into the packing:
 * pack_a reads A through two strides, pack_b a row-major B, pack_bt a transposed one. XNNPACK
 * needed explicit transposes and repacked its operand on every call; on the cnn's Dense layer
 * ([128, 1600]·[1600, 10] and its two gradients) the three products took ~2.8 ms of a step.
 */
export function gemmMatMul(
  backend: BackendWasm,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  dims: Dims,
  tuning: AccelTuning,
): tf.TensorInfo {
  const { m, k, n, outShape } = dims;
  const kernels = simdKernelsFor(backend, tuning);
  const at = offsets(backend);
  const orientation =
    tuning.matMulOrientation ?? chooseGemmOrientation(m, k, n, transposeA, transposeB);
  const swapped = orientation === 'swapped';
  // The product the GEMM runs, L[rows, k]·R[k, cols]: op(A)·op(B), or op(B)ᵀ·op(A)ᵀ.
  const left: Operand = swapped
    ? { at: at(b), transposed: !transposeB, rows: n, cols: k }
    : { at: at(a), transposed: transposeA, rows: m, cols: k };
  const right: Operand = swapped
    ? { at: at(a), transposed: !transposeA, rows: k, cols: m }
    : { at: at(b), transposed: transposeB, rows: k, cols: n };
  const ap = makeF32(backend, [Math.ceil(left.rows / 4) * 4 * k]);
  const bp = makeF32(backend, [Math.ceil(right.cols / 8) * 8 * k]);
  const product = makeF32(backend, swapped ? [n, m] : outShape);
  try {
    // Element (i, kk) of L sits at i·rs + kk·ks.
    const [rs, ks] = left.transposed ? [1, left.rows] : [k, 1];
    kernels.pack_a(left.at, rs, ks, left.rows, k, at(ap));
    if (right.transposed) kernels.pack_bt(right.at, k, k, right.cols, at(bp));
    else kernels.pack_b(right.at, right.cols, k, right.cols, at(bp));
    kernels.gemm(at(ap), at(bp), at(product), right.cols, left.rows, right.cols, k, 0, GEMM_KC);
    if (!swapped) return product;
    const out = transpose2D(backend, product, n, m);
    out.shape = outShape;
    return out;
  } catch (error) {
    if (!swapped) release(backend, product);
    throw error;
  } finally {
    release(backend, ap);
    release(backend, bp);
    if (swapped) release(backend, product);
  }
}

/** k per block of our GEMM, as the convolutions run it (conv-gemm.ts). */
const GEMM_KC = 512;

export function batchMatMulWasm(
  { inputs, backend, attrs }: WasmKernelArgs<BatchMatMulAttrs>,
  tuning: AccelTuning,
): tf.TensorInfo {
  const orientation = tuning.matMulOrientation;
  const { a, b } = inputs;
  if (a === undefined || b === undefined) throw new Error(`${BMM}: missing input 'a' or 'b'.`);
  const ta = attrs.transposeA;
  const tb = attrs.transposeB;
  if (tuning.simd && tuning.denseGemm) {
    const dims = fastDims(a, b, ta, tb, true);
    if (dims !== null) return gemmMatMul(backend, a, b, ta, tb, dims, tuning);
  }
  const dims = fastDims(a, b, ta, tb);
  if (dims === null) return runBuiltinBmm(backend, a, b, ta, tb);
  const { m, k, n, outShape } = dims;

  const temps: tf.TensorInfo[] = [];
  try {
    if ((orientation ?? chooseOrientation(m, k, n, ta, tb)) === 'direct') {
      // a is [k, m] when transposed, b is [n, k].
      const a2 = ta ? transpose2D(backend, a, k, m) : as2D(a, m, k);
      if (ta) temps.push(a2);
      const b2 = tb ? transpose2D(backend, b, n, k) : as2D(b, k, n);
      if (tb) temps.push(b2);
      const out = runBuiltinBmm(backend, a2, b2, false, false);
      out.shape = outShape;
      return out;
    }
    // Cᵀ[n, m] = op(B)ᵀ[n, k] · op(A)ᵀ[k, m]; op(B)ᵀ is b itself when b was flagged.
    const bT = tb ? as2D(b, n, k) : transpose2D(backend, b, k, n);
    if (!tb) temps.push(bT);
    const aT = ta ? as2D(a, k, m) : transpose2D(backend, a, m, k);
    if (!ta) temps.push(aT);
    const cT = runBuiltinBmm(backend, bT, aT, false, false);
    temps.push(cT);
    const out = transpose2D(backend, cT, n, m);
    out.shape = outShape;
    return out;
  } finally {
    for (const t of temps) release(backend, t);
  }
}

export function batchMatMulConfig(tuning: AccelTuning): tf.KernelConfig {
  return wasmKernelConfig<BatchMatMulAttrs>(
    BMM,
    (args) => batchMatMulWasm(args, tuning),
    builtinBmm,
  );
}
