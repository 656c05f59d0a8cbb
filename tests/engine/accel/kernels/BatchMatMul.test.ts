import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  type Orientation,
  chooseGemmOrientation,
  chooseOrientation,
} from '../../../../src-main/engine/accel/kernels/BatchMatMul';
import { accelTuning, registerAccelKernels } from '../../../../src-main/engine/accel/index';
import {
  buffers,
  expectClose,
  onBackend,
  randomHost,
  useAccelKernels,
  type HostTensor,
  expectRegisteredOverBuiltins,
  runKernel,
} from '../harness';

// BatchMatMul / _FusedMatMul with transpose flags on 'wasm' (ours) against the pure-JS 'cpu'
// backend, from the same seeded data.

useAccelKernels();
afterEach(() => registerAccelKernels());
afterAll(() => registerAccelKernels());

interface MatMulCase {
  name: string;
  m: number;
  k: number;
  n: number;
  /** Leading 1s on a's / b's shape (the op passes rank 3 with batch 1). */
  aOuter?: number[];
  bOuter?: number[];
}

const matMulCases: MatMulCase[] = [
  { name: 'mlp dense1 [32,784]·[784,128]', m: 32, k: 784, n: 128, aOuter: [1], bOuter: [1] },
  { name: 'mlp dense2 [32,128]·[128,10]', m: 32, k: 128, n: 10, aOuter: [1], bOuter: [1] },
  { name: 'rank 2, odd sizes', m: 7, k: 13, n: 5 },
  { name: 'mixed ranks', m: 6, k: 9, n: 11, aOuter: [1, 1], bOuter: [] },
  { name: 'single row', m: 1, k: 17, n: 8, aOuter: [1], bOuter: [1] },
  { name: 'single column and k = 1', m: 12, k: 1, n: 1 },
];

describe('BatchMatMul with transpose flags on wasm', () => {
  const flagSets: [boolean, boolean][] = [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ];
  for (const c of matMulCases) {
    for (const [ta, tb] of flagSets) {
      for (const [orientation, denseGemm] of [
        ['direct', true],
        ['swapped', true],
        [undefined, true],
        ['direct', false],
        ['swapped', false],
      ] as [Orientation | undefined, boolean][]) {
        const path = denseGemm ? 'our GEMM' : 'XNNPACK';
        const label = `${c.name} ${ta ? 'T' : 'N'}${tb ? 'T' : 'N'} ${orientation ?? 'auto'}, ${path}`;
        it(`matches cpu: ${label}`, async () => {
          const aShape = [...(c.aOuter ?? []), ...(ta ? [c.k, c.m] : [c.m, c.k])];
          const bShape = [...(c.bOuter ?? []), ...(tb ? [c.n, c.k] : [c.k, c.n])];
          const inputs = [randomHost(aShape, c.m * 31 + c.k), randomHost(bShape, c.n * 7 + 1)];
          const fn = (a: tf.Tensor, b: tf.Tensor): tf.Tensor =>
            runKernel('BatchMatMul', { a, b }, { transposeA: ta, transposeB: tb });
          const [cpu] = await onBackend('cpu', inputs, (a, b) => fn(a!, b!));
          registerAccelKernels(accelTuning({ matMulOrientation: orientation ?? null, denseGemm }));
          const tensors = tf.memory().numTensors;
          const ids = buffers();
          const [wasm] = await onBackend('wasm', inputs, (a, b) => fn(a!, b!));
          expect(tf.memory().numTensors).toBe(tensors);
          expect(buffers()).toBe(ids);
          expectClose(cpu!, wasm!);
        });
      }
    }
  }

  it('falls back to the built-in for batched products', async () => {
    const inputs = [randomHost([3, 5, 4], 1), randomHost([3, 6, 5], 2)];
    const fn = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => tf.matMul(a, b, true, true);
    const [cpu] = await onBackend('cpu', inputs, (a, b) => fn(a!, b!));
    const [wasm] = await onBackend('wasm', inputs, (a, b) => fn(a!, b!));
    expectClose(cpu!, wasm!);
  });

  it('still rejects mismatched inner sizes', async () => {
    await tf.setBackend('wasm');
    const a = tf.ones([4, 3]);
    const b = tf.ones([5, 2]);
    try {
      expect(() => tf.matMul(a, b, true, false)).toThrow(/inner shapes/);
    } finally {
      tf.dispose([a, b]);
    }
  });

  it('chooses the way round our GEMM’s 4×8 tiles and packing cost least', () => {
    // The cnn's Dense layer: dW = xᵀ·dy is [1600, 10], best as Cᵀ (10 of 12 rows, not 10 of
    // 16 columns); dx = dy·Wᵀ is [128, 1600], direct. The forward x·W [128, 10] too: swapped,
    // x would be packed element by element. (Timed, ms: dW 0.34 direct, 0.31 swapped; dx 0.57,
    // 0.83; forward 0.33, 0.40.)
    expect(chooseGemmOrientation(1600, 128, 10, true, false)).toBe('swapped');
    expect(chooseGemmOrientation(128, 10, 1600, false, true)).toBe('direct');
    expect(chooseGemmOrientation(128, 1600, 10, false, false)).toBe('direct');
    // Square enough that padding does not matter: no transpose of C to pay for.
    expect(chooseGemmOrientation(128, 784, 128, false, false)).toBe('direct');
  });

  it('packs the smaller operand: dx = dy·Wᵀ goes the swapped way, dW = xᵀ·dy directly', () => {
    expect(chooseOrientation(32, 128, 784, false, true)).toBe('swapped');
    expect(chooseOrientation(784, 32, 128, true, false)).toBe('direct');
    expect(chooseOrientation(1024, 128, 128, true, false)).toBe('direct');
  });
});

describe('_FusedMatMul with transpose flags on wasm', () => {
  const cases: { ta: boolean; tb: boolean; activation: 'linear' | 'relu' | 'elu' }[] = [
    { ta: true, tb: false, activation: 'relu' },
    { ta: false, tb: true, activation: 'linear' },
    { ta: true, tb: true, activation: 'elu' },
    { ta: false, tb: false, activation: 'relu' },
    { ta: false, tb: false, activation: 'linear' },
  ];
  it.each(cases)('matches cpu with bias: ta=$ta tb=$tb $activation', async (c) => {
    const [m, k, n] = [9, 20, 6];
    const inputs = [
      randomHost(c.ta ? [k, m] : [m, k], 3),
      randomHost(c.tb ? [n, k] : [k, n], 4),
      randomHost([n], 5),
    ];
    const fn = (a: tf.Tensor, b: tf.Tensor, bias: tf.Tensor): tf.Tensor =>
      tf.fused.matMul({
        a: a as tf.Tensor2D,
        b: b as tf.Tensor2D,
        transposeA: c.ta,
        transposeB: c.tb,
        bias,
        activation: c.activation,
      });
    const [cpu] = await onBackend('cpu', inputs, (a, b, bias) => fn(a!, b!, bias!));
    const ids = buffers();
    const [wasm] = await onBackend('wasm', inputs, (a, b, bias) => fn(a!, b!, bias!));
    expect(buffers()).toBe(ids);
    expectClose(cpu!, wasm!);
  });
});

describe('a small MLP trained on wasm', () => {
  // The mlp preset's shape, scaled down: x[8, 50] → Dense(16, relu) → Dense(10) → softmax CE.
  const x = randomHost([8, 50], 11);
  const w1 = randomHost([50, 16], 12);
  const b1 = randomHost([16], 13);
  const w2 = randomHost([16, 10], 14);
  const b2 = randomHost([10], 15);
  const labels: HostTensor = {
    data: Float32Array.from({ length: 80 }, (_, i) => (i % 10 === Math.floor(i / 10) ? 1 : 0)),
    shape: [8, 10],
    dtype: 'float32',
  };

  function loss(xs: tf.Tensor, ys: tf.Tensor, p: tf.Tensor[]): tf.Scalar {
    const [wa, ba, wb, bb] = p as [tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.Tensor1D];
    // Fused like tfjs-layers' Dense(relu), then a plain matMul + add.
    const h = tf.fused.matMul({ a: xs as tf.Tensor2D, b: wa, bias: ba, activation: 'relu' });
    return tf.losses.softmaxCrossEntropy(ys, tf.add(tf.matMul(h, wb), bb));
  }

  it('gives the same gradients as cpu (weights and input)', async () => {
    const fn = (xs: tf.Tensor, ys: tf.Tensor, ...p: tf.Tensor[]): tf.Tensor[] => {
      const { value, grads } = tf.valueAndGrads((xx: tf.Tensor, ...pp: tf.Tensor[]) =>
        loss(xx, ys, pp),
      )([xs, ...p]);
      return [value, ...grads];
    };
    const inputs = [x, labels, w1, b1, w2, b2];
    const cpu = await onBackend('cpu', inputs, (xs, ys, ...p) => fn(xs!, ys!, ...p));
    const ids = buffers();
    const wasm = await onBackend('wasm', inputs, (xs, ys, ...p) => fn(xs!, ys!, ...p));
    expect(buffers()).toBe(ids);
    expect(wasm.length).toBe(6);
    for (let i = 0; i < cpu.length; i++) {
      expect(cpu[i]!.values.some((v) => Math.abs(v) > 1e-4)).toBe(true);
      expectClose(cpu[i]!, wasm[i]!, 1e-5);
    }
  });

  it('registers idempotently and can be undone', () => {
    expectRegisteredOverBuiltins(['BatchMatMul', '_FusedMatMul']);
  });
});
