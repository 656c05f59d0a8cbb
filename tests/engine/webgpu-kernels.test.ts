import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { MODEL_PRESETS } from '../../src-main/contract/config';
import { crossEntropySum } from '../../src-main/engine/evaluate';
import { buildModel } from '../../src-main/engine/models';
import { expectClose, randomHost, type HostTensor, type Out } from './accel/harness';
import { onBackend, useSwiftShader } from './webgpu-harness';

/**
 * Every kernel our presets train with, forward and gradient, on webgpu (SwiftShader) against the
 * cpu backend from the same seeded inputs. Shapes are tiny: SwiftShader runs a shader on the CPU
 * (a [128,28,28,1]×[3,3,1,32] conv2d takes ~10 s here, a [16,…] one ~2 s).
 */

useSwiftShader();

// GPU sums run in another order than the cpu backend's; 1e-4 of the largest value still catches
// a wrong index or a missing term, which are off by whole values.
const TOL = 1e-4;

async function expectSameOnWebGpu(
  inputs: HostTensor[],
  fn: (...ts: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
): Promise<void> {
  const ref = await onBackend('cpu', inputs, fn);
  const got = await onBackend('webgpu', inputs, fn);
  expect(got.length).toBe(ref.length);
  ref.forEach((r, i) => expectClose(r, got[i]!, TOL));
}

/** The value and the gradient of sum(f(inputs) · weights) with respect to every input. */
function valueAndGrads(f: (...ts: tf.Tensor[]) => tf.Tensor): (...ts: tf.Tensor[]) => tf.Tensor[] {
  return (...ts) => {
    const weights = tf.tensor(randomHost(f(...ts).shape, 99).data, f(...ts).shape);
    const { value, grads } = tf.valueAndGrads((...xs: tf.Tensor[]) =>
      tf.sum(tf.mul(f(...xs), weights)),
    )(ts);
    return [f(...ts), value, ...grads];
  };
}

describe('webgpu kernels match the cpu backend, forward and gradient', () => {
  const x = randomHost([2, 8, 8, 3], 1);
  const filter = randomHost([3, 3, 3, 4], 2);
  const bias = randomHost([4], 3);

  it('Conv2D (valid and same) with bias and relu: Conv2DBackpropInput/Filter', async () => {
    for (const pad of ['valid', 'same'] as const) {
      await expectSameOnWebGpu(
        [x, filter, bias],
        valueAndGrads((xs, f, b) =>
          tf.fused.conv2d({
            x: xs as tf.Tensor4D,
            filter: f as tf.Tensor4D,
            strides: 1,
            pad,
            bias: b,
            activation: 'relu',
          }),
        ),
      );
      await expectSameOnWebGpu(
        [x, filter],
        valueAndGrads((xs, f) => tf.conv2d(xs as tf.Tensor4D, f as tf.Tensor4D, 1, pad)),
      );
    }
  });

  it('MaxPool 2×2 and MaxPoolGrad', async () => {
    await expectSameOnWebGpu(
      [randomHost([2, 6, 6, 3], 4)],
      valueAndGrads((xs) => tf.maxPool(xs as tf.Tensor4D, 2, 2, 'valid')),
    );
  });

  it('Dense: MatMul with bias and relu, and their gradients', async () => {
    await expectSameOnWebGpu(
      [randomHost([5, 12], 5), randomHost([12, 7], 6), randomHost([7], 7)],
      valueAndGrads((a, b, c) =>
        tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias: c, activation: 'relu' }),
      ),
    );
    await expectSameOnWebGpu(
      [randomHost([5, 12], 8), randomHost([12, 7], 9)],
      valueAndGrads((a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D)),
    );
  });

  it('BatchNorm in training (moments over the batch) and its gradient', async () => {
    await expectSameOnWebGpu(
      [randomHost([4, 3, 3, 5], 10), randomHost([5], 11), randomHost([5], 12)],
      valueAndGrads((xs, gamma, beta) => {
        const { mean, variance } = tf.moments(xs, [0, 1, 2]);
        return tf.batchNorm(xs, mean, variance, beta, gamma, 1e-3);
      }),
    );
  });

  it('Relu and Softmax', async () => {
    await expectSameOnWebGpu(
      [randomHost([4, 10], 13)],
      valueAndGrads((xs) => tf.relu(xs)),
    );
    await expectSameOnWebGpu(
      [randomHost([4, 10], 14)],
      valueAndGrads((xs) => tf.softmax(xs)),
    );
  });

  it('cross-entropy and accuracy: OneHot, Log, Sum, ArgMax, Equal', async () => {
    const labels: HostTensor = { data: Int32Array.from([3, 0, 9, 5]), shape: [4], dtype: 'int32' };
    const logits = randomHost([4, 10], 15);
    await expectSameOnWebGpu([logits, labels], (l, y) => {
      const loss = (p: tf.Tensor) =>
        crossEntropySum(tf.softmax(p) as tf.Tensor2D, y as tf.Tensor1D);
      const { value, grad } = tf.valueAndGrad(loss)(l);
      const correct = tf.sum(tf.cast(tf.equal(tf.argMax(tf.softmax(l), 1), y), 'float32'));
      return [value, grad, correct];
    });
  });
});

describe('webgpu trains every preset like the cpu backend', () => {
  /** The loss and every weight's gradient of one batch, from weights made on the cpu backend. */
  async function lossAndGrads(
    backend: 'cpu' | 'webgpu',
    model: (typeof MODEL_PRESETS)[number],
    weights: HostTensor[] | null,
  ): Promise<{ out: Out[]; weights: HostTensor[] }> {
    await tf.setBackend(backend);
    const net = buildModel({ model, hiddenUnits: 16, dropout: 0, seed: 7 });
    if (weights) net.setWeights(weights.map((w) => tf.tensor(w.data, w.shape)));
    const own = await Promise.all(
      net.getWeights().map(async (w) => ({
        data: (await w.data()) as Float32Array,
        shape: w.shape,
        dtype: 'float32' as const,
      })),
    );
    const xs = randomHost([3, 28, 28, 1], 21);
    const xData = (xs.data as Float32Array).map((v) => (v + 1) / 2);
    const out = await onBackend(
      backend,
      [
        { ...xs, data: xData },
        { data: Int32Array.from([1, 7, 4]), shape: [3], dtype: 'int32' },
      ],
      (x, y) => {
        const { value, grads } = tf.variableGrads(
          () =>
            crossEntropySum(
              net.apply(x!, { training: true }) as tf.Tensor2D,
              y as tf.Tensor1D,
            ) as tf.Scalar,
          net.trainableWeights.map((w) => w.read() as tf.Variable),
        );
        return [value, ...Object.values(grads)];
      },
    );
    net.dispose();
    return { out, weights: own };
  }

  for (const model of MODEL_PRESETS) {
    it(`${model}: loss and every weight's gradient`, async () => {
      const ref = await lossAndGrads('cpu', model, null);
      const got = await lossAndGrads('webgpu', model, ref.weights);
      expect(got.out.length).toBe(ref.out.length);
      expect(got.out.length).toBeGreaterThan(4);
      ref.out.forEach((r, i) => expectClose(r, got.out[i]!, TOL));
    });
  }
});
