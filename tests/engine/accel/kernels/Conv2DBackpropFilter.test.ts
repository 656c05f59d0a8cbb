import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterEach, describe, expect, it } from 'vitest';
import {
  accelTuning,
  DEFAULT_TUNING,
  registerAccelKernels,
} from '../../../../src-main/engine/accel/index';
import type { AccelTuning } from '../../../../src-main/engine/accel/tuning';
import {
  type FilterStrategy,
  convChunk,
  pickStrategy,
} from '../../../../src-main/engine/accel/kernels/Conv2DBackpropFilter';
import {
  type ConvCase,
  SMALL_GEMM_BLOCK,
  conv,
  convCases,
  gemmCases,
  outShapeOf,
  sweepCases,
} from './conv-cases';
import {
  expectClose,
  expectNonTrivial,
  onBackend,
  onBoth,
  randomHost,
  runKernel,
  useAccelKernels,
} from '../harness';

useAccelKernels();

describe('Conv2DBackpropFilter on wasm', () => {
  it.each([...convCases, ...sweepCases, ...gemmCases])('matches cpu: $name', async (c) => {
    const x = randomHost(c.x, 1);
    const dy = randomHost(outShapeOf(c), 2);
    const { cpu, wasm } = await onBoth([x, dy], (xt, dyt) =>
      runKernel(
        'Conv2DBackpropFilter',
        { x: xt!, dy: dyt! },
        {
          strides: c.strides,
          pad: c.pad,
          dataFormat: 'NHWC',
          filterShape: c.filter,
        },
      ),
    );
    expectNonTrivial(cpu[0]!);
    expectClose(cpu[0]!, wasm[0]!);
  });

  // Each strategy on every geometry, whichever the heuristic would pick; the last case is
  // large enough for the transposed im2col to split the batch (4 + 2 images).
  const strategies: FilterStrategy[] = [
    'im2col',
    'transposed-im2col',
    'convolution',
    'direct',
    'gemm',
  ];
  const chunked: ConvCase = {
    name: 'batch split, 1 channel',
    x: [6, 30, 30, 1],
    filter: [3, 3, 1, 16],
    strides: 1,
    pad: 'same',
  };
  // The same split on the stride-1, unpadded geometry whose gather runs in our SIMD kernel.
  const chunkedValid: ConvCase = {
    name: 'batch split, 2 channels, valid',
    x: [6, 30, 30, 2],
    filter: [3, 3, 2, 16],
    strides: 1,
    pad: 'valid',
  };
  // The GEMM in both builds, and in blocks that end inside images.
  const variants: Array<[string, Readonly<AccelTuning>]> = [
    ...strategies.map((s): [string, Readonly<AccelTuning>] => [
      s,
      accelTuning({ filterStrategy: s }),
    ]),
    ['gemm, baseline', accelTuning({ filterStrategy: 'gemm', relaxedSimd: false })],
    [
      'gemm, small blocks',
      accelTuning({ filterStrategy: 'gemm', convGemmBlockBytes: SMALL_GEMM_BLOCK }),
    ],
    [
      'gemm, baseline, small blocks',
      accelTuning({
        filterStrategy: 'gemm',
        relaxedSimd: false,
        convGemmBlockBytes: SMALL_GEMM_BLOCK,
      }),
    ],
  ];
  describe.each(variants)('forced strategy %s', (_, tuning) => {
    afterEach(() => registerAccelKernels());
    it.each([...convCases, ...sweepCases, ...gemmCases, chunked, chunkedValid])(
      'matches cpu: $name',
      async (c) => {
        const x = randomHost(c.x, 1);
        const dy = randomHost(outShapeOf(c), 2);
        const fn = (xt: tf.Tensor | undefined, dyt: tf.Tensor | undefined): tf.Tensor =>
          runKernel(
            'Conv2DBackpropFilter',
            { x: xt!, dy: dyt! },
            { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter },
          );
        const [cpu] = await onBackend('cpu', [x, dy], fn);
        registerAccelKernels(tuning);
        const backend = tf.backend() as tf.KernelBackend & { numDataIds(): number };
        const buffers = backend.numDataIds();
        const [wasm] = await onBackend('wasm', [x, dy], fn);
        expect(backend.numDataIds()).toBe(buffers);
        expectNonTrivial(cpu!);
        expectClose(cpu!, wasm!);
      },
    );
  });

  // dy over 1 M floats: the convolution runs in batch chunks (2 x 6 and 2 x 8 images, the second
  // cropping unread rows/cols). Checked against the same convolution in one piece, itself checked
  // against cpu above (a cpu reference at this size takes seconds).
  const large: ConvCase[] = [
    { name: 'batch of 12', x: [12, 100, 100, 2], filter: [3, 3, 2, 12], strides: 1, pad: 'valid' },
    {
      name: 'batch of 16, stride 2, crop',
      x: [16, 121, 121, 2],
      filter: [3, 2, 2, 20],
      strides: 2,
      pad: 'valid',
    },
  ];
  it.each(large)('convolution in batch chunks equals one piece: $name', async (c) => {
    expect(outShapeOf(c).reduce((a, b) => a * b, 1)).toBeGreaterThan(1 << 20);
    const x = randomHost(c.x, 3);
    const dy = randomHost(outShapeOf(c), 4);
    const fn = (xt: tf.Tensor | undefined, dyt: tf.Tensor | undefined): tf.Tensor =>
      runKernel(
        'Conv2DBackpropFilter',
        { x: xt!, dy: dyt! },
        { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter },
      );
    try {
      registerAccelKernels(
        accelTuning({ filterStrategy: 'convolution', convolutionChunkLimit: Infinity }),
      );
      const [whole] = await onBackend('wasm', [x, dy], fn);
      registerAccelKernels(accelTuning({ filterStrategy: 'convolution' }));
      const backend = tf.backend() as tf.KernelBackend & { numDataIds(): number };
      const buffers = backend.numDataIds();
      const [chunks] = await onBackend('wasm', [x, dy], fn);
      expect(backend.numDataIds()).toBe(buffers);
      expectNonTrivial(whole!);
      expectClose(whole!, chunks!);
    } finally {
      registerAccelKernels();
    }
  });

  it('splits the convolution into chunks of 4 to 8 images only where they divide the batch', () => {
    expect(convChunk(128, DEFAULT_TUNING.convolutionChunkLimit)).toBe(8);
    expect(convChunk(112, DEFAULT_TUNING.convolutionChunkLimit)).toBe(8);
    expect(convChunk(12, DEFAULT_TUNING.convolutionChunkLimit)).toBe(6);
    expect(convChunk(20, DEFAULT_TUNING.convolutionChunkLimit)).toBe(5);
    expect(convChunk(8, DEFAULT_TUNING.convolutionChunkLimit)).toBe(8);
    expect(convChunk(3, DEFAULT_TUNING.convolutionChunkLimit)).toBe(3);
    expect(convChunk(13, DEFAULT_TUNING.convolutionChunkLimit)).toBe(13);
    expect(convChunk(22, DEFAULT_TUNING.convolutionChunkLimit)).toBe(22);
  });

  it('takes F(4×4) Winograd or the GEMM for more than one input channel, the direct sum for one', () => {
    const g = (ci: number, pad: number) => ({
      n: 128,
      h: 13,
      w: 13,
      ci,
      oh: 11,
      ow: 11,
      co: 64,
      kh: 3,
      kw: 3,
      sh: 1,
      sw: 1,
      padTop: pad,
      padLeft: pad,
    });
    expect(pickStrategy(g(32, 0), DEFAULT_TUNING)).toBe('winograd');
    expect(pickStrategy(g(32, 1), DEFAULT_TUNING)).toBe('winograd');
    const noF4 = accelTuning({ winograd4: 'never' });
    expect(pickStrategy(g(32, 0), noF4)).toBe('gemm');
    expect(pickStrategy(g(32, 1), noF4)).toBe('gemm');
    expect(pickStrategy({ ...g(32, 0), sh: 2, sw: 2 }, DEFAULT_TUNING)).toBe('gemm');
    expect(pickStrategy(g(1, 0), DEFAULT_TUNING)).toBe('direct');
    expect(pickStrategy(g(1, 0), accelTuning({ convGemm: 'always', winograd4: 'never' }))).toBe(
      'gemm',
    );
    const before = accelTuning({ convGemm: 'never', winograd4: 'never' });
    expect(pickStrategy(g(32, 0), before)).toBe('transposed-im2col');
    expect(pickStrategy(g(32, 1), before)).toBe('convolution');
    expect(pickStrategy(g(32, 0), accelTuning({ simd: false }))).not.toBe('gemm');
    expect(pickStrategy(g(32, 0), accelTuning({ filterStrategy: 'im2col' }))).toBe('im2col');
  });

  it('is what tf.grad uses for a conv2d filter', async () => {
    const c = convCases[2]!;
    const x = randomHost(c.x, 3);
    const f = randomHost(c.filter, 4);
    const { cpu, wasm } = await onBoth([x, f], (xt, ft) =>
      tf.grad((w: tf.Tensor) => conv(xt!, w, c).square().sum())(ft!),
    );
    expectClose(cpu[0]!, wasm[0]!);
  });
});
