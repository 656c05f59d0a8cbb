import type * as tf from '@tensorflow/tfjs';
import { type ColsRows, type DirectGeometry, simdKernelsFor } from '../native/simd/module';
import type { AccelTuning, FilterGeometry } from '../tuning';
import { type BackendWasm, heapF32, makeF32, offsets, withScratch } from '../wasm-backend';

/**
 * The three convolution passes as im2col + our GEMM (native/simd/gemm.c), any kernel size,
 * stride and padding, NHWC float32. With R = kh·kw·ci and P = n·oh·ow output pixels, cols[P, R]
 * is the im2col matrix of x and W is the filter viewed as [R, co]:
 *
 *   Conv2D                y[P, co]  = cols · W
 *   Conv2DBackpropInput   dcols[P, R] = dy[P, co] · Wᵀ, then col2im adds dcols into dx
 *   Conv2DBackpropFilter  dW[R, co] = colsᵀ · dy
 *
 * cols itself is never written: pack_cols and pack_cols_t pack its rows straight from x into
 * the GEMM's operand layout. Each pass runs over blocks of cols' rows
 * (AccelTuning.convGemmBlockBytes of packed rows or of dcols per block), so a block is written
 * and read back while it is still in L2; dW accumulates over the blocks. The blocks need not be
 * whole images: the packers and col2im work row by row.
 */

/** One convolution's geometry: the one Conv2DBackpropFilter's strategy rule reads. */
export type ConvGeometry = FilterGeometry;

/** The geometry of computeConv2DInfo's answer, as all three convolution kernels use it. */
export function convGeometry(info: tf.backend_util.Conv2DInfo): ConvGeometry {
  return {
    n: info.batchSize,
    h: info.inHeight,
    w: info.inWidth,
    ci: info.inChannels,
    oh: info.outHeight,
    ow: info.outWidth,
    co: info.outChannels,
    kh: info.filterHeight,
    kw: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/** The geometry as the direct kernels (conv_direct, conv_filter_grad) take it. */
export function directGeometry(g: ConvGeometry): DirectGeometry {
  return [g.n, g.h, g.w, g.ci, g.oh, g.ow, g.co, g.kh, g.kw, g.sh, g.sw, g.padTop, g.padLeft];
}

/**
 * y = conv2d(x, filter) summed directly (native/simd/conv-direct.c), for one input channel: as
 * a GEMM its k would be kh·kw = 9, too short to pay for the tiles.
 */
export function conv2DDirect(
  backend: BackendWasm,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  g: ConvGeometry,
  tuning: AccelTuning,
): tf.TensorInfo {
  const out = makeF32(backend, [g.n, g.oh, g.ow, g.co]);
  const at = offsets(backend);
  simdKernelsFor(backend, tuning).conv_direct(at(x), at(filter), at(out), ...directGeometry(g));
  return out;
}

/**
 * k per block of gemm: A's panel (kc·16 bytes) and B's (kc·32) stay in L1 (48 kB here). Every
 * block after the first adds into C again, so the cnn conv2 forward pass (k = 288) runs in one.
 */
const KC = 512;

/** Rows of cols per block: the tuning's bytes, at least one tile of 4 rows, at most all. */
function blockRows(g: ConvGeometry, tuning: AccelTuning): number {
  const p = g.n * g.oh * g.ow;
  const r = g.kh * g.kw * g.ci;
  return Math.max(1, Math.min(p, Math.max(4, Math.floor(tuning.convGemmBlockBytes / (4 * r)))));
}

/** Floats of a B operand packed for gemm: ⌈n/8⌉ panels of k·8. */
const packedSize = (k: number, n: number): number => Math.ceil(n / 8) * 8 * Math.max(1, k);
/** Floats of an A operand packed for gemm: ⌈m/4⌉ panels of k·4. */
const packedRows = (m: number, k: number): number => Math.ceil(m / 4) * 4 * Math.max(1, k);

/** Rows m0 ≤ m < m1 of the im2col matrix of an input of geometry g. */
function colsRows(g: ConvGeometry, m0: number, m1: number): ColsRows {
  return [g.h, g.w, g.ci, g.oh, g.ow, g.kh, g.kw, g.sh, g.sw, g.padTop, g.padLeft, m0, m1];
}

/** y = conv2d(x, filter) as im2col blocks times the packed filter. */
export function conv2DGemm(
  backend: BackendWasm,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  g: ConvGeometry,
  tuning: AccelTuning,
): tf.TensorInfo {
  const k = simdKernelsFor(backend, tuning);
  const r = g.kh * g.kw * g.ci;
  const p = g.n * g.oh * g.ow;
  const rows = blockRows(g, tuning);
  return withScratch(backend, [g.n, g.oh, g.ow, g.co], (out, scratch) => {
    const ap = scratch([packedRows(rows, r)]);
    const wp = scratch([packedSize(r, g.co)]);
    const at = offsets(backend);
    k.pack_b(at(filter), g.co, r, g.co, at(wp));
    for (let m0 = 0; m0 < p; m0 += rows) {
      const m1 = Math.min(p, m0 + rows);
      k.pack_cols(at(x), at(ap), ...colsRows(g, m0, m1));
      k.gemm(at(ap), at(wp), at(out) + m0 * g.co * 4, g.co, m1 - m0, g.co, r, 0, KC);
    }
  });
}

/** dx of conv2d(x, filter) from dy: dcols = dy·Wᵀ block by block, each added into dx (col2im). */
export function conv2DBackpropInputGemm(
  backend: BackendWasm,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  g: ConvGeometry,
  tuning: AccelTuning,
): tf.TensorInfo {
  const k = simdKernelsFor(backend, tuning);
  const r = g.kh * g.kw * g.ci;
  const p = g.n * g.oh * g.ow;
  const rows = blockRows(g, tuning);
  return withScratch(backend, [g.n, g.h, g.w, g.ci], (dx, scratch) => {
    const dcols = scratch([rows * r]);
    const ap = scratch([packedRows(rows, g.co)]);
    const wp = scratch([packedSize(g.co, r)]);
    heapF32(backend, dx).fill(0);
    const at = offsets(backend);
    // B = Wᵀ [co, R], packed from W [R, co].
    k.pack_bt(at(filter), g.co, g.co, r, at(wp));
    for (let m0 = 0; m0 < p; m0 += rows) {
      const m1 = Math.min(p, m0 + rows);
      k.pack_a(at(dy) + m0 * g.co * 4, g.co, 1, m1 - m0, g.co, at(ap));
      k.gemm(at(ap), at(wp), at(dcols), r, m1 - m0, r, g.co, 0, KC);
      k.col2im(at(dcols), at(dx), ...colsRows(g, m0, m1));
    }
  });
}

/** dW of conv2d(x, filter) from dy: colsᵀ·dy summed over blocks of cols' rows. */
export function conv2DBackpropFilterGemm(
  backend: BackendWasm,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  g: ConvGeometry,
  tuning: AccelTuning,
): tf.TensorInfo {
  const k = simdKernelsFor(backend, tuning);
  const r = g.kh * g.kw * g.ci;
  const p = g.n * g.oh * g.ow;
  const rows = blockRows(g, tuning);
  return withScratch(backend, [g.kh, g.kw, g.ci, g.co], (dw, scratch) => {
    const ap = scratch([packedRows(r, rows)]);
    const dyp = scratch([packedSize(rows, g.co)]);
    const at = offsets(backend);
    for (let m0 = 0; m0 < p; m0 += rows) {
      const m1 = Math.min(p, m0 + rows);
      k.pack_b(at(dy) + m0 * g.co * 4, g.co, m1 - m0, g.co, at(dyp));
      k.pack_cols_t(at(x), at(ap), ...colsRows(g, m0, m1));
      k.gemm(at(ap), at(dyp), at(dw), g.co, r, g.co, m1 - m0, m0 > 0 ? 1 : 0, KC);
    }
  });
}
