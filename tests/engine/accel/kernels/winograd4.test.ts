import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../../src-main/engine/random';
import {
  conv2DWinograd4,
  filterGradWinograd4,
  inputGradWinograd4,
  offTheSets,
  tileUse4,
  winograd4Chosen,
  winograd4Geometry,
  winograd4Pays,
} from '../../../../src-main/engine/accel/kernels/winograd4';
import { pickStrategy } from '../../../../src-main/engine/accel/kernels/Conv2DBackpropFilter';
import { useGemm } from '../../../../src-main/engine/accel/kernels/Conv2DBackpropInput';
import {
  accelTuning,
  DEFAULT_TUNING,
  registerAccelKernels,
  unregisterAccelKernels,
} from '../../../../src-main/engine/accel/index';
import type { AccelTuning } from '../../../../src-main/engine/accel/tuning';
import { type BackendWasm, heapF32, release } from '../../../../src-main/engine/accel/wasm-backend';

/**
 * Tolerance, relative to Σ|a|·|b| over each output's terms (the scale any rounding of the sum
 * is proportional to; see Conv2D.test.ts). F(4×4, 3×3)'s transforms multiply by up to 8 (Aᵀ),
 * 5 (Bᵀ) and 1/24 (G), so its error is larger than F(2×2)'s 1e-6. Measured worst case on these
 * cases: 2.2e-6 (the test prints it), so 1e-5 leaves 4x room. A wrong tap, tile, edge or channel is an error of the order of the
 * scale itself and fails by four orders of magnitude or more.
 */
const REL_TOL = 1e-5;

let backend: BackendWasm;
beforeAll(async () => {
  await tf.setBackend('wasm');
  backend = tf.backend() as BackendWasm;
});

type Padding = 'valid' | 'same' | tf.backend_util.ExplicitPadding;

interface Case {
  name: string;
  x: [number, number, number, number];
  co: number;
  pad: Padding;
}

const CASES: Case[] = [
  { name: 'cnn conv2: 13×13×32 → 11×11×64', x: [3, 13, 13, 32], co: 64, pad: 'valid' },
  {
    name: "the cnn's input gradient: 11×11×64 → 13×13×32, full",
    x: [2, 11, 11, 64],
    co: 32,
    pad: [
      [0, 0],
      [2, 2],
      [2, 2],
      [0, 0],
    ],
  },
  { name: 'odd map, channel tails (5 → 7)', x: [2, 9, 10, 5], co: 7, pad: 'valid' },
  { name: "'same', 14×14, 3 → 9", x: [2, 14, 14, 3], co: 9, pad: 'same' },
  {
    name: 'uneven explicit padding',
    x: [1, 8, 6, 4],
    co: 4,
    pad: [
      [0, 0],
      [2, 0],
      [0, 1],
      [0, 0],
    ],
  },
  { name: 'one input channel', x: [2, 7, 7, 1], co: 6, pad: 'valid' },
  { name: 'a 1×1 output', x: [3, 3, 3, 2], co: 3, pad: 'valid' },
];

function random(length: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length }, () => r() * 2 - 1);
}

function info(c: Case): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(c.x, [3, 3, c.x[3], c.co], 1, 1, c.pad);
}

/** y, dw and dx summed in float64 with Σ|·||·| beside each, from the definition. */
function reference(c: Case, x: Float32Array, w: Float32Array, dy: Float32Array) {
  const i = info(c);
  const { batchSize: n, inHeight: h, inWidth: wd, inChannels: ci, outChannels: co } = i;
  const { outHeight: oh, outWidth: ow } = i;
  const pt = i.padInfo.top;
  const pl = i.padInfo.left;
  const y = new Float64Array(n * oh * ow * co);
  const ys = new Float64Array(y.length);
  const dw = new Float64Array(9 * ci * co);
  const dws = new Float64Array(dw.length);
  const dx = new Float64Array(x.length);
  const dxs = new Float64Array(x.length);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let r = 0; r < 3; r++)
          for (let s = 0; s < 3; s++) {
            const yy = oy + r - pt;
            const xx = ox + s - pl;
            if (yy < 0 || yy >= h || xx < 0 || xx >= wd) continue;
            for (let cc = 0; cc < ci; cc++) {
              const xi = ((b * h + yy) * wd + xx) * ci + cc;
              const xv = x[xi]!;
              for (let o = 0; o < co; o++) {
                const wi = ((r * 3 + s) * ci + cc) * co + o;
                const yi = ((b * oh + oy) * ow + ox) * co + o;
                y[yi]! += xv * w[wi]!;
                ys[yi]! += Math.abs(xv * w[wi]!);
                dw[wi]! += xv * dy[yi]!;
                dws[wi]! += Math.abs(xv * dy[yi]!);
                dx[xi]! += dy[yi]! * w[wi]!;
                dxs[xi]! += Math.abs(dy[yi]! * w[wi]!);
              }
            }
          }
  return { y, ys, dw, dws, dx, dxs, outShape: [n, oh, ow, co] };
}

/** The worst |got − want| / scale (Infinity for a NaN where the reference has a number). */
function worst(got: ArrayLike<number>, want: Float64Array, scale: Float64Array): number {
  expect(got.length).toBe(want.length);
  let err = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i]! - want[i]!) / Math.max(scale[i]!, 1e-30);
    err = Number.isNaN(e) ? Infinity : Math.max(err, e);
  }
  return err;
}

function tensor(data: Float32Array, shape: number[]): tf.Tensor {
  return tf.tensor(data, shape, 'float32');
}

/** Runs a pass on our kernels and reads its output back, releasing it. */
function read(out: tf.TensorInfo): Float32Array {
  const values = heapF32(backend, out).slice();
  release(backend, out);
  return values;
}

const TUNINGS: Array<[string, Readonly<AccelTuning>]> = [
  ['relaxed build', accelTuning({ winograd4: 'always' })],
  ['SIMD128 build', accelTuning({ winograd4: 'always', relaxedSimd: false })],
  // 4 tiles a pass (the least): many passes, the last one partial.
  ['small passes', accelTuning({ winograd4: 'always', winograd4PassBytes: 1 })],
];

let seen = 0;
afterAll(() => console.log(`winograd4: worst error seen ${seen.toExponential(2)}·Σ|a||b|`));

describe('Winograd F(4×4, 3×3)', () => {
  for (const [label, tuning] of TUNINGS) {
    for (const c of CASES) {
      it(`matches the definition (${label}): ${c.name}`, () => {
        const g = winograd4Geometry(info(c));
        const x = random(
          c.x.reduce((a, b) => a * b),
          1,
        );
        const w = random(9 * c.x[3] * c.co, 2);
        const ref0 = reference(c, x, w, new Float32Array(g.n * g.oh * g.ow * g.co));
        const dy = random(ref0.y.length, 3);
        const ref = reference(c, x, w, dy);
        const xt = tensor(x, c.x);
        const wt = tensor(w, [3, 3, c.x[3], c.co]);
        const dyt = tensor(dy, ref.outShape);
        try {
          const y = read(conv2DWinograd4(backend, xt, wt, g, tuning));
          const dw = read(filterGradWinograd4(backend, xt, dyt, g, tuning));
          const dx = read(inputGradWinograd4(backend, dyt, wt, g, tuning));
          const errors = [
            worst(y, ref.y, ref.ys),
            worst(dw, ref.dw, ref.dws),
            worst(dx, ref.dx, ref.dxs),
          ];
          for (const e of errors) {
            seen = Math.max(seen, e);
            expect(e).toBeLessThan(REL_TOL);
          }
        } finally {
          tf.dispose([xt, wt, dyt]);
        }
      });
    }
  }

  it('is what tf.conv2d and its gradients run once the kernels are registered', () => {
    const c = CASES[0]!;
    const x = random(
      c.x.reduce((a, b) => a * b),
      4,
    );
    const w = random(9 * c.x[3] * c.co, 5);
    const g = winograd4Geometry(info(c));
    const dy = random(g.n * g.oh * g.ow * g.co, 6);
    const ref = reference(c, x, w, dy);
    registerAccelKernels(DEFAULT_TUNING);
    try {
      const [y, dx, dw] = tf.tidy(() => {
        const xt = tensor(x, c.x) as tf.Tensor4D;
        const wt = tensor(w, [3, 3, c.x[3], c.co]) as tf.Tensor4D;
        const dyt = tensor(dy, ref.outShape) as tf.Tensor4D;
        return [
          tf.conv2d(xt, wt, 1, 'valid').dataSync().slice(),
          tf.conv2dTranspose(dyt, wt, c.x, 1, 'valid').dataSync().slice(),
          tf
            .grad((f: tf.Tensor) =>
              tf.sum(tf.mul(tf.conv2d(xt, f as tf.Tensor4D, 1, 'valid'), dyt)),
            )(wt)
            .dataSync()
            .slice(),
        ];
      });
      expect(worst(y!, ref.y, ref.ys)).toBeLessThan(REL_TOL);
      expect(worst(dx!, ref.dx, ref.dxs)).toBeLessThan(REL_TOL);
      expect(worst(dw!, ref.dw, ref.dws)).toBeLessThan(REL_TOL);
      // Without F(4×4) the same calls take other paths, whose error is far smaller: the
      // comparison below shows these results are Winograd F(4×4)'s.
      registerAccelKernels(accelTuning({ winograd4: 'never' }));
      const yOther = tf.tidy(() =>
        tf
          .conv2d(
            tensor(x, c.x) as tf.Tensor4D,
            tensor(w, [3, 3, c.x[3], c.co]) as tf.Tensor4D,
            1,
            'valid',
          )
          .dataSync()
          .slice(),
      );
      expect(Array.from(yOther)).not.toEqual(Array.from(y!));
    } finally {
      unregisterAccelKernels();
    }
  });

  it('never swallows a NaN: an output whose window holds one is NaN', () => {
    const c = CASES[2]!;
    const g = winograd4Geometry(info(c));
    const x = random(
      c.x.reduce((a, b) => a * b),
      7,
    );
    // Pixel (b 1, row 4, column 5), channel 2: inside the windows of outputs (2..4, 3..5).
    x[((1 * c.x[1] + 4) * c.x[2] + 5) * c.x[3] + 2] = NaN;
    const w = random(9 * c.x[3] * c.co, 8);
    const dy = random(g.n * g.oh * g.ow * g.co, 9);
    const xt = tensor(x, c.x);
    const wt = tensor(w, [3, 3, c.x[3], c.co]);
    const dyt = tensor(dy, [g.n, g.oh, g.ow, g.co]);
    try {
      const tuning = accelTuning({ winograd4: 'always' });
      const y = read(conv2DWinograd4(backend, xt, wt, g, tuning));
      const dw = read(filterGradWinograd4(backend, xt, dyt, g, tuning));
      expect(y[((1 * g.oh + 3) * g.ow + 4) * g.co + 0]).toBeNaN();
      // Every filter entry of channel 2 multiplies the NaN pixel somewhere.
      for (let k = 0; k < 9; k++) expect(dw[(k * c.x[3] + 2) * c.co + 1]).toBeNaN();
      // Image 0 holds no NaN.
      expect(y.subarray(0, g.oh * g.ow * g.co).every(Number.isFinite)).toBe(true);
    } finally {
      tf.dispose([xt, wt, dyt]);
    }
  });
});

describe('where F(4×4, 3×3) runs', () => {
  it('pays with 16 or more channels on maps its 4×4 tiles mostly cover', () => {
    expect(tileUse4(11, 11)).toBeCloseTo(121 / 144);
    expect(tileUse4(13, 13)).toBeCloseTo(169 / 256);
    expect(winograd4Pays(32, 64, 11, 11)).toBe(true); // cnn conv2
    expect(winograd4Pays(64, 32, 13, 13)).toBe(true); // its input gradient
    expect(winograd4Pays(32, 32, 26, 26)).toBe(true); // cnn-strong
    expect(winograd4Pays(64, 128, 3, 3)).toBe(false); // cnn-fast conv3
    expect(winograd4Pays(128, 64, 5, 5)).toBe(false); // its input gradient
    expect(winograd4Pays(1, 32, 26, 26)).toBe(false); // a first layer
    expect(winograd4Pays(32, 8, 26, 26)).toBe(false);
  });

  it("never puts a pass's matrices a multiple of 4 kB apart", () => {
    expect(offTheSets(48, 1152, [32, 64])).toBe(47); // 48·64 floats = 12 kB
    expect(offTheSets(18, 1152, [32, 64])).toBe(18); // 4.5 kB
    expect(offTheSets(256, 4000, [32, 32])).toBe(255); // F(2×2)'s 1 MB pass on 32 channels
    expect(offTheSets(48, 48, [64])).toBe(48); // one pass holds every tile: nothing follows it
  });

  it('follows the tuning', () => {
    expect(winograd4Chosen(accelTuning({ winograd4: 'always' }), 1, 2, 3, 3)).toBe(true);
    expect(winograd4Chosen(accelTuning({ winograd4: 'never' }), 32, 64, 11, 11)).toBe(false);
    expect(winograd4Chosen(accelTuning({ simd: false }), 32, 64, 11, 11)).toBe(false);
    expect(winograd4Chosen(DEFAULT_TUNING, 32, 64, 11, 11)).toBe(true);
  });

  it("routes the cnn conv2's filter and input gradients through it", () => {
    const g = (ci: number, pad: number, sh = 1) => ({
      n: 128,
      h: 13,
      w: 13,
      ci,
      oh: 11,
      ow: 11,
      co: 64,
      kh: 3,
      kw: 3,
      sh,
      sw: sh,
      padTop: pad,
      padLeft: pad,
    });
    expect(pickStrategy(g(32, 0), DEFAULT_TUNING)).toBe('winograd');
    expect(pickStrategy(g(32, 0, 2), DEFAULT_TUNING)).toBe('gemm');
    expect(pickStrategy(g(32, 0), accelTuning({ winograd4: 'never' }))).toBe('gemm');
    const cnn = tf.backend_util.computeConv2DInfo([2, 13, 13, 32], [3, 3, 32, 64], 1, 1, 'valid');
    expect(useGemm(cnn, DEFAULT_TUNING)).toBe(false);
    expect(useGemm(cnn, accelTuning({ winograd4: 'never' }))).toBe(true);
  });
});
