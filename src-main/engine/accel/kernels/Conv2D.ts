// The built-in Conv2D (kept as the fallback below) must be registered before this module loads.
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { Conv2D, type Conv2DAttrs } from '@tensorflow/tfjs-core';
import { simdKernels } from '../native/simd/module';
import { XnnMatMul } from '../native/xnnpack/mat-mul';
import type { AccelTuning } from '../tuning';
import { type ConvGeometry, conv2DDirect, conv2DGemm, convGeometry } from './conv-gemm';
import { conv2DWinograd4, offTheSets, winograd4Chosen, winograd4Geometry } from './winograd4';
import {
  type BackendWasm,
  type Shape4D,
  type WasmKernelArgs,
  heapF32,
  runBuiltin,
  wasmKernelConfig,
  offsets,
  withScratch,
} from '../wasm-backend';

/**
 * Winograd F(2×2, 3×3) forward convolution for NHWC float32, stride 1, dilation 1, 3×3 filters,
 * any padding: each 2×2 output tile costs 16 multiplies per (ci, co) pair instead of 36. In the
 * transformed domain the convolution is 16 independent products M[k] = V[k] · U[k]
 * ([tiles, ci]·[ci, co]), run on XNNPACK's matmul (the backend's BatchMatMul only reaches
 * XNNPACK for a batch of 1, hence 16 calls); the input and output transforms are SIMD kernels of
 * ours (native/simd/winograd.c: winograd_input, winograd_output); the filter transform (16·ci·co values) is
 * done here per call, as the filter changes every step.
 *
 * Measured against the built-in (XNNPACK direct) Conv2D, one thread, median ms
 * (`node --no-liftoff --import tsx bench/kernels.ts --winograd`):
 *
 *                                        built-in   Winograd
 *   cnn conv2 x[64,13,13,32] 3×3→64          8.0        5.7      1.39x
 *   cnn conv2 x[128,13,13,32] 3×3→64        16.0       10.5      1.52x
 *   cnn conv2 dx, dy[128,11,11,64]→32       22.6       14.1      1.60x   (full padding)
 *   cnn-strong x[128,26,26,32] 3×3→32       38.0       27.1      1.40x
 *   cnn conv1 x[128,28,28,1] 3×3→32          3.1        4.3      0.71x   (left to the GEMM)
 *
 * One run of four had Winograd at 0.8x on every case after its first, the built-in unchanged;
 * not reproduced in the runs since. The cnn's 11×11 output wastes 16 % of the tiles' outputs
 * (6×6 tiles of 2×2 for 11×11), so the multiply saving there is 1.9x, not 2.25x.
 *
 * Rounding: the transforms add and subtract transformed values larger than the output, so the
 * result is not bit-equal to a direct convolution; tests/engine/accel/kernels/Conv2D.test.ts bounds the
 * error at 1e-6·Σ|x|·|w| per output (3.4e-7 seen).
 */

/** tfjs' attributes, with the ones direct runKernel callers may leave out optional. */
export type ConvAttrs = Omit<Conv2DAttrs, 'dataFormat' | 'dilations'> &
  Partial<Pick<Conv2DAttrs, 'dataFormat' | 'dilations'>>;

/** The geometry when Winograd F(2×2, 3×3) applies to this Conv2D call, else null. */
export function winogradGeometry(
  x: tf.TensorInfo | undefined,
  filter: tf.TensorInfo | undefined,
  attrs: ConvAttrs,
): tf.backend_util.Conv2DInfo | null {
  if (x === undefined || filter === undefined) return null;
  if (x.dtype !== 'float32' || filter.dtype !== 'float32') return null;
  if (x.shape.length !== 4 || filter.shape.length !== 4) return null;
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') return null;
  const d = attrs.dilations ?? 1;
  if (!(typeof d === 'number' ? d === 1 : d.every((v) => v === 1))) return null;
  const s = attrs.strides;
  if (!(typeof s === 'number' ? s === 1 : s.every((v) => v === 1))) return null;
  if (filter.shape[0] !== 3 || filter.shape[1] !== 3) return null;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as Shape4D,
    filter.shape as Shape4D,
    1,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const { batchSize: n, inChannels: ci, outChannels: co, outHeight: oh, outWidth: ow } = info;
  if (n * ci * co * oh * ow === 0) return null;
  // Negative padding (an explicit pad can crop) would need the patch origin below -pad.
  if (info.padInfo.top < 0 || info.padInfo.left < 0) return null;
  return info;
}

/** U[k][c][o] = (G g Gᵀ)[k] for g = filter[:, :, c, o], G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]. */
function transformFilter(src: Float32Array, dst: Float32Array, ci: number, co: number): void {
  const cc = ci * co;
  for (let e = 0; e < cc; e++) {
    const g = (i: number, j: number) => src[(i * 3 + j) * cc + e]!;
    for (let j = 0; j < 3; j++) {
      // Column j of G·g.
      const a = g(0, j);
      const b = g(1, j);
      const c = g(2, j);
      gg[j] = a;
      gg[3 + j] = (a + b + c) / 2;
      gg[6 + j] = (a - b + c) / 2;
      gg[9 + j] = c;
    }
    for (let r = 0; r < 4; r++) {
      const a = gg[r * 3]!;
      const b = gg[r * 3 + 1]!;
      const c = gg[r * 3 + 2]!;
      const k = r * 4;
      dst[k * cc + e] = a;
      dst[(k + 1) * cc + e] = (a + b + c) / 2;
      dst[(k + 2) * cc + e] = (a - b + c) / 2;
      dst[(k + 3) * cc + e] = c;
    }
  }
}
const gg = new Float64Array(12);

const matmuls = new WeakMap<BackendWasm, XnnMatMul>();

/** y = conv2d(x, filter) by Winograd F(2×2, 3×3); `info` from winogradGeometry. */
export function conv2DWinograd(
  backend: BackendWasm,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  passBytes: number,
): tf.TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info;
  const { outHeight: oh, outWidth: ow } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const th = Math.ceil(oh / 2);
  const tw = Math.ceil(ow / 2);
  const tiles = n * th * tw;
  // Tiles per pass: V and M for one pass (16·tiles·(ci + co) floats) stay in L2 (AccelTuning).
  const rows = Math.max(1, Math.min(tiles, Math.floor(passBytes / (64 * (ci + co)))));
  const pass = offTheSets(rows, tiles, [ci, co]);

  const kernels = simdKernels(backend);
  let mm = matmuls.get(backend);
  if (mm === undefined) {
    mm = new XnnMatMul(backend);
    matmuls.set(backend, mm);
  }
  return withScratch(backend, info.outShape, (out, scratch) => {
    const v = scratch([16, pass, ci]);
    const m = scratch([16, pass, co]);
    const u = scratch([16, ci, co]);
    // zero: the input patch outside the image; dump: outputs past an odd edge.
    const zero = scratch([ci]);
    const dump = scratch([co]);
    // Views only now: every allocation above may have grown (and detached) the heap.
    heapF32(backend, zero).fill(0);
    transformFilter(heapF32(backend, filter), heapF32(backend, u), ci, co);

    const at = offsets(backend);
    const [xAt, vAt, mAt, uAt, outAt] = [at(x), at(v), at(m), at(u), at(out)];
    const ids: Array<[number, number, number]> = [];
    for (let k = 0; k < 16; k++) {
      ids.push([
        mm.register(vAt + k * pass * ci * 4, pass * ci),
        mm.register(uAt + k * ci * co * 4, ci * co),
        mm.register(mAt + k * pass * co * 4, pass * co),
      ]);
    }
    try {
      for (let t0 = 0; t0 < tiles; t0 += pass) {
        const t1 = Math.min(tiles, t0 + pass);
        kernels.winograd_input(xAt, at(zero), vAt, h, w, ci, th, tw, pt, pl, t0, t1, pass);
        for (const [a, b, c] of ids) mm.runRegistered(a, b, c, t1 - t0, ci, co);
        kernels.winograd_output(mAt, outAt, at(dump), oh, ow, co, th, tw, t0, t1, pass);
      }
    } finally {
      // Also frees XNNPACK's packing of this call's U.
      mm.dispose();
    }
  });
}

const KERNEL = Conv2D;
/** The backend's own (XNNPACK) Conv2D, for every call neither the GEMM nor Winograd takes. */
const builtinConv2D = tf.getKernel(KERNEL, 'wasm');

/**
 * Input channels below which the built-in stays faster: with one channel the products have a
 * single term and the transforms are all the work (cnn conv1, x[128,28,28,1] 3×3→32: built-in
 * 3.1 ms, Winograd 4.3). Every layer measured with 32 or more channels gained 1.31–1.60x over
 * four runs; 2 to 31 channels are unmeasured, 16 is a guess between the two.
 */
const MIN_CHANNELS = 16;

/**
 * Output pixels a map needs for Winograd's 2×2 tiles to pay: a 3×3 map takes four tiles (16
 * outputs for 9) and the transforms outweigh the saving. cnn-fast's conv3, x[64,5,5,64] 3×3→128
 * (one thread's share): built-in 5.6 ms, Winograd 9.0; at batch 128 10.6–10.9 vs 12.5. Its input
 * gradient, 5×5 outputs, was mixed (batch 64: 17.8 vs 21.9; 128: 24.7 vs 21.1) and keeps Winograd;
 * 11×11 and larger gain 1.2–1.6x (bench/kernels.ts --winograd, 2026-11-30).
 */
const MIN_OUTPUT_PIXELS = 16;

/** Whether Winograd pays for this geometry (it applies: winogradGeometry gave it). */
export function winogradPays(info: tf.backend_util.Conv2DInfo): boolean {
  return winogradPaysFor(info.inChannels, info.outHeight, info.outWidth);
}

/** winogradPays for a 3×3 stride-1 convolution of ci channels onto an oh×ow map. */
export function winogradPaysFor(ci: number, oh: number, ow: number): boolean {
  return ci >= MIN_CHANNELS && oh * ow >= MIN_OUTPUT_PIXELS;
}

/**
 * The share of Winograd's 2×2 tile outputs that land on the map: 1 for even sizes, 0.84 for
 * the cnn's 11×11. Below MIN_TILE_USE im2col + GEMM (9 multiply-adds an output per channel pair,
 * no transforms; Winograd 4 plus its transforms) beats it: see the table at conv2DWasm, where
 * the 11×11 map (0.84) favours the GEMM and the full maps (1.0) Winograd.
 */
const MIN_TILE_USE = 0.9;

function tileUse(oh: number, ow: number): number {
  return (oh * ow) / (4 * Math.ceil(oh / 2) * Math.ceil(ow / 2));
}

/**
 * The registered Conv2D: Winograd F(4×4, 3×3) where winograd4Chosen says (kernels/winograd4.ts,
 * which has its measurements), then im2col + our GEMM (kernels/conv-gemm.ts) where gemmGeometry
 * takes it, F(2×2, 3×3) Winograd where it applies and pays, the built-in (XNNPACK) elsewhere.
 * The table below predates F(4×4), which now takes every layer in it but conv1 and conv3. With the GEMM on, the
 * built-in runs only what the GEMM does not take (dilations, other layouts). GEMM (relaxed
 * build) against the path it replaces or competes with, batch 128, one thread, three runs
 * (bench/kernels.ts --gemm, load average 6–9, where even identical paths differ by up to 1.3x):
 *
 *   cnn conv1  x[128,28,28,1] →32   built-in    1.80x, 1.21x, 0.84x   (GEMM)
 *   cnn conv2  x[128,13,13,32]→64   Winograd    1.18x, 1.07x, 1.32x   (GEMM: 11×11 map)
 *   fast conv3 x[128,5,5,64]  →128  built-in    1.88x, 2.12x, 2.19x   (GEMM)
 *   strong     x[128,26,26,32]→32   Winograd    0.88x, 0.99x, 0.77x   (Winograd)
 *   strong     x[128,12,12,32]→64   Winograd    0.82x, 0.92x, 0.74x   (Winograd)
 *   'same'     x[128,14,14,32]→64   Winograd    0.81x, 0.65x, 0.88x   (Winograd)
 *
 * The SIMD128 build of the GEMM took 0.9–1.6x the relaxed build's time (mostly 1.2–1.4x).
 */
export function conv2DWasm(args: WasmKernelArgs<ConvAttrs>, tuning: AccelTuning): tf.TensorInfo {
  const ours = ourConv2D(args, tuning);
  return ours ?? runBuiltin(KERNEL, builtinConv2D, args);
}

/**
 * The convolution on our kernels (the direct sum, the GEMM or Winograd, by the rules above), or
 * null where the built-in should run it. FusedConv2D (inference) shares it.
 */
export function ourConv2D(
  { inputs, backend, attrs }: WasmKernelArgs<ConvAttrs>,
  tuning: AccelTuning,
): tf.TensorInfo | null {
  const info = winogradGeometry(inputs.x, inputs.filter, attrs);
  if (
    info !== null &&
    winograd4Chosen(tuning, info.inChannels, info.outChannels, info.outHeight, info.outWidth)
  ) {
    return conv2DWinograd4(backend, inputs.x!, inputs.filter!, winograd4Geometry(info), tuning);
  }
  const gemm = gemmGeometry(inputs.x, inputs.filter, attrs, tuning);
  if (gemm !== null) {
    // One input channel (a first layer): the direct sum, as its filter gradient does.
    return gemm.ci === 1
      ? conv2DDirect(backend, inputs.x!, inputs.filter!, gemm, tuning)
      : conv2DGemm(backend, inputs.x!, inputs.filter!, gemm, tuning);
  }
  if (info !== null && winogradPays(info) && winogradAvailable(backend, tuning)) {
    return conv2DWinograd(backend, inputs.x!, inputs.filter!, info, tuning.winogradPassBytes);
  }
  return null;
}

/** The geometry when im2col + GEMM should run this call (tuning and rule), else null. */
export function gemmGeometry(
  x: tf.TensorInfo | undefined,
  filter: tf.TensorInfo | undefined,
  attrs: ConvAttrs,
  tuning: AccelTuning,
): ConvGeometry | null {
  if (!tuning.simd || tuning.convGemm === 'never') return null;
  if (x === undefined || filter === undefined) return null;
  if (x.dtype !== 'float32' || filter.dtype !== 'float32') return null;
  if (x.shape.length !== 4 || filter.shape.length !== 4) return null;
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') return null;
  const d = attrs.dilations ?? 1;
  if (!(typeof d === 'number' ? d === 1 : d.every((v) => v === 1))) return null;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as Shape4D,
    filter.shape as Shape4D,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  if (info.batchSize * info.inChannels * info.outChannels * info.outHeight * info.outWidth === 0) {
    return null;
  }
  if (tuning.convGemm === 'always') return convGeometry(info);
  const winograd = winogradGeometry(x, filter, attrs);
  if (
    winograd !== null &&
    tuning.winograd &&
    winogradPays(winograd) &&
    tileUse(winograd.outHeight, winograd.outWidth) >= MIN_TILE_USE
  ) {
    return null;
  }
  return convGeometry(info);
}

/**
 * Off when the tuning says so (a before/after in one run), and where our kernels cannot be
 * instantiated on the backend's memory; both leave the built-in, which computes the same.
 */
function winogradAvailable(backend: BackendWasm, tuning: AccelTuning): boolean {
  if (!tuning.simd || !tuning.winograd) return false;
  try {
    simdKernels(backend);
    return true;
  } catch {
    return false;
  }
}

// The built-in's setup binds the wasm function its fallback path calls.
export function conv2DConfig(tuning: AccelTuning): tf.KernelConfig {
  return wasmKernelConfig<ConvAttrs>(KERNEL, (args) => conv2DWasm(args, tuning), builtinConv2D);
}
