import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { accelTuning, registerAccelKernels } from '../../../../src-main/engine/accel/index';
import { useGemm } from '../../../../src-main/engine/accel/kernels/Conv2DBackpropInput';
import type { AccelTuning } from '../../../../src-main/engine/accel/tuning';
import {
  type ConvCase,
  SMALL_GEMM_BLOCK,
  convCases,
  gemmCases,
  outShapeOf,
  sweepCases,
} from './conv-cases';
import {
  buffers,
  expectClose,
  expectNonTrivial,
  onBackend,
  randomHost,
  runKernel,
  useAccelKernels,
} from '../harness';

useAccelKernels();

const cases = [...convCases, ...sweepCases, ...gemmCases];

/** The kernel under `tuning` against cpu, and no buffer left behind. */
async function check(c: ConvCase, tuning: Readonly<AccelTuning>): Promise<void> {
  const dy = randomHost(outShapeOf(c), 5);
  const f = randomHost(c.filter, 6);
  const fn = (dyt: tf.Tensor | undefined, ft: tf.Tensor | undefined): tf.Tensor =>
    runKernel(
      'Conv2DBackpropInput',
      { dy: dyt!, filter: ft! },
      { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x },
    );
  const [cpu] = await onBackend('cpu', [dy, f], fn);
  registerAccelKernels(tuning);
  const before = buffers();
  const [wasm] = await onBackend('wasm', [dy, f], fn);
  expect(buffers()).toBe(before);
  expectNonTrivial(cpu!);
  expectClose(cpu!, wasm!);
}

describe('Conv2DBackpropInput on wasm', () => {
  afterAll(() => registerAccelKernels());

  it.each(cases)('matches cpu: $name', (c) => check(c, accelTuning()));

  // Each path on every geometry, whichever the rule picks: the full correlation (XNNPACK or
  // Winograd), and col2im + GEMM in both builds, in one block and in many.
  const tunings: Array<[string, Readonly<AccelTuning>]> = [
    ['full correlation', accelTuning({ convGemm: 'never' })],
    ['gemm, relaxed', accelTuning({ convGemm: 'always' })],
    ['gemm, baseline', accelTuning({ convGemm: 'always', relaxedSimd: false })],
    [
      'gemm, small blocks',
      accelTuning({ convGemm: 'always', convGemmBlockBytes: SMALL_GEMM_BLOCK }),
    ],
    [
      'gemm, baseline, small blocks',
      accelTuning({ convGemm: 'always', relaxedSimd: false, convGemmBlockBytes: SMALL_GEMM_BLOCK }),
    ],
  ];
  describe.each(tunings)('%s', (_, tuning) => {
    it.each(cases)('matches cpu: $name', (c) => check(c, tuning));
  });

  it('takes the GEMM only where the tuning lets it', () => {
    const info = tf.backend_util.computeConv2DInfo([2, 13, 13, 32], [3, 3, 32, 64], 1, 1, 'valid');
    expect(useGemm(info, accelTuning({ convGemm: 'never' }))).toBe(false);
    expect(useGemm(info, accelTuning({ convGemm: 'always', simd: false }))).toBe(false);
    expect(useGemm(info, accelTuning({ convGemm: 'always' }))).toBe(true);
  });

  it('keeps the full correlation only where Winograd runs it on barely more pixels', () => {
    const info = (x: number[], f: number[], s: number, pad: 'same' | 'valid') =>
      tf.backend_util.computeConv2DInfo(
        x as [number, number, number, number],
        f as [number, number, number, number],
        s,
        1,
        pad,
      );
    // F(4×4, 3×3) takes the cnn's (winograd4.test.ts); this is the rule without it.
    const auto = accelTuning({ winograd4: 'never' });
    expect(useGemm(info([2, 13, 13, 32], [3, 3, 32, 64], 1, 'valid'), auto)).toBe(true);
    expect(useGemm(info([2, 5, 5, 64], [3, 3, 64, 128], 1, 'valid'), auto)).toBe(true);
    expect(useGemm(info([2, 14, 14, 32], [3, 3, 32, 64], 1, 'same'), auto)).toBe(false);
    expect(useGemm(info([2, 14, 14, 32], [3, 3, 32, 64], 2, 'same'), auto)).toBe(true);
    // Few output channels: the full correlation would not take Winograd.
    expect(useGemm(info([2, 14, 14, 32], [3, 3, 32, 8], 1, 'same'), auto)).toBe(true);
    expect(
      useGemm(
        info([2, 14, 14, 32], [3, 3, 32, 64], 1, 'same'),
        accelTuning({ winograd: false, winograd4: 'never' }),
      ),
    ).toBe(true);
  });
});
