import * as tf from '@tensorflow/tfjs';
import { Conv2D, Conv2DBackpropInput, type Conv2DBackpropInputAttrs } from '@tensorflow/tfjs-core';
import type { AccelTuning } from '../tuning';
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
} from '../wasm-backend';
import { winogradPaysFor } from './Conv2D';
import { inputGradWinograd4, winograd4Chosen, winograd4Geometry } from './winograd4';
import { conv2DBackpropInputGemm, convGeometry } from './conv-gemm';

const KERNEL = Conv2DBackpropInput;

/** tfjs' attributes, and the dilations tfjs-layers passes although Conv2DBackpropInput has none. */
export type InputGradAttrs = Conv2DBackpropInputAttrs & { dilations?: number | [number, number] };

/**
 * Three ways to dx. Where the forward convolution runs by Winograd F(4×4, 3×3), so does dx, over
 * the forward pass's own tiles run backwards (kernels/winograd4.ts: the cnn's conv2 12.2 ms a
 * step against 23.7 on the paths below). Elsewhere useGemm chooses between:
 *
 * - col2im + GEMM (kernels/conv-gemm.ts): dcols[P, kh·kw·ci] = dy[P, co] · Wᵀ on our GEMM, then
 *   each row of dcols added back onto the input pixels its window covers. Its multiply-adds are
 *   the forward pass's: oh·ow·kh·kw·ci·co an image.
 * - The "full" correlation: dy with the filter rotated by 180 degrees and its in/out channels
 *   swapped, as a stride-1 Conv2D (ours: Winograd where that pays, else XNNPACK). Stride 1 lets
 *   the convolution pad; other strides (or pads wider than the kernel) first spread dy onto a
 *   zero grid. It computes all h·w outputs from a zero-padded dy: 3.1 M multiply-adds an image
 *   for the cnn's conv2 (GEMM: 2.2 M), 1.84 M for cnn-fast's conv3 on 3×3 → 5×5 maps (0.66 M).
 *
 * col2im + GEMM (relaxed build) against the full correlation, batch 128, one thread, runs of
 * bench/kernels.ts --gemm under load (average 6–9; identical paths differ by up to 1.3x):
 *
 *   cnn conv2  dy[128,11,11,64]→32    1.59x, 1.31x
 *   fast conv3 dy[128,3,3,128]→64     5.75x, 4.30x
 *   strong     dy[128,24,24,32]→32    1.10x, 0.77x, 1.11x
 *   strong     dy[128,10,10,64]→32    1.17x, 1.34x, 1.25x
 *   strong     dy[128,8,8,64]→64      1.35x, 1.65x, 1.64x
 *   'same'     dy[128,14,14,64]→32    0.90x, 0.65x, 0.67x   (full correlation kept)
 */
export function conv2DBackpropInputWasm(
  { inputs, backend, attrs }: WasmKernelArgs<InputGradAttrs>,
  tuning: AccelTuning,
): tf.TensorInfo {
  const dy = requireInput(inputs, 'dy', KERNEL);
  const filter = requireInput(inputs, 'filter', KERNEL);
  assertNHWC(attrs.dataFormat, KERNEL);
  assertNoDilation(attrs.dilations, KERNEL);

  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape,
    filter.shape as Shape4D,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info;
  const { outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw } = info;
  const { strideHeight: sh, strideWidth: sw } = info;
  if (dy.shape[0] !== n || dy.shape[1] !== oh || dy.shape[2] !== ow || dy.shape[3] !== co) {
    throw new Error(
      `${KERNEL}: dy shape [${dy.shape.join(',')}] does not match the forward output [${info.outShape.join(',')}].`,
    );
  }

  if (n * h * w * ci === 0 || oh * ow * co === 0) {
    const out = makeF32(backend, info.inShape);
    heapF32(backend, out).fill(0);
    return out;
  }

  // The forward convolution's own Winograd tiles, run backwards (kernels/winograd4.ts).
  if (
    kh === 3 &&
    kw === 3 &&
    sh === 1 &&
    sw === 1 &&
    info.padInfo.top >= 0 &&
    info.padInfo.left >= 0 &&
    winograd4Chosen(tuning, ci, co, oh, ow)
  ) {
    return inputGradWinograd4(backend, dy, filter, winograd4Geometry(info), tuning);
  }
  if (useGemm(info, tuning)) {
    return conv2DBackpropInputGemm(backend, dy, filter, convGeometry(info), tuning);
  }

  const padTop = kh - 1 - info.padInfo.top;
  const padLeft = kw - 1 - info.padInfo.left;
  const padBottom = h + kh - 1 - padTop - ((oh - 1) * sh + 1);
  const padRight = w + kw - 1 - padLeft - ((ow - 1) * sw + 1);

  const direct =
    sh === 1 && sw === 1 && padTop >= 0 && padLeft >= 0 && padBottom >= 0 && padRight >= 0;
  const pad: tf.backend_util.ExplicitPadding = direct
    ? [
        [0, 0],
        [padTop, padBottom],
        [padLeft, padRight],
        [0, 0],
      ]
    : [
        [0, 0],
        [0, 0],
        [0, 0],
        [0, 0],
      ];
  const temps: tf.TensorInfo[] = [];
  try {
    const rotated = rotateFilter(backend, filter, kh, kw, ci, co);
    temps.push(rotated);
    let src = dy;
    if (!direct) {
      src = spreadDy(backend, dy, n, oh, ow, co, h + kh - 1, w + kw - 1, sh, sw, padTop, padLeft);
      temps.push(src);
    }
    const dx = runWasmKernel(
      Conv2D,
      backend,
      { x: src, filter: rotated },
      { strides: [1, 1], dilations: [1, 1], pad, dataFormat: 'NHWC' },
    );
    return checkShape(backend, dx, info.inShape, KERNEL);
  } finally {
    for (const t of temps) release(backend, t);
  }
}

/** [kh, kw, ci, co] -> rotated 180 degrees spatially, laid out [kh, kw, co, ci]. */
function rotateFilter(
  backend: BackendWasm,
  filter: tf.TensorInfo,
  kh: number,
  kw: number,
  ci: number,
  co: number,
): tf.TensorInfo {
  const out = makeF32(backend, [kh, kw, co, ci]);
  const src = heapF32(backend, filter);
  const dst = heapF32(backend, out);
  for (let r = 0; r < kh; r++) {
    for (let c = 0; c < kw; c++) {
      const dstBase = (r * kw + c) * co * ci;
      const srcBase = ((kh - 1 - r) * kw + (kw - 1 - c)) * ci * co;
      for (let i = 0; i < ci; i++) {
        const s = srcBase + i * co;
        for (let o = 0; o < co; o++) {
          dst[dstBase + o * ci + i] = src[s + o]!;
        }
      }
    }
  }
  return out;
}

/**
 * Places dy[n, r, c] at [n, r * sh + top, c * sw + left] of a zeroed
 * [n, rows, cols, co] grid, i.e. undoes the stride and applies the full
 * padding; entries falling outside the grid (pads wider than the kernel) are
 * exactly the ones that cannot reach dx.
 */
function spreadDy(
  backend: BackendWasm,
  dy: tf.TensorInfo,
  n: number,
  oh: number,
  ow: number,
  co: number,
  rows: number,
  cols: number,
  sh: number,
  sw: number,
  top: number,
  left: number,
): tf.TensorInfo {
  const out = makeF32(backend, [n, rows, cols, co]);
  const src = heapF32(backend, dy);
  const dst = heapF32(backend, out);
  dst.fill(0);
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < oh; r++) {
      const y = r * sh + top;
      if (y < 0 || y >= rows) continue;
      for (let c = 0; c < ow; c++) {
        const x = c * sw + left;
        if (x < 0 || x >= cols) continue;
        const s = ((b * oh + r) * ow + c) * co;
        dst.set(src.subarray(s, s + co), ((b * rows + y) * cols + x) * co);
      }
    }
  }
  return out;
}

/**
 * How many more pixels (dx's h·w against dy's oh·ow) the full correlation may compute before
 * col2im + GEMM beats it when the correlation runs on Winograd: 'same' (1.0) keeps it, 26×26
 * from 24×24 (1.17) takes the GEMM (see the table at the top).
 */
const FULL_MAP_EXCESS = 1.1;

/** Whether col2im + GEMM beats the full correlation for this geometry (see the top). */
export function useGemm(info: tf.backend_util.Conv2DInfo, tuning: AccelTuning): boolean {
  if (!tuning.simd || tuning.convGemm === 'never') return false;
  if (tuning.convGemm === 'always') return true;
  // Strided: the full correlation runs on dy spread onto a zero grid, sh·sw times the work.
  if (info.strideHeight !== 1 || info.strideWidth !== 1) return true;
  // The full correlation of co channels onto ci over the h×w map, by F(4×4, 3×3) in Conv2D.
  if (
    info.filterHeight === 3 &&
    info.filterWidth === 3 &&
    winograd4Chosen(tuning, info.outChannels, info.inChannels, info.inHeight, info.inWidth)
  ) {
    return false;
  }
  // What the full correlation would run on: a stride-1 convolution of co channels onto h×w.
  const winograd =
    tuning.winograd &&
    info.filterHeight === 3 &&
    info.filterWidth === 3 &&
    winogradPaysFor(info.outChannels, info.inHeight, info.inWidth);
  return (
    !winograd || info.inHeight * info.inWidth > FULL_MAP_EXCESS * info.outHeight * info.outWidth
  );
}

export function conv2DBackpropInputConfig(tuning: AccelTuning): tf.KernelConfig {
  return wasmKernelConfig<InputGradAttrs>(KERNEL, (args) => conv2DBackpropInputWasm(args, tuning));
}
