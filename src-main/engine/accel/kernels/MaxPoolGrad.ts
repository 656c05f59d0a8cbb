import * as tf from '@tensorflow/tfjs';
import { MaxPoolGrad, type MaxPoolGradAttrs } from '@tensorflow/tfjs-core';
import { simdKernels } from '../native/simd/module';
import type { AccelTuning } from '../tuning';
import {
  type BackendWasm,
  type Shape4D,
  type WasmKernelArgs,
  heapF32,
  makeF32,
  requireInput,
  sameShape,
  wasmKernelConfig,
  offsets,
} from '../wasm-backend';

const KERNEL = MaxPoolGrad;

interface PoolGeometry {
  n: number;
  h: number;
  w: number;
  c: number;
  oh: number;
  ow: number;
  sh: number;
  sw: number;
  fh: number;
  fw: number;
  padTop: number;
  padLeft: number;
}

/**
 * Semantics are those of the CPU backend: each dy value goes to the first
 * element of its window (row-major) that is strictly greater than all
 * before it, starting from -Infinity. So ties, such as all-zero windows
 * after ReLU, go to the top-left candidate, NaNs are never picked, and a
 * window of only -Infinity/NaN routes nothing.
 */
export function maxPoolGradWasm(
  { inputs, backend, attrs }: WasmKernelArgs<MaxPoolGradAttrs>,
  tuning: AccelTuning,
): tf.TensorInfo {
  const dy = requireInput(inputs, 'dy', KERNEL);
  const input = requireInput(inputs, 'input', KERNEL);
  const info = tf.backend_util.computePool2DInfo(
    input.shape as Shape4D,
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const g: PoolGeometry = {
    n: info.batchSize,
    h: info.inHeight,
    w: info.inWidth,
    c: info.inChannels,
    oh: info.outHeight,
    ow: info.outWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    fh: info.effectiveFilterHeight,
    fw: info.effectiveFilterWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
  if (!sameShape(dy.shape, info.outShape)) {
    throw new Error(
      `${KERNEL}: dy shape [${dy.shape.join(',')}] does not match the pooled shape [${info.outShape.join(',')}].`,
    );
  }
  const pooled = inputs['output'];
  const usePooled =
    pooled !== undefined && pooled.dtype === 'float32' && sameShape(pooled.shape, info.outShape);

  const dxInfo = makeF32(backend, input.shape);
  const overlapping = g.sh < g.fh || g.sw < g.fw;
  const inside =
    g.padTop === 0 &&
    g.padLeft === 0 &&
    (g.oh - 1) * g.sh + g.fh <= g.h &&
    (g.ow - 1) * g.sw + g.fw <= g.w;
  if (
    tuning.simd &&
    usePooled &&
    !overlapping &&
    inside &&
    viaSimd(backend, input, pooled, dy, dxInfo, g)
  ) {
    return dxInfo;
  }
  const x = heapF32(backend, input);
  const grad = heapF32(backend, dy);
  const dx = heapF32(backend, dxInfo);
  dx.fill(0);

  if (overlapping) {
    // Several dy values can land on one element; the CPU backend sums them
    // in double precision before rounding, so accumulate the same way.
    const acc = new Float64Array(dx.length);
    scatterExact(x, grad, acc, g);
    dx.set(acc);
  } else {
    // The fast path keeps one bit per window element in an int32 mask.
    const fast =
      usePooled &&
      g.fh * g.fw <= 31 &&
      disjointFromPooled(x, heapF32(backend, pooled), grad, dx, g);
    if (!fast) {
      dx.fill(0);
      scatterExact(x, grad, dx, g);
    }
  }
  return dxInfo;
}

/**
 * The disjoint-window shortcut below, in our SIMD kernel (native/simd/max-pool-grad.c) for
 * windows that all lie inside the input. It writes every element of dx itself, so no zero pass:
 * 1.7–3.7 ms instead of 2.6–10 (the previous kernel and its fill, interleaved, load 3–10) on the
 * cnn's first pool (x[128,26,26,32]). False when some window needs the exact search (dx is
 * then garbage).
 */
function viaSimd(
  backend: BackendWasm,
  input: tf.TensorInfo,
  pooled: tf.TensorInfo,
  dy: tf.TensorInfo,
  dx: tf.TensorInfo,
  g: PoolGeometry,
): boolean {
  const at = offsets(backend);
  const bad = simdKernels(backend).max_pool_grad_disjoint(
    at(input),
    at(pooled),
    at(dy),
    at(dx),
    g.n,
    g.h,
    g.w,
    g.c,
    g.oh,
    g.ow,
    g.fh,
    g.fw,
    g.sh,
    g.sw,
  );
  return bad === 0;
}

/** First strict maximum of one window/channel, by direct comparison. */
function windowArgMax(
  x: Float32Array,
  g: PoolGeometry,
  b: number,
  r: number,
  q: number,
  k: number,
): number {
  const r0 = r * g.sh - g.padTop;
  const q0 = q * g.sw - g.padLeft;
  const yMax = Math.min(g.h, r0 + g.fh);
  const zMin = Math.max(0, q0);
  const zMax = Math.min(g.w, q0 + g.fw);
  let best = Number.NEGATIVE_INFINITY;
  let at = -1;
  for (let y = Math.max(0, r0); y < yMax; y++) {
    let idx = ((b * g.h + y) * g.w + zMin) * g.c + k;
    for (let z = zMin; z < zMax; z++, idx += g.c) {
      const v = x[idx]!;
      if (v > best) {
        best = v;
        at = idx;
      }
    }
  }
  return at;
}

/** Reference-exact path for any geometry; `acc` must start zeroed. */
function scatterExact(
  x: Float32Array,
  grad: Float32Array,
  acc: Float32Array | Float64Array,
  g: PoolGeometry,
): void {
  let gi = 0;
  for (let b = 0; b < g.n; b++) {
    for (let r = 0; r < g.oh; r++) {
      for (let q = 0; q < g.ow; q++) {
        for (let k = 0; k < g.c; k++, gi++) {
          const at = windowArgMax(x, g, b, r, q, k);
          if (at >= 0) acc[at] = acc[at]! + grad[gi]!;
        }
      }
    }
  }
}

/**
 * Fast path for windows that do not overlap (stride >= filter, e.g. the usual
 * 2x2/2). Searching for the maximum with data-dependent branches mispredicts
 * on almost every window; the forward output already holds each window's
 * maximum m, so instead every element is compared with m branch-free into a
 * bit mask whose lowest set bit is the CPU backend's pick. The shortcut is
 * only trusted where it provably agrees with the direct search: a window
 * with no element equal to m (m is NaN, or not from this x) is searched
 * directly, and if any element exceeds its m the whole result is discarded
 * (returns false) so the caller recomputes it directly. `dx` must start zeroed.
 */
function disjointFromPooled(
  x: Float32Array,
  pooled: Float32Array,
  grad: Float32Array,
  dx: Float32Array,
  g: PoolGeometry,
): boolean {
  const { n, h, w, c, oh, ow, sh, sw, fh, fw, padTop, padLeft } = g;
  const offsets = new Int32Array(fh * fw);
  for (let i = 0; i < fh; i++) {
    for (let j = 0; j < fw; j++) offsets[i * fw + j] = (i * w + j) * c;
  }
  const taps = fh * fw;
  let exceeded = 0;
  let gi = 0;
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < oh; r++) {
      const r0 = r * sh - padTop;
      const rowsInside = r0 >= 0 && r0 + fh <= h;
      for (let q = 0; q < ow; q++) {
        const q0 = q * sw - padLeft;
        if (!rowsInside || q0 < 0 || q0 + fw > w) {
          // Border window clipped by padding: rare, search it directly.
          for (let k = 0; k < c; k++, gi++) {
            const at = windowArgMax(x, g, b, r, q, k);
            if (at >= 0) dx[at] = grad[gi]!;
          }
          continue;
        }
        const base = ((b * h + r0) * w + q0) * c;
        if (taps === 4) {
          const o1 = offsets[1]!;
          const o2 = offsets[2]!;
          const o3 = offsets[3]!;
          for (let k = 0; k < c; k++, gi++) {
            const i0 = base + k;
            const m = pooled[gi]!;
            const v0 = x[i0]!;
            const v1 = x[i0 + o1]!;
            const v2 = x[i0 + o2]!;
            const v3 = x[i0 + o3]!;
            const mask = +(v0 === m) | (+(v1 === m) << 1) | (+(v2 === m) << 2) | (+(v3 === m) << 3);
            exceeded |= +(v0 > m) | +(v1 > m) | +(v2 > m) | +(v3 > m);
            // m = -Infinity: nothing beats the search's starting value, so
            // nothing is routed.
            if (mask === 0 || m === Number.NEGATIVE_INFINITY) {
              if (mask === 0) {
                const at = windowArgMax(x, g, b, r, q, k);
                if (at >= 0) dx[at] = grad[gi]!;
              }
              continue;
            }
            dx[i0 + offsets[31 - Math.clz32(mask & -mask)]!] = grad[gi]!;
          }
        } else {
          for (let k = 0; k < c; k++, gi++) {
            const i0 = base + k;
            const m = pooled[gi]!;
            let mask = 0;
            for (let t = 0; t < taps; t++) {
              const v = x[i0 + offsets[t]!]!;
              mask |= +(v === m) << t;
              exceeded |= +(v > m);
            }
            // m = -Infinity: nothing beats the search's starting value, so
            // nothing is routed.
            if (mask === 0 || m === Number.NEGATIVE_INFINITY) {
              if (mask === 0) {
                const at = windowArgMax(x, g, b, r, q, k);
                if (at >= 0) dx[at] = grad[gi]!;
              }
              continue;
            }
            dx[i0 + offsets[31 - Math.clz32(mask & -mask)]!] = grad[gi]!;
          }
        }
      }
    }
  }
  return exceeded === 0;
}

export function maxPoolGradConfig(tuning: AccelTuning): tf.KernelConfig {
  return wasmKernelConfig<MaxPoolGradAttrs>(KERNEL, (args) => maxPoolGradWasm(args, tuning));
}
