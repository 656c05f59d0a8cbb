import type * as tf from '@tensorflow/tfjs';
import { simdKernelsFor, type WinogradLayout } from '../native/simd/module';
import type { AccelTuning } from '../tuning';
import { type BackendWasm, heapF32, offsets, withScratch } from '../wasm-backend';

/**
 * Winograd F(4×4, 3×3) for a stride-1 3×3 convolution, NHWC float32: each 4×4 output tile costs
 * 36 multiplies per (ci, co) pair instead of 144, 4x fewer against 2.25x for F(2×2, 3×3)
 * (Conv2D.ts). In the transformed domain a pass is 36 independent matrix products:
 *
 *   forward          M[k] = V[k] · U[k]          [tiles, ci]·[ci, co]    (our gemm)
 *   filter gradient  dU[k] = Σ V[k]ᵀ · G[k]       [ci, tiles]·[tiles, co] (our gemm)
 *
 * with V the input's transform, U = G g Gᵀ the filter's and G the transform of dy's tiles; the
 * filter gradient goes back as Gᵀ dU G (all in native/simd/winograd4.c, generated with the
 * matrices by generate-winograd.ts). The input gradient is a forward pass of dy with the rotated filter (Conv2DBackpropInput.ts),
 * so it takes this path through Conv2D.
 *
 * Rounding: the transforms multiply by up to 8 and 1/24, so the error is larger than F(2×2)'s:
 * tests/engine/accel/kernels/winograd4.test.ts bounds it against the definition summed in
 * float64 (2.2e-6·Σ|x|·|w| at worst seen, against ~1e-7 for the GEMM).
 */

/**
 * Whether F(4×4, 3×3) should run a 3×3 stride-1 convolution of ci channels onto co over an oh×ow
 * map (by the tuning's mode; 'auto' is the measured rule below). It applies only with our SIMD
 * kernels.
 */
export function winograd4Chosen(
  tuning: AccelTuning,
  ci: number,
  co: number,
  oh: number,
  ow: number,
): boolean {
  if (!tuning.simd || tuning.winograd4 === 'never') return false;
  if (tuning.winograd4 === 'always') return true;
  return winograd4Pays(ci, co, oh, ow);
}

/**
 * The rule: enough channels for the 36 products to outweigh the transforms, and a map whose 4×4
 * tiles are mostly used. F(4×4) against our GEMM (AccelTuning.winograd4 'always' vs 'never',
 * convGemm 'always'), ms, batch 128, one thread, calls interleaved, load average 5.4
 * (`bench/kernels.ts --gemm`, 2026-11-30):
 *
 *   layer                       tile use   forward        input grad     filter grad
 *   cnn conv2 13×13 32→64         0.84     22.0 → 13.9    23.3 → 18.6    19.0 → 8.3
 *   strong 26×26 32→32            0.84     39.1 → 16.0    44.2 → 24.5    76.4 → 22.9
 *   strong 12×12 32→64            1.00     16.4 → 12.0    19.0 → 11.1    20.0 → 14.0
 *   strong 10×10 64→64            0.69     24.5 → 11.8    28.8 → 17.7    27.4 → 8.5
 *   'same' 14×14 32→64            0.77     34.5 → 20.6    37.2 → 18.8    36.9 → 13.9
 *   fast conv3 5×5 64→128         0.39      4.6 → 5.2      5.0 → 15.9     5.1 → 7.8
 *   cnn conv1 28×28 1→32          0.95      4.0 → 10.9        —          13.9 → 8.4 (direct: 3.6)
 *
 * (The input gradient's map is the input's: 13×13 for the cnn's conv2, tile use 0.66.) The
 * first layer's one channel and cnn-fast's 3×3 and 5×5 maps stay on the GEMM or direct sums.
 */
export function winograd4Pays(ci: number, co: number, oh: number, ow: number): boolean {
  return ci >= MIN_CHANNELS && co >= MIN_CHANNELS && tileUse4(oh, ow) >= MIN_TILE_USE;
}
const MIN_CHANNELS = 16;
const MIN_TILE_USE = 0.6;

/** The share of the 4×4 tiles' outputs that land on an oh×ow map. */
export function tileUse4(oh: number, ow: number): number {
  return (oh * ow) / (16 * Math.ceil(oh / 4) * Math.ceil(ow / 4));
}

/** The tiles of 4×4 outputs on an oh×ow map. */
export function tiles4(oh: number, ow: number): { th: number; tw: number } {
  return { th: Math.ceil(oh / 4), tw: Math.ceil(ow / 4) };
}

/** Matrix k of a pass as [36][pass][c] (see WinogradLayout). */
function plainLayout(pass: number, c: number): WinogradLayout {
  return [pass * c, c, Math.max(1, Math.ceil(c / 4)), 0];
}

/** k per block of gemm (see conv-gemm.ts): both operands' panels stay in L1. */
const KC = 512;
/** Floats of a B operand packed for gemm: ⌈n/8⌉ panels of k·8. */
const packedB = (k: number, n: number): number => Math.ceil(n / 8) * 8 * Math.max(1, k);
/** Floats of an A operand packed for gemm: ⌈m/4⌉ panels of k·4. */
const packedA = (m: number, k: number): number => Math.ceil(m / 4) * 4 * Math.max(1, k);

/**
 * Tiles per pass: the transformed tiles of one pass (36·tiles·(ci + co) floats) fit passBytes.
 * A transform stores each tile's 36 values one matrix apart: matrices a multiple of 4 kB apart
 * land in one L1 set and evict each other, so such a count is cut by one. cnn conv2's dy
 * transform, batch 128, by tiles a pass: 18 1.7 ms, 47 1.4, 48 (12 kB apart) 6.9, 95 1.3, 96
 * 5.8 (one thread, load ~4, 2026-11-30).
 */
function passTiles(tiles: number, ci: number, co: number, passBytes: number): number {
  const pass = Math.max(4, Math.min(tiles, Math.floor(passBytes / (144 * (ci + co)))));
  return offTheSets(pass, tiles, [ci, co]);
}

/**
 * `pass` tiles a pass, one fewer when a matrix of `pass` rows of some count of channels is a
 * multiple of 4 kB (see passTiles); F(2×2, 3×3)'s passes (Conv2D.ts) store their 16 matrices
 * the same way.
 */
export function offTheSets(pass: number, tiles: number, channels: number[]): number {
  const aliased = channels.some((c) => (pass * c * 4) % 4096 === 0);
  return pass > 1 && pass < tiles && aliased ? pass - 1 : pass;
}

/** The output's 4×4 tiles (th rows of tw, over n images) and how many a pass takes. */
function tilePlan(g: Winograd4Geometry, tuning: AccelTuning) {
  const { th, tw } = tiles4(g.oh, g.ow);
  const tiles = g.n * th * tw;
  return { th, tw, tiles, pass: passTiles(tiles, g.ci, g.co, tuning.winograd4PassBytes) };
}

/** The geometry the F(4×4) passes take (from tfjs' Conv2DInfo of the forward convolution). */
export interface Winograd4Geometry {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  oh: number;
  ow: number;
  pt: number;
  pl: number;
}

export function winograd4Geometry(info: tf.backend_util.Conv2DInfo): Winograd4Geometry {
  return {
    n: info.batchSize,
    h: info.inHeight,
    w: info.inWidth,
    ci: info.inChannels,
    co: info.outChannels,
    oh: info.outHeight,
    ow: info.outWidth,
    pt: info.padInfo.top,
    pl: info.padInfo.left,
  };
}

/** y = conv2d(x, filter) by Winograd F(4×4, 3×3). */
export function conv2DWinograd4(
  backend: BackendWasm,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  g: Winograd4Geometry,
  tuning: AccelTuning,
): tf.TensorInfo {
  const { n, h, w, ci, co, oh, ow, pt, pl } = g;
  const { th, tw, tiles, pass } = tilePlan(g, tuning);
  const k = simdKernelsFor(backend, tuning);
  return withScratch(backend, [n, oh, ow, co], (out, scratch) => {
    const v = scratch([36, pass, ci]);
    const m = scratch([36, pass, co]);
    const u = scratch([36, ci, co]);
    const up = scratch([36, packedB(ci, co)]);
    const ap = scratch([packedA(pass, ci)]);
    // zero: the input patch outside the image; dump: outputs past the edge.
    const zero = scratch([ci]);
    const dump = scratch([co]);
    // Views only now: every allocation above may have grown (and detached) the heap.
    heapF32(backend, zero).fill(0);
    const at = offsets(backend);
    k.winograd4_filter(at(filter), at(u), ci * co);
    const [vAt, mAt, uAt, upAt, apAt] = [at(v), at(m), at(u), at(up), at(ap)];
    const upStride = packedB(ci, co) * 4;
    for (let q = 0; q < 36; q++) k.pack_b(uAt + q * ci * co * 4, co, ci, co, upAt + q * upStride);
    for (let t0 = 0; t0 < tiles; t0 += pass) {
      const t1 = Math.min(tiles, t0 + pass);
      const rows = t1 - t0;
      const layout = plainLayout(pass, ci);
      k.winograd4_input(at(x), at(zero), vAt, h, w, ci, th, tw, pt, pl, t0, t1, ...layout);
      // M[q] = V[q]·U[q], V[q] row-major [rows, ci] packed on the way (steps in floats).
      const [vStep, uStep, mStep] = [pass * ci, upStride / 4, pass * co];
      k.gemm_batch(vAt, vStep, ci, apAt, upAt, uStep, mAt, mStep, co, rows, co, ci, 0, KC, 36);
      k.winograd4_output(mAt, at(out), at(dump), oh, ow, co, th, tw, t0, t1, pass);
    }
  });
}

/**
 * dx = Conv2DBackpropInput(dy, filter) for a stride-1 3×3 filter, by Winograd F(4×4, 3×3) run
 * backwards over the forward pass's tiles: dM = A dY Aᵀ, dV[q] = dM[q]·U[q]ᵀ, and each tile's
 * 6×6 patch gradient B dV Bᵀ added into dx. The cnn's conv2 takes 9 tiles an image this way
 * (its 11×11 output); as the full correlation of dy onto the 13×13 input it took 16.
 */
export function inputGradWinograd4(
  backend: BackendWasm,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  g: Winograd4Geometry,
  tuning: AccelTuning,
): tf.TensorInfo {
  const { n, h, w, ci, co, oh, ow, pt, pl } = g;
  const { th, tw, tiles, pass } = tilePlan(g, tuning);
  const k = simdKernelsFor(backend, tuning);
  return withScratch(backend, [n, h, w, ci], (dx, scratch) => {
    const dm = scratch([36, pass, co]);
    const dv = scratch([36, pass, ci]);
    const u = scratch([36, ci, co]);
    const ut = scratch([36, packedB(co, ci)]);
    const ap = scratch([packedA(pass, co)]);
    const zero = scratch([co]);
    const dump = scratch([ci]);
    heapF32(backend, zero).fill(0);
    heapF32(backend, dx).fill(0);
    const at = offsets(backend);
    k.winograd4_filter(at(filter), at(u), ci * co);
    const [dmAt, dvAt, uAt, utAt, apAt] = [at(dm), at(dv), at(u), at(ut), at(ap)];
    // U[q]ᵀ as gemm's B operand: [co, ci], from U[q] stored [ci][co].
    const utStep = packedB(co, ci);
    for (let q = 0; q < 36; q++)
      k.pack_bt(uAt + q * ci * co * 4, co, co, ci, utAt + q * utStep * 4);
    for (let t0 = 0; t0 < tiles; t0 += pass) {
      const t1 = Math.min(tiles, t0 + pass);
      const rows = t1 - t0;
      k.winograd4_gradient(
        at(dy),
        at(zero),
        dmAt,
        oh,
        ow,
        co,
        th,
        tw,
        t0,
        t1,
        ...plainLayout(pass, co),
      );
      // dV[q] = dM[q]·U[q]ᵀ, dM[q] row-major [rows, co] packed on the way.
      const [mStep, vStep] = [pass * co, pass * ci];
      k.gemm_batch(dmAt, mStep, co, apAt, utAt, utStep, dvAt, vStep, ci, rows, ci, co, 0, KC, 36);
      k.winograd4_input_gradient(dvAt, at(dx), at(dump), h, w, ci, th, tw, pt, pl, t0, t1, pass);
    }
  });
}

/** dw = Conv2DBackpropFilter(x, dy) for a stride-1 3×3 filter, by Winograd F(4×4, 3×3). */
export function filterGradWinograd4(
  backend: BackendWasm,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  g: Winograd4Geometry,
  tuning: AccelTuning,
): tf.TensorInfo {
  const { h, w, ci, co, oh, ow, pt, pl } = g;
  const { th, tw, tiles, pass } = tilePlan(g, tuning);
  const k = simdKernelsFor(backend, tuning);
  return withScratch(backend, [3, 3, ci, co], (out, scratch) => {
    const v = scratch([36, pass, ci]);
    const gr = scratch([36, pass, co]);
    const du = scratch([36, ci, co]);
    const ap = scratch([packedA(ci, pass)]);
    const bp = scratch([packedB(pass, co)]);
    const zero = scratch([Math.max(ci, co)]);
    heapF32(backend, zero).fill(0);
    const at = offsets(backend);
    const [vAt, gAt, duAt, apAt, bpAt] = [at(v), at(gr), at(du), at(ap), at(bp)];
    // With whole panels (ci a multiple of 4, co of 8) the transforms write V[q]ᵀ and G[q] as
    // gemm's packed operands; otherwise plainly, for pack_a and pack_b to pad the last panel.
    const packed = ci % 4 === 0 && co % 8 === 0;
    for (let t0 = 0; t0 < tiles; t0 += pass) {
      const t1 = Math.min(tiles, t0 + pass);
      const rows = t1 - t0;
      const vLayout: WinogradLayout = packed ? [pass * ci, 4, 1, 4 * rows] : plainLayout(pass, ci);
      const gLayout: WinogradLayout = packed ? [pass * co, 8, 2, 8 * rows] : plainLayout(pass, co);
      k.winograd4_input(at(x), at(zero), vAt, h, w, ci, th, tw, pt, pl, t0, t1, ...vLayout);
      k.winograd4_gradient(at(dy), at(zero), gAt, oh, ow, co, th, tw, t0, t1, ...gLayout);
      const acc = t0 > 0 ? 1 : 0;
      if (packed) {
        // dU[q] += V[q]ᵀ·G[q], both operands packed by the transforms.
        const [vStep, gStep, uStep] = [pass * ci, pass * co, ci * co];
        k.gemm_batch(vAt, vStep, 0, 0, gAt, gStep, duAt, uStep, co, ci, co, rows, acc, KC, 36);
      } else {
        for (let q = 0; q < 36; q++) {
          // V[q]ᵀ: element (c, t) at V[q][t][c].
          k.pack_a(vAt + q * pass * ci * 4, 1, ci, ci, rows, apAt);
          k.pack_b(gAt + q * pass * co * 4, co, rows, co, bpAt);
          k.gemm(apAt, bpAt, duAt + q * ci * co * 4, co, ci, co, rows, acc, KC);
        }
      }
    }
    k.winograd4_filter_gradient(duAt, at(out), ci * co);
  });
}
