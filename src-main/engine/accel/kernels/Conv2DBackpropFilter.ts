import * as tf from '@tensorflow/tfjs';
import { Conv2DBackpropFilter, type Conv2DBackpropFilterAttrs } from '@tensorflow/tfjs-core';
import { simdKernels, simdKernelsFor } from '../native/simd/module';
import { conv2DBackpropFilterGemm, convGeometry, directGeometry } from './conv-gemm';
import { filterGradWinograd4, winograd4Chosen, winograd4Geometry } from './winograd4';
import type { AccelTuning, FilterGeometry, FilterStrategy } from '../tuning';
import {
  type BackendWasm,
  type Shape4D,
  type WasmKernelArgs,
  assertNHWC,
  assertNoDilation,
  checkShape,
  heapF32,
  makeF32,
  release,
  requireInput,
  runWasmKernel,
  wasmKernelConfig,
  offsets,
} from '../wasm-backend';

const KERNEL = Conv2DBackpropFilter;

/** tfjs' attributes, and the dilations tfjs-layers passes although Conv2DBackpropFilter has none. */
export type FilterGradAttrs = Conv2DBackpropFilterAttrs & { dilations?: number | [number, number] };

/**
 * dW[kh, kw, ci, co] = sum over (n, oh, ow) of x[n, oh*s + kh - pad, ow*s + kw - pad, ci] * dy[n, oh, ow, co].
 * The wasm backend has no kernel for this at all (tfjs issue #8474). pickStrategy chooses:
 *
 * - 'gemm' (kernels/conv-gemm.ts), every layer with more than one input channel: dW[R, co] =
 *   colsᵀ·dy on our GEMM, R = kh·kw·ci, over L2-sized blocks of im2col rows, accumulated.
 * - 'direct' (viaDirectSum), single-channel inputs (every model's first layer): the sum in our
 *   SIMD kernel, pixel by pixel, dW in L1, nothing copied. The GEMM (dW's 9 rows in tiles of
 *   4, an im2col copy of every pixel) measured no faster (the table below).
 *
 * Without the GEMM (AccelTuning.convGemm 'never') or our SIMD kernels, the XNNPACK routes below
 * run. They differ in which operand XNNPACK repacks as "weights" on every call, and that
 * packing, not the multiply-adds, dominates when the contraction axis (n * oh * ow) is long:
 * the packed operand is streamed from memory once per row tile of the product unless it fits
 * in cache. One channel → direct (or the transposed im2col without SIMD); stride 1 without
 * padding → transposed im2col (its gather in our SIMD kernel); otherwise narrow inputs the plain
 * im2col and the rest the convolution.
 *
 * GEMM (relaxed build) against the XNNPACK route pickStrategy took before, batch 128, one
 * thread, three runs of bench/kernels.ts --gemm under load (average 6–9):
 *
 *   x[128,13,13,32] 3x3→64   transposed-im2col   1.95x, 2.13x, 2.14x
 *   x[128,5,5,64]   3x3→128  transposed-im2col   1.89x, 1.96x, 2.25x
 *   x[128,26,26,32] 3x3→32   transposed-im2col   2.29x, 2.04x, 1.96x
 *   x[128,12,12,32] 3x3→64   transposed-im2col   2.01x, 2.24x, 2.02x
 *   x[128,10,10,64] 3x3→64   transposed-im2col   2.15x, 1.88x, 2.10x
 *   x[128,14,14,32] 3x3→64   convolution ('same') 2.48x
 *   x[128,28,28,1]  3x3→32   direct              0.97x, 1.15x, 0.84x   (direct kept)
 */
export function conv2DBackpropFilterWasm(
  { inputs, backend, attrs }: WasmKernelArgs<FilterGradAttrs>,
  tuning: AccelTuning,
): tf.TensorInfo {
  const x = requireInput(inputs, 'x', KERNEL);
  const dy = requireInput(inputs, 'dy', KERNEL);
  assertNHWC(attrs.dataFormat, KERNEL);
  assertNoDilation(attrs.dilations, KERNEL);

  const info = tf.backend_util.computeConv2DInfo(
    x.shape as Shape4D,
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info;
  const { outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw } = info;
  if (dy.shape[0] !== n || dy.shape[1] !== oh || dy.shape[2] !== ow || dy.shape[3] !== co) {
    throw new Error(
      `${KERNEL}: dy shape [${dy.shape.join(',')}] does not match the forward output [${info.outShape.join(',')}].`,
    );
  }
  const filterShape = [kh, kw, ci, co];

  if (n * h * w * ci === 0 || oh * ow * co === 0 || kh * kw === 0) {
    const out = makeF32(backend, filterShape);
    heapF32(backend, out).fill(0);
    return out;
  }

  const geometry = convGeometry(info);
  const strategy = pickStrategy(geometry, tuning);
  const dw =
    strategy === 'im2col'
      ? viaIm2colMatMul(backend, x, dy, geometry)
      : strategy === 'convolution'
        ? viaConvolution(backend, x, dy, geometry, tuning.convolutionChunkLimit)
        : strategy === 'direct'
          ? viaDirectSum(backend, x, dy, geometry, tuning)
          : strategy === 'gemm'
            ? conv2DBackpropFilterGemm(backend, x, dy, geometry, tuning)
            : strategy === 'winograd'
              ? filterGradWinograd4(backend, x, dy, winograd4Geometry(info), tuning)
              : viaTransposedIm2col(backend, x, dy, geometry, tuning.simd);
  return checkShape(backend, dw, filterShape, KERNEL);
}

export type Geometry = FilterGeometry;

/**
 * Few input channels (the first layer): dW^T = dy^T [co, P] x cols [P, kh*kw*ci]
 * on XNNPACK's matmul, with the narrow im2col matrix as the packed weights.
 */
function viaIm2colMatMul(
  backend: BackendWasm,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  g: Geometry,
): tf.TensorInfo {
  const { n, ci, co, oh, ow, kh, kw } = g;
  const p = n * oh * ow;
  const r = kh * kw * ci;
  const cols = makeF32(backend, [1, p, r]);
  const dyT = makeF32(backend, [1, co, p]);
  let prod: tf.TensorInfo | undefined;
  try {
    im2col(heapF32(backend, x), heapF32(backend, cols), g);
    transpose2D(heapF32(backend, dy), heapF32(backend, dyT), p, co);
    prod = runWasmKernel(
      'BatchMatMul',
      backend,
      { a: dyT, b: cols },
      { transposeA: false, transposeB: false },
    );
    const out = makeF32(backend, [kh, kw, ci, co]);
    transpose2D(heapF32(backend, prod), heapF32(backend, out), co, r);
    return out;
  } finally {
    release(backend, cols);
    release(backend, dyT);
    if (prod !== undefined) release(backend, prod);
  }
}

/**
 * The sum in dW's definition, pixel by pixel, in native/simd/conv-filter-grad.c's conv_filter_grad: no operand is
 * repacked or copied, which is what the XNNPACK routes pay for when dW is small (few input
 * channels) and dy is large.
 */
function viaDirectSum(
  backend: BackendWasm,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  g: Geometry,
  tuning: AccelTuning,
): tf.TensorInfo {
  // The tuning's build: conv_filter_grad sums with F32X4_MADD, which rounds differently.
  const kernels = simdKernelsFor(backend, tuning);
  const out = makeF32(backend, [g.kh, g.kw, g.ci, g.co]);
  heapF32(backend, out).fill(0);
  const at = offsets(backend);
  kernels.conv_filter_grad(at(x), at(dy), at(out), ...directGeometry(g));
  return out;
}

/** cols[(b, y, x), (i, j, c)] = x[b, y*sh + i - padTop, x*sw + j - padLeft, c], zero outside. */
function im2col(src: Float32Array, dst: Float32Array, g: Geometry): void {
  const { n, h, w, ci, oh, ow, kh, kw, sh, sw, padTop, padLeft } = g;
  const rowLen = kw * ci;
  let d = 0;
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        const x0 = x * sw - padLeft;
        const jMin = Math.max(0, -x0);
        const jMax = Math.min(kw, w - x0);
        for (let i = 0; i < kh; i++) {
          const yy = y * sh + i - padTop;
          if (yy < 0 || yy >= h || jMin >= jMax) {
            dst.fill(0, d, d + rowLen);
          } else {
            if (jMin > 0) dst.fill(0, d, d + jMin * ci);
            const s = ((b * h + yy) * w + x0 + jMin) * ci;
            const len = (jMax - jMin) * ci;
            const o = d + jMin * ci;
            for (let t = 0; t < len; t++) dst[o + t] = src[s + t]!;
            if (jMax < kw) dst.fill(0, d + jMax * ci, d + rowLen);
          }
          d += rowLen;
        }
      }
    }
  }
}

/** dst[c, r] = src[r, c] for a rows x cols matrix, in cache-sized row blocks. */
function transpose2D(src: Float32Array, dst: Float32Array, rows: number, cols: number): void {
  const BLOCK = 64;
  for (let r0 = 0; r0 < rows; r0 += BLOCK) {
    const r1 = Math.min(rows, r0 + BLOCK);
    for (let c = 0; c < cols; c++) {
      let o = c * rows + r0;
      for (let r = r0; r < r1; r++) dst[o++] = src[r * cols + c]!;
    }
  }
}

/** Images per convolution in viaConvolution: dy's share is the filter XNNPACK packs and streams. */
/** dy sizes (floats) up to which viaConvolution runs in one piece: no gain measured below. */
const CONV_CHUNK_ABOVE = 1 << 20;

/**
 * Many input channels: with ci as the batch axis and n as the channel axis,
 * dW is a forward convolution of x (as [ci, h, w, n]) with dy (as
 * [oh, ow, n, co]) for the filter, dilated by the forward stride; its
 * [ci, kh, kw, co] output needs one more transpose. A large dy (over 4 MB) is
 * split into chunks of up to AccelTuning.convolutionChunkLimit images (when that divides the batch), one
 * convolution each, summed: a filter of the whole batch (oh·ow·n·co floats,
 * 9 MB for dy[128,24,24,32]) made XNNPACK stream it once per row tile of the
 * output. Measured on dy[128,24,24,32]: 104 ms in one piece, 76 ms in chunks
 * of 8 (4: 89, 16: 86); about even on the smaller layers (dy[128,11,11,64]
 * and below), which stay in one piece.
 */
function viaConvolution(
  backend: BackendWasm,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  g: Geometry,
  chunkLimit: number,
): tf.TensorInfo {
  const { n, h, w, ci, co, oh, ow, kh, kw, sh, sw, padTop, padLeft } = g;
  // Rows/cols past the last window are never read (e.g. 'valid' with a
  // stride that does not divide the input); XNNPACK cannot take negative
  // padding, so those get cropped instead.
  const padBottom = kh + (oh - 1) * sh - h - padTop;
  const padRight = kw + (ow - 1) * sw - w - padLeft;
  const nc = oh * ow * n * co > CONV_CHUNK_ABOVE ? convChunk(n, chunkLimit) : n;
  const chunks = n / nc;

  const temps: tf.TensorInfo[] = [];
  try {
    // [chunks, ci, h, w, nc] and [chunks, oh, ow, nc, co]: each chunk's operands contiguous.
    const xT = runWasmKernel(
      'Transpose',
      backend,
      { x: { dataId: x.dataId, shape: [chunks, nc, h, w, ci], dtype: x.dtype } },
      { perm: [0, 4, 2, 3, 1] },
    );
    temps.push(xT);
    const dyT = runWasmKernel(
      'Transpose',
      backend,
      { x: { dataId: dy.dataId, shape: [chunks, nc, oh, ow, co], dtype: dy.dtype } },
      { perm: [0, 2, 3, 1, 4] },
    );
    temps.push(dyT);
    const xLen = ci * h * w * nc;
    const fLen = oh * ow * nc * co;
    let perCi: tf.TensorInfo | undefined;
    for (let k = 0; k < chunks; k++) {
      const local: tf.TensorInfo[] = [];
      try {
        let xk: tf.TensorInfo = { dataId: xT.dataId, shape: [ci, h, w, nc], dtype: xT.dtype };
        let fk: tf.TensorInfo = { dataId: dyT.dataId, shape: [oh, ow, nc, co], dtype: dyT.dtype };
        if (chunks > 1) {
          // Own buffers per chunk: XNNPACK caches the packed filter per buffer id.
          xk = makeF32(backend, [ci, h, w, nc]);
          local.push(xk);
          fk = makeF32(backend, [oh, ow, nc, co]);
          local.push(fk);
          heapF32(backend, xk).set(heapF32(backend, xT).subarray(k * xLen, (k + 1) * xLen));
          heapF32(backend, fk).set(heapF32(backend, dyT).subarray(k * fLen, (k + 1) * fLen));
        }
        if (padBottom < 0 || padRight < 0) {
          xk = runWasmKernel(
            'Slice',
            backend,
            { x: xk },
            {
              begin: [0, 0, 0, 0],
              size: [ci, h + Math.min(padBottom, 0), w + Math.min(padRight, 0), nc],
            },
          );
          local.push(xk);
        }
        const part = runWasmKernel(
          'Conv2D',
          backend,
          { x: xk, filter: fk },
          {
            strides: [1, 1],
            dilations: [sh, sw],
            pad: [
              [0, 0],
              [padTop, Math.max(padBottom, 0)],
              [padLeft, Math.max(padRight, 0)],
              [0, 0],
            ],
            dataFormat: 'NHWC',
          },
        );
        if (perCi === undefined) {
          perCi = part;
          temps.push(perCi);
        } else {
          local.push(part);
          const acc = heapF32(backend, perCi);
          const v = heapF32(backend, part);
          for (let t = 0; t < acc.length; t++) acc[t] = acc[t]! + v[t]!;
        }
      } finally {
        for (const t of local) release(backend, t);
      }
    }
    return runWasmKernel('Transpose', backend, { x: perCi! }, { perm: [1, 2, 0, 3] });
  } finally {
    for (const t of temps) release(backend, t);
  }
}

/** Chunk size for viaConvolution: the largest divisor of n in [4, limit], else n itself. */
export function convChunk(n: number, limit: number): number {
  if (n <= limit) return n;
  for (let d = limit; d >= 4; d--) if (n % d === 0) return d;
  return n;
}

/** Floats of dy per XNNPACK call in the transposed-im2col strategy (256 kB). */
const MAX_CHUNK_WEIGHTS = 64 << 10;

/**
 * dW[(i, j, c), co] = colsᵀ[(i, j, c), P] · dy[P, co] with P = (n, oh, ow): the transposed im2col
 * matrix is the left operand, so XNNPACK packs only dy (its "weights", P·co floats) and the
 * result already has dW's [kh, kw, ci, co] layout. colsᵀ rows are gathered from x transposed to
 * [ci, n, h, w], where each row segment is a contiguous run of one input row. Large inputs are
 * split over the batch, each chunk with its own copy of its dy rows (XNNPACK caches packed
 * weights per buffer id, so a reused buffer would silently reuse stale weights).
 */
function viaTransposedIm2col(
  backend: BackendWasm,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  g: Geometry,
  simd: boolean,
): tf.TensorInfo {
  const { n, ci, co, oh, ow, kh, kw } = g;
  const r = kh * kw * ci;
  const perImage = oh * ow;
  // Images per XNNPACK call: dy's rows for one call (its packed "weights") must stay
  // cache-sized, or every row tile of the product streams them from memory again.
  const chunk = Math.max(1, Math.min(n, Math.floor(MAX_CHUNK_WEIGHTS / (co * perImage))));
  const temps: tf.TensorInfo[] = [];
  try {
    const xT = runWasmKernel('Transpose', backend, { x }, { perm: [3, 0, 1, 2] });
    temps.push(xT);
    if (chunk === n) {
      const colsT = makeF32(backend, [1, r, n * perImage]);
      temps.push(colsT);
      gather(backend, xT, colsT, g, 0, n, simd);
      const dy2 = { dataId: dy.dataId, shape: [1, n * perImage, co], dtype: dy.dtype };
      const out = runWasmKernel(
        'BatchMatMul',
        backend,
        { a: colsT, b: dy2 },
        { transposeA: false, transposeB: false },
      );
      out.shape = [kh, kw, ci, co];
      return out;
    }
    const out = makeF32(backend, [kh, kw, ci, co]);
    temps.push(out);
    heapF32(backend, out).fill(0);
    for (let b0 = 0; b0 < n; b0 += chunk) {
      const b1 = Math.min(n, b0 + chunk);
      const pc = (b1 - b0) * perImage;
      const colsT = makeF32(backend, [1, r, pc]);
      temps.push(colsT);
      const dyc = makeF32(backend, [1, pc, co]);
      temps.push(dyc);
      gather(backend, xT, colsT, g, b0, b1, simd);
      heapF32(backend, dyc).set(
        heapF32(backend, dy).subarray(b0 * perImage * co, b1 * perImage * co),
      );
      const prod = runWasmKernel(
        'BatchMatMul',
        backend,
        { a: colsT, b: dyc },
        { transposeA: false, transposeB: false },
      );
      temps.push(prod);
      const acc = heapF32(backend, out);
      const part = heapF32(backend, prod);
      for (let t = 0; t < r * co; t++) acc[t] = acc[t]! + part[t]!;
      for (const t of temps.splice(temps.length - 3)) release(backend, t);
    }
    temps.splice(temps.indexOf(out), 1);
    return out;
  } finally {
    for (const t of temps) release(backend, t);
  }
}

/** Stride 1 and no padding: every row segment of the transposed im2col is one run of x. */
function plainGather(g: Geometry): boolean {
  return (
    g.sh === 1 &&
    g.sw === 1 &&
    g.padTop === 0 &&
    g.padLeft === 0 &&
    g.oh + g.kh - 1 <= g.h &&
    g.ow + g.kw - 1 <= g.w
  );
}

/**
 * gatherColsT, in our SIMD kernel (native/simd/conv-filter-grad.c, gather_cols_t) for stride 1 without padding,
 * where every row segment is a plain run: 4.46 M floats for the cnn's second layer in ~2 ms
 * instead of ~9 in JavaScript.
 */
function gather(
  backend: BackendWasm,
  xT: tf.TensorInfo,
  colsT: tf.TensorInfo,
  g: Geometry,
  b0: number,
  b1: number,
  simd: boolean,
): void {
  if (!simd || !plainGather(g)) {
    gatherColsT(heapF32(backend, xT), heapF32(backend, colsT), g, b0, b1);
    return;
  }
  const at = offsets(backend);
  simdKernels(backend).gather_cols_t(
    at(xT),
    at(colsT),
    g.n,
    g.h,
    g.w,
    g.ci,
    g.oh,
    g.ow,
    g.kh,
    g.kw,
    b0,
    b1,
  );
}

/**
 * colsT[(i, j, c), (b - b0, y, xo)] = x[b, y*sh + i - padTop, xo*sw + j - padLeft, c], zero
 * outside, for images b0 ≤ b < b1, reading x as xT[c, b, h, w].
 */
function gatherColsT(
  src: Float32Array,
  dst: Float32Array,
  g: Geometry,
  b0: number,
  b1: number,
): void {
  const { n, h, w, ci, oh, ow, kh, kw, sh, sw, padTop, padLeft } = g;
  const pc = (b1 - b0) * oh * ow;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      // Output columns whose input column xo*sw + j - padLeft lies inside the row.
      const xLo = Math.min(ow, Math.max(0, Math.ceil((padLeft - j) / sw)));
      const xHi = Math.max(xLo, Math.min(ow, Math.floor((w - 1 + padLeft - j) / sw) + 1));
      for (let c = 0; c < ci; c++) {
        let d = ((i * kw + j) * ci + c) * pc;
        for (let b = b0; b < b1; b++) {
          const plane = (c * n + b) * h * w;
          for (let y = 0; y < oh; y++) {
            const yy = y * sh + i - padTop;
            if (yy < 0 || yy >= h) {
              dst.fill(0, d, d + ow);
              d += ow;
              continue;
            }
            const row = plane + yy * w + j - padLeft;
            for (let xo = 0; xo < xLo; xo++) dst[d++] = 0;
            if (sw === 1) {
              for (let xo = xLo; xo < xHi; xo++) dst[d++] = src[row + xo]!;
            } else {
              for (let xo = xLo; xo < xHi; xo++) dst[d++] = src[row + xo * sw]!;
            }
            for (let xo = xHi; xo < ow; xo++) dst[d++] = 0;
          }
        }
      }
    }
  }
}

export type { FilterStrategy };

/** The strategy for this geometry: the tuning's if it forces one, else the rule at the top. */
export function pickStrategy(g: Geometry, tuning: AccelTuning): FilterStrategy {
  const forced = tuning.filterStrategy;
  if (typeof forced === 'function') return forced(g);
  if (forced !== null) return forced;
  if (winograd4Applies(g) && winograd4Chosen(tuning, g.ci, g.co, g.oh, g.ow)) return 'winograd';
  const gemm = tuning.simd ? tuning.convGemm : 'never';
  if (gemm === 'always') return 'gemm';
  if (g.ci === 1) return tuning.simd ? 'direct' : 'transposed-im2col';
  if (gemm === 'auto') return 'gemm';
  if (tuning.simd && plainGather(g)) return 'transposed-im2col';
  return g.kh * g.kw * g.ci <= g.co ? 'im2col' : 'convolution';
}

export function conv2DBackpropFilterConfig(tuning: AccelTuning): tf.KernelConfig {
  return wasmKernelConfig<FilterGradAttrs>(KERNEL, (args) =>
    conv2DBackpropFilterWasm(args, tuning),
  );
}

/** F(4×4, 3×3) takes 3×3 stride-1 filters over a map padded by zero or more on each side. */
function winograd4Applies(g: Geometry): boolean {
  return g.kh === 3 && g.kw === 3 && g.sh === 1 && g.sw === 1 && g.padTop >= 0 && g.padLeft >= 0;
}
