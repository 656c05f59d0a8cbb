import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it, vi } from 'vitest';
import * as conv2D from '../../../../src-main/engine/accel/kernels/Conv2D';
import { convCases } from './conv-cases';
import {
  buffers,
  expectClose,
  expectNonTrivial,
  onBackend,
  randomHost,
  useAccelKernels,
} from '../harness';

useAccelKernels();

type Activation = 'linear' | 'relu' | 'elu';

/** tf.fused.conv2d on `backend` from seeded x, filter and (maybe) bias. */
function fused(
  backend: 'cpu' | 'wasm',
  c: (typeof cases)[number],
  activation: Activation,
  withBias: boolean,
) {
  const co = c.filter[3]!;
  const inputs = [
    randomHost(c.x, 11),
    randomHost(c.filter, 12),
    ...(withBias ? [randomHost([co], 13)] : []),
  ];
  return onBackend(backend, inputs, (x, f, b) =>
    tf.fused.conv2d({
      x: x as tf.Tensor4D,
      filter: f as tf.Tensor4D,
      strides: c.strides,
      pad: c.pad as 'same' | 'valid',
      ...(b ? { bias: b } : {}),
      activation,
    }),
  );
}

// Every geometry the GEMM takes, plus a first layer (the direct sum) and a Winograd-sized one.
const cases = [
  ...convCases.filter((c) => typeof c.pad === 'string'),
  { name: 'first layer', x: [3, 28, 28, 1], filter: [3, 3, 1, 32], strides: 1, pad: 'valid' },
  { name: 'winograd', x: [2, 12, 12, 32], filter: [3, 3, 32, 16], strides: 1, pad: 'same' },
];

describe('FusedConv2D on wasm (inference: validation, evaluation, the Draw panel)', () => {
  describe.each(cases)('$name', (c) => {
    it.each([
      ['relu', true],
      ['linear', false],
      ['relu', false],
      ['linear', true],
      ['elu', true],
    ] as [Activation, boolean][])('matches cpu: %s, bias %s', async (activation, withBias) => {
      const [ref] = await fused('cpu', c, activation, withBias);
      const before = buffers();
      const [got] = await fused('wasm', c, activation, withBias);
      expect(buffers()).toBe(before);
      expectNonTrivial(ref!);
      expectClose(ref!, got!, 1e-5);
    });
  });

  it('runs bias + ReLU and the plain convolution on our kernels, the rest on the built-in', async () => {
    const spy = vi.spyOn(conv2D, 'ourConv2D');
    const c = cases.at(-2)!;
    await fused('wasm', c, 'relu', true);
    await fused('wasm', c, 'linear', false);
    expect(spy).toHaveBeenCalledTimes(2);
    await fused('wasm', c, 'elu', true);
    await fused('wasm', c, 'linear', true);
    expect(spy).toHaveBeenCalledTimes(2);
    spy.mockRestore();
  });

  it('keeps NaN through bias + ReLU, as the built-in does', async () => {
    const x = randomHost([1, 5, 5, 1], 3);
    x.data[12] = NaN;
    const run = (backend: 'cpu' | 'wasm') =>
      onBackend(backend, [x, randomHost([3, 3, 1, 4], 4), randomHost([4], 5)], (xs, f, b) =>
        tf.fused.conv2d({
          x: xs as tf.Tensor4D,
          filter: f as tf.Tensor4D,
          strides: 1,
          pad: 'valid',
          bias: b,
          activation: 'relu',
        }),
      );
    const [ref] = await run('cpu');
    const [got] = await run('wasm');
    expect(got!.values.map(Number.isNaN)).toEqual(ref!.values.map(Number.isNaN));
    expect(got!.values.some(Number.isNaN)).toBe(true);
  });
});
