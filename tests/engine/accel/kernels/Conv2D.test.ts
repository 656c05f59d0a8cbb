import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../../src-main/engine/random';
import {
  type ConvAttrs,
  conv2DWasm,
  conv2DWinograd,
  gemmGeometry,
  winogradGeometry,
  winogradPays,
} from '../../../../src-main/engine/accel/kernels/Conv2D';
import { type BackendWasm, heapF32, release } from '../../../../src-main/engine/accel/wasm-backend';
import {
  accelTuning,
  DEFAULT_TUNING,
  registerAccelKernels,
  unregisterAccelKernels,
} from '../../../../src-main/engine/accel/index';
import type { AccelTuning } from '../../../../src-main/engine/accel/tuning';
import {
  SMALL_GEMM_BLOCK,
  conv,
  convCases,
  directCases,
  gemmCases,
  sweepCases,
} from './conv-cases';
import { buffers, expectClose, expectNonTrivial, onBackend, randomHost } from '../harness';

/**
 * Tolerance. Winograd adds and subtracts transformed values whose magnitudes exceed the
 * output's, so its error scales with Σ|x|·|w| over each output's window (what cancels in a
 * direct sum can be rounded first), not with |y|. Float32's unit roundoff is 6e-8; F(2×2, 3×3)
 * has up to 9 terms in each transform on top of the ci-long products. Measured worst case on
 * these shapes: 3.4e-7·Σ|x||w| (conv1; 1.5e-7 to 2.5e-7 on the others, the cpu reference's own
 * rounding included), so 1e-6 leaves 3x room while a wrong tap, tile or edge (an error of the
 * order of Σ|x||w| itself) fails by five orders of magnitude.
 */
const REL_TOL = 1e-6;

let backend: BackendWasm;
beforeAll(async () => {
  await tf.setBackend('wasm');
  backend = tf.backend() as BackendWasm;
});
/** Bytes of V and M per Winograd pass (AccelTuning.winogradPassBytes) in `ours`. */
let passBytes = DEFAULT_TUNING.winogradPassBytes;
afterEach(() => (passBytes = DEFAULT_TUNING.winogradPassBytes));

function random(shape: number[], seed: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1);
}

/** tf.conv2d and the window sums Σ|x|·|w| on the pure-JS cpu backend. */
async function reference(
  x: Float32Array,
  xs: number[],
  f: Float32Array,
  fs: number[],
  pad: ConvAttrs['pad'],
): Promise<{ y: Float32Array; scale: Float32Array; shape: number[] }> {
  await tf.setBackend('cpu');
  try {
    const [y, scale, shape] = tf.tidy(() => {
      const xt = tf.tensor4d(x, xs as [number, number, number, number]);
      const ft = tf.tensor4d(f, fs as [number, number, number, number]);
      const yt = tf.conv2d(xt, ft, 1, pad as 'valid');
      const st = tf.conv2d(tf.abs(xt), tf.abs(ft), 1, pad as 'valid');
      return [yt.dataSync() as Float32Array, st.dataSync() as Float32Array, yt.shape] as const;
    });
    return { y, scale, shape };
  } finally {
    await tf.setBackend('wasm');
  }
}

function ours(
  x: Float32Array,
  xs: number[],
  f: Float32Array,
  fs: number[],
  attrs: ConvAttrs,
): { y: Float32Array; shape: number[] } {
  const xt = tf.tensor(x, xs);
  const ft = tf.tensor(f, fs);
  try {
    const info = winogradGeometry(xt, ft, attrs);
    expect(info, 'Winograd should apply').not.toBeNull();
    const out = conv2DWinograd(backend, xt, ft, info!, passBytes);
    const y = heapF32(backend, out).slice();
    const shape = out.shape;
    release(backend, out);
    return { y, shape };
  } finally {
    tf.dispose([xt, ft]);
  }
}

/** Largest |ours − reference| / Σ|x||w| over all outputs. */
async function worstError(xs: number[], fs: number[], pad: ConvAttrs['pad'], seed: number) {
  const x = random(xs, seed);
  const f = random(fs, seed + 1);
  const ref = await reference(x, xs, f, fs, pad);
  const got = ours(x, xs, f, fs, { strides: 1, pad, dataFormat: 'NHWC' });
  expect(got.shape).toEqual(ref.shape);
  let worst = 0;
  for (let i = 0; i < ref.y.length; i++) {
    const err = Math.abs(got.y[i]! - ref.y[i]!) / Math.max(ref.scale[i]!, 1e-30);
    // NaN (an unwritten output) must fail too.
    worst = Number.isNaN(err) ? Infinity : Math.max(worst, err);
  }
  return worst;
}

describe('Winograd F(2×2, 3×3) forward convolution', () => {
  const cases: Array<[string, number[], number[], ConvAttrs['pad']]> = [
    ['cnn conv2: 13×13×32 → 11×11×64 valid', [3, 13, 13, 32], [3, 3, 32, 64], 'valid'],
    ['cnn conv1: 28×28×1 → 26×26×32 valid', [2, 28, 28, 1], [3, 3, 1, 32], 'valid'],
    ['same, odd sizes, channels not multiples of 4', [3, 7, 9, 5], [3, 3, 5, 6], 'same'],
    ['same, even sizes', [2, 10, 8, 8], [3, 3, 8, 4], 'same'],
    [
      'the input gradient’s full padding',
      [2, 11, 11, 64],
      [3, 3, 64, 32],
      [
        [0, 0],
        [2, 2],
        [2, 2],
        [0, 0],
      ],
    ],
    ['one output pixel', [1, 3, 3, 4], [3, 3, 4, 3], 'valid'],
    ['numeric pad 1', [1, 6, 5, 7], [3, 3, 7, 9], 1],
  ];
  for (const [label, xs, fs, pad] of cases) {
    it(`matches tf.conv2d (cpu): ${label}`, async () => {
      expect(await worstError(xs, fs, pad, xs.length + xs[1]!)).toBeLessThan(REL_TOL);
    });
  }

  it('gives the same result when the tiles are split into many passes', async () => {
    // 64 bytes per (tile, channel): a pass of 3 tiles, the last one partial.
    passBytes = 64 * (32 + 64) * 3;
    expect(await worstError([2, 13, 13, 32], [3, 3, 32, 64], 'valid', 7)).toBeLessThan(REL_TOL);
    passBytes = 1;
    expect(await worstError([1, 6, 7, 3], [3, 3, 3, 2], 'same', 8)).toBeLessThan(REL_TOL);
  });

  it('leaves every other convolution to the built-in kernel', () => {
    const x = tf.zeros([1, 9, 9, 4]);
    const f3 = tf.zeros([3, 3, 4, 2]);
    const f5 = tf.zeros([5, 5, 4, 2]);
    const base: ConvAttrs = { strides: 1, pad: 'valid', dataFormat: 'NHWC' };
    expect(winogradGeometry(x, f3, base)).not.toBeNull();
    expect(winogradGeometry(x, f3, { ...base, strides: 2 })).toBeNull();
    expect(winogradGeometry(x, f3, { ...base, strides: [1, 2] })).toBeNull();
    expect(winogradGeometry(x, f3, { ...base, dilations: 2 })).toBeNull();
    expect(winogradGeometry(x, f3, { ...base, dataFormat: 'NCHW' })).toBeNull();
    expect(winogradGeometry(x, f5, base)).toBeNull();
    tf.dispose([x, f3, f5]);
  });

  it('uses Winograd only where it pays: 16+ input channels and maps of 16+ output pixels', () => {
    const pays = (x: number[], f: number[]) => {
      const [xt, ft] = [tf.zeros(x), tf.zeros(f)];
      const info = winogradGeometry(xt, ft, { strides: 1, pad: 'valid', dataFormat: 'NHWC' })!;
      tf.dispose([xt, ft]);
      return winogradPays(info);
    };
    expect(pays([2, 13, 13, 32], [3, 3, 32, 64])).toBe(true); // cnn conv2, 11×11 out
    expect(pays([2, 6, 6, 16], [3, 3, 16, 8])).toBe(true); // 4×4 out, 16 channels
    expect(pays([2, 28, 28, 1], [3, 3, 1, 32])).toBe(false); // one input channel
    expect(pays([2, 5, 5, 64], [3, 3, 64, 128])).toBe(false); // cnn-fast conv3, 3×3 out
  });

  /** The registered kernel's result, and the built-in tf.conv2d's (the registry untouched here). */
  function registeredVsBuiltin(
    xs: number[],
    fs: number[],
    strides: number,
    tuning = DEFAULT_TUNING,
  ) {
    const xt = tf.tensor(random(xs, 1), xs);
    const ft = tf.tensor(random(fs, 2), fs);
    const attrs: ConvAttrs = { strides, pad: 'same', dataFormat: 'NHWC', dilations: 1 };
    const out = conv2DWasm({ inputs: { x: xt, filter: ft }, backend, attrs }, tuning);
    const got = heapF32(backend, out).slice();
    release(backend, out);
    const builtin = tf.conv2d(xt as tf.Tensor4D, ft as tf.Tensor4D, strides, 'same');
    const expected = builtin.dataSync().slice();
    tf.dispose([xt, ft, builtin]);
    return { got: Array.from(got), expected: Array.from(expected) };
  }

  it('leaves strided, 5×5 and few-channel convolutions to the built-in without the GEMM', () => {
    const noGemm = accelTuning({ convGemm: 'never' });
    for (const [xs, fs, s] of [
      [[2, 9, 9, 4], [5, 5, 4, 3], 2],
      [[2, 9, 9, 32], [3, 3, 32, 8], 2],
      [[2, 12, 12, 1], [3, 3, 1, 32], 1],
    ] as const) {
      const { got, expected } = registeredVsBuiltin([...xs], [...fs], s, noGemm);
      expect(got).toEqual(expected);
    }
  });

  it('takes the GEMM for strided, 5×5 and one-channel layers', () => {
    for (const [xs, fs, s] of [
      [[2, 9, 9, 4], [5, 5, 4, 3], 2],
      [[2, 9, 9, 32], [3, 3, 32, 8], 2],
      [[2, 12, 12, 1], [3, 3, 1, 32], 1],
    ] as const) {
      const { got, expected } = registeredVsBuiltin([...xs], [...fs], s);
      // Not bit-equal: XNNPACK sums in another order (so the GEMM ran at all).
      expect(got).not.toEqual(expected);
      for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(expected[i]!, 4);
    }
  });

  it('takes Winograd where its tiles fit the map, the GEMM on an 11×11 map', () => {
    const x = tf.zeros([2, 12, 12, 32]);
    const x11 = tf.zeros([2, 13, 13, 32]);
    const f = tf.zeros([3, 3, 32, 64]);
    const attrs: ConvAttrs = { strides: 1, pad: 'valid', dataFormat: 'NHWC' };
    expect(gemmGeometry(x, f, attrs, DEFAULT_TUNING)).toBeNull();
    expect(gemmGeometry(x11, f, attrs, DEFAULT_TUNING)).not.toBeNull();
    expect(gemmGeometry(x, f, attrs, accelTuning({ winograd: false }))).not.toBeNull();
    tf.dispose([x, x11, f]);
  });

  it('takes Winograd for a 3×3 stride-1 layer with many channels', () => {
    // Winograd rounds differently from XNNPACK's direct sum, so the results are close, not equal.
    const { got, expected } = registeredVsBuiltin([2, 9, 9, 32], [3, 3, 32, 8], 1);
    expect(got).not.toEqual(expected);
    for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(expected[i]!, 3);
  });

  it('leaves every convolution to the built-in, bit for bit, when the tuning turns it off', () => {
    for (const tuning of [
      accelTuning({ winograd: false, convGemm: 'never' }),
      accelTuning({ simd: false }),
    ]) {
      const { got, expected } = registeredVsBuiltin([2, 9, 9, 32], [3, 3, 32, 8], 1, tuning);
      expect(got).toEqual(expected);
    }
  });

  it('follows the tuning the kernels were registered with', () => {
    const conv = () =>
      tf.tidy(() => {
        const x = tf.tensor4d(random([2, 9, 9, 32], 5), [2, 9, 9, 32]);
        const f = tf.tensor4d(random([3, 3, 32, 8], 6), [3, 3, 32, 8]);
        return Array.from(tf.conv2d(x, f, 1, 'same').dataSync());
      });
    try {
      unregisterAccelKernels();
      const builtin = conv();
      registerAccelKernels(accelTuning({ winograd: false, convGemm: 'never' }));
      expect(conv()).toEqual(builtin);
      registerAccelKernels();
      expect(conv()).not.toEqual(builtin);
    } finally {
      unregisterAccelKernels();
    }
  });

  it('is what tf.conv2d and its input gradient use once the training kernels are registered', async () => {
    // conv2 of the cnn, and a 'same' layer; the input gradient of a stride-1 conv is a 'full'
    // stride-1 3×3 convolution of dy (64 channels here), so it takes the Winograd path too.
    // F(4×4, 3×3) would take these (winograd4.test.ts); this is F(2×2)'s test.
    for (const [xs, fs, pad] of [
      [[3, 13, 13, 32], [3, 3, 32, 64], 'valid'],
      [[2, 8, 7, 16], [3, 3, 16, 24], 'same'],
    ] as const) {
      const x = random([...xs], 11);
      const f = random([...fs], 12);
      const ref = await reference(x, [...xs], f, [...fs], pad);
      const dy = random(ref.shape, 13);
      await tf.setBackend('cpu');
      const [dxRef, dxScale] = tf.tidy(() => {
        const ft = tf.tensor4d(f, fs as unknown as [number, number, number, number]);
        const dyt = tf.tensor4d(dy, ref.shape as [number, number, number, number]);
        const shape = xs as unknown as [number, number, number, number];
        return [
          tf.conv2dTranspose(dyt, ft, shape, 1, pad).dataSync().slice(),
          tf.conv2dTranspose(tf.abs(dyt), tf.abs(ft), shape, 1, pad).dataSync().slice(),
        ];
      });
      await tf.setBackend('wasm');
      registerAccelKernels(accelTuning({ winograd4: 'never' }));
      try {
        const [y, dx] = tf.tidy(() => {
          const xt = tf.tensor4d(x, xs as unknown as [number, number, number, number]);
          const ft = tf.tensor4d(f, fs as unknown as [number, number, number, number]);
          const dyt = tf.tensor4d(dy, ref.shape as [number, number, number, number]);
          const shape = xs as unknown as [number, number, number, number];
          return [
            tf.conv2d(xt, ft, 1, pad).dataSync().slice(),
            tf.conv2dTranspose(dyt, ft, shape, 1, pad).dataSync().slice(),
          ];
        });
        for (const [got, want, scale] of [
          [y, ref.y, ref.scale],
          [dx, dxRef, dxScale],
        ] as const) {
          expect(got.length).toBe(want.length);
          let worst = 0;
          for (let i = 0; i < want.length; i++) {
            const err = Math.abs(got[i]! - want[i]!) / Math.max(scale[i]!, 1e-30);
            worst = Number.isNaN(err) ? Infinity : Math.max(worst, err);
          }
          expect(worst).toBeLessThan(REL_TOL);
        }
      } finally {
        unregisterAccelKernels();
      }
    }
  });
});

describe('Conv2D by im2col + GEMM', () => {
  const tunings: Array<[string, Readonly<AccelTuning>]> = [
    ['relaxed', accelTuning({ convGemm: 'always' })],
    ['baseline', accelTuning({ convGemm: 'always', relaxedSimd: false })],
    ['small blocks', accelTuning({ convGemm: 'always', convGemmBlockBytes: SMALL_GEMM_BLOCK })],
    [
      'baseline, small blocks',
      accelTuning({ convGemm: 'always', relaxedSimd: false, convGemmBlockBytes: SMALL_GEMM_BLOCK }),
    ],
  ];
  afterAll(() => registerAccelKernels());
  describe.each(tunings)('%s', (_, tuning) => {
    it.each([...convCases, ...sweepCases, ...gemmCases, ...directCases])(
      'matches cpu: $name',
      async (c) => {
        const x = randomHost(c.x, 21);
        const f = randomHost(c.filter, 22);
        const fn = (xt: tf.Tensor | undefined, ft: tf.Tensor | undefined) => conv(xt!, ft!, c);
        const [cpu] = await onBackend('cpu', [x, f], fn);
        registerAccelKernels(tuning);
        const before = buffers();
        const [wasm] = await onBackend('wasm', [x, f], fn);
        expect(buffers()).toBe(before);
        expectNonTrivial(cpu!);
        expectClose(cpu!, wasm!);
      },
    );
  });

  it('is taken only where the tuning lets it', () => {
    const x = tf.zeros([2, 9, 9, 4]);
    const f = tf.zeros([3, 3, 4, 8]);
    const attrs: ConvAttrs = { strides: 1, pad: 'same', dataFormat: 'NHWC' };
    expect(gemmGeometry(x, f, attrs, accelTuning({ convGemm: 'always' }))).not.toBeNull();
    expect(gemmGeometry(x, f, attrs, accelTuning({ convGemm: 'never' }))).toBeNull();
    expect(gemmGeometry(x, f, attrs, accelTuning({ convGemm: 'always', simd: false }))).toBeNull();
    expect(
      gemmGeometry(x, f, { ...attrs, dilations: 2 }, accelTuning({ convGemm: 'always' })),
    ).toBeNull();
    tf.dispose([x, f]);
  });
});
