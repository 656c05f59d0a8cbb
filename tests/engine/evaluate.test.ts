import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend';
import { crossEntropySum } from '../../src-main/engine/evaluate';

beforeAll(async () => {
  await selectBackend('cpu');
});

describe('crossEntropySum', () => {
  const probs = [
    [0.7, 0.1, 0.05, 0.05, 0.02, 0.02, 0.02, 0.02, 0.01, 0.01],
    [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1],
  ];
  const labels = [0, 3];
  const eps = 1e-7;
  const loss = (smoothing?: number) =>
    tf.tidy(
      () =>
        crossEntropySum(tf.tensor2d(probs), tf.tensor1d(labels, 'int32'), smoothing).dataSync()[0]!,
    );

  it('sums −log(p_label + ε) over the batch', () => {
    expect(loss()).toBeCloseTo(-Math.log(0.7 + eps) - Math.log(0.1 + eps), 5);
  });

  it('with label smoothing s, uses the target (1 − s)·onehot + s/10 (Keras label_smoothing)', () => {
    const s = 0.1;
    let expected = 0;
    probs.forEach((row, i) =>
      row.forEach((p, c) => {
        const target = (c === labels[i] ? 1 - s : 0) + s / 10;
        expected -= target * Math.log(p + eps);
      }),
    );
    expect(loss(s)).toBeCloseTo(expected, 4);
    expect(loss(s)).toBeGreaterThan(loss());
    expect(loss(0)).toBe(loss());
  });
});
