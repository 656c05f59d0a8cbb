import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it, vi } from 'vitest';
import {
  accelKernelsRegistered,
  registerAccelKernels,
  unregisterAccelKernels,
} from '../../../src-main/engine/accel/index';
import {
  type HostTensor,
  expectClose,
  expectNonTrivial,
  onBoth,
  randomHost,
  runKernel,
  useAccelKernels,
} from './harness';

useAccelKernels();

describe('a small CNN trained on wasm', () => {
  function makeParams(): HostTensor[] {
    return [
      randomHost([3, 3, 1, 12], 31, 'float32', (r) => (r() - 0.5) * 0.8), // conv1: 1 -> 12 channels (im2col path)
      randomHost([12], 32, 'float32', (r) => (r() - 0.5) * 0.1),
      randomHost([3, 2, 12, 6], 33, 'float32', (r) => (r() - 0.5) * 0.4), // conv2, stride 2 (convolution path)
      randomHost([6], 34, 'float32', (r) => (r() - 0.5) * 0.1),
      randomHost([2 * 2 * 6, 10], 35, 'float32', (r) => (r() - 0.5) * 0.4), // dense
      randomHost([10], 36, 'float32', (r) => (r() - 0.5) * 0.1),
    ];
  }

  // conv(same) -> relu -> maxpool -> conv(valid, stride 2) -> relu -> dense -> softmax CE
  function loss(x: tf.Tensor, labels: tf.Tensor, p: tf.Tensor[]): tf.Scalar {
    const [w1, b1, w2, b2, w3, b3] = p as [
      tf.Tensor4D,
      tf.Tensor1D,
      tf.Tensor4D,
      tf.Tensor1D,
      tf.Tensor2D,
      tf.Tensor1D,
    ];
    let h = tf.relu(tf.conv2d(x as tf.Tensor4D, w1, 1, 'same').add(b1)) as tf.Tensor4D;
    h = tf.maxPool(h, 2, 2, 'valid');
    h = tf.relu(tf.conv2d(h, w2, 2, 'valid').add(b2)) as tf.Tensor4D;
    const logits = h.reshape([h.shape[0], -1]).matMul(w3).add(b3);
    return tf.losses.softmaxCrossEntropy(labels, logits);
  }

  const batch = 5;
  const x = randomHost([batch, 12, 10, 1], 41, 'float32', (r) => r());
  const labels: HostTensor = {
    data: Float32Array.from({ length: batch * 10 }, (_, i) =>
      i % 10 === (Math.floor(i / 10) * 3) % 10 ? 1 : 0,
    ),
    shape: [batch, 10],
    dtype: 'float32',
  };

  it('gives the same gradients as cpu (all weights and the input)', async () => {
    const params = makeParams();
    const { cpu, wasm } = await onBoth([x, labels, ...params], (xt, lt, ...p) => {
      const { grads, value } = tf.valueAndGrads((xx: tf.Tensor, ...pp: tf.Tensor[]) =>
        loss(xx, lt!, pp),
      )([xt!, ...p]);
      return [value, ...grads];
    });
    expect(wasm.length).toBe(8);
    expectClose(cpu[0]!, wasm[0]!, 1e-5); // loss
    for (let i = 1; i < cpu.length; i++) {
      expectNonTrivial(cpu[i]!);
      expectClose(cpu[i]!, wasm[i]!, 1e-4);
    }
  });

  it('does not leak tensors or backend buffers across training steps', async () => {
    await tf.setBackend('wasm');
    const params = makeParams().map((h) => tf.variable(tf.tensor(h.data, h.shape)));
    const xt = tf.tensor(x.data, x.shape);
    const lt = tf.tensor(labels.data, labels.shape);
    const optimizer = tf.train.adam(0.01);
    const step = (): number =>
      tf.tidy(() => optimizer.minimize(() => loss(xt, lt, params), true)!.dataSync()[0]!);
    const first = step();
    step();
    const backend = tf.backend() as tf.KernelBackend & { numDataIds(): number };
    const tensors = tf.memory().numTensors;
    const buffers = backend.numDataIds();
    let last = first;
    for (let i = 0; i < 8; i++) last = step();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(backend.numDataIds()).toBe(buffers);
    expect(last).toBeLessThan(first); // it actually trains
    tf.dispose([...params, xt, lt]);
    optimizer.dispose();
  });
});

describe('unsupported attributes and registration', () => {
  it('rejects dilated convolutions with a clear error', async () => {
    await tf.setBackend('wasm');
    const x = tf.ones([1, 6, 6, 2]);
    const f = tf.ones([2, 2, 2, 3]);
    const dy = tf.ones([1, 4, 4, 3]);
    try {
      // tfjs core refuses the gradient before any kernel runs...
      expect(() =>
        tf.grad((w: tf.Tensor) =>
          tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid', 'NHWC', 2).sum(),
        )(f),
      ).toThrow(/dilation/);
      // ...and the kernels refuse it if called directly.
      expect(() =>
        runKernel(
          'Conv2DBackpropFilter',
          { x, dy },
          {
            strides: 1,
            pad: 'valid',
            dataFormat: 'NHWC',
            filterShape: [2, 2, 2, 3],
            dilations: 2,
          },
        ),
      ).toThrow(/Conv2DBackpropFilter.*dilations other than 1 are not supported/);
      expect(() =>
        runKernel(
          'Conv2DBackpropInput',
          { dy, filter: f },
          {
            strides: 1,
            pad: 'valid',
            dataFormat: 'NHWC',
            inputShape: [1, 6, 6, 2],
            dilations: [2, 1],
          },
        ),
      ).toThrow(/Conv2DBackpropInput.*dilations other than 1 are not supported/);
      expect(() =>
        runKernel(
          'Conv2DBackpropFilter',
          { x, dy },
          {
            strides: 1,
            pad: 'valid',
            dataFormat: 'NCHW',
            filterShape: [2, 2, 2, 3],
          },
        ),
      ).toThrow(/only dataFormat 'NHWC' is supported/);
    } finally {
      tf.dispose([x, f, dy]);
    }
  });

  it('registers idempotently and without warnings, and can be undone', async () => {
    await tf.setBackend('wasm');
    const warn = vi.spyOn(console, 'warn');
    try {
      registerAccelKernels();
      registerAccelKernels();
      expect(accelKernelsRegistered()).toBe(true);

      unregisterAccelKernels();
      expect(accelKernelsRegistered()).toBe(false);
      // Upstream wasm has no filter gradient at all (tfjs #8474).
      expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
      expect(tf.getKernel('Conv2DBackpropInput', 'wasm')).toBeDefined();
      expect(tf.getKernel('MaxPoolGrad', 'wasm')).toBeDefined();

      registerAccelKernels();
      expect(accelKernelsRegistered()).toBe(true);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
      registerAccelKernels();
    }
  });
});
