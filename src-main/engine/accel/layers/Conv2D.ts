import * as tf from '@tensorflow/tfjs';
import { simdKernelsFor, type SimdKernels } from '../native/simd/module';
import type { AccelTuning } from '../tuning';
import { makeF32, release, type BackendWasm, offsets } from '../wasm-backend';

/**
 * tfjs-layers' Conv2D with a bias and ReLU, in training on the wasm backend: the convolution and
 * its two gradients run as tfjs kernels (ours, ../kernels), while the bias and ReLU take one pass
 * forward and one backward (native/simd/bias-relu.c). tfjs cannot fuse them while it records
 * gradients, so it runs Add and Relu forward and Step, Multiply and Sum backward, each a full
 * pass over the activation: ~20 ms of a cnn-fast step at batch 128 on the first layer's
 * [128, 26, 26, 32] maps alone.
 *
 * The layer's `call` is replaced while our kernels are registered, like BatchNormalization's
 * (see there); everything but training-mode, channels-last, undilated Conv2D+bias+ReLU on wasm
 * goes to tfjs' own call, and the layer's class, weights and saved form stay as they are.
 */

/** The parts of tfjs-layers' Conv2D the training path reads. */
interface Conv2DLayer {
  rank: number;
  strides: number[];
  padding: string;
  dataFormat: string;
  dilationRate: number | number[];
  activation: { getClassName(): string } | null;
  kernel: { read(): tf.Tensor };
  bias: { read(): tf.Tensor } | null;
  inboundNodes: { inboundLayers: { getClassName(): string }[] }[];
}

type Call = (
  this: Conv2DLayer,
  inputs: tf.Tensor | tf.Tensor[],
  kwargs: Record<string, unknown>,
) => tf.Tensor | tf.Tensor[];

// Conv2D inherits `call` from tfjs-layers' Conv (shared with Conv1D and Conv3D): ours is set on
// Conv2D's own prototype, and deleting it puts the inherited one back.
const layerClass = Object.getPrototypeOf(tf.layers.conv2d({ filters: 1, kernelSize: 1 })) as {
  call: Call;
};

/** Sends Conv2D+bias+ReLU's training path through our kernels (tuning.convActivation permitting). */
export function installConv2D(tuning: AccelTuning): void {
  uninstallConv2D();
  if (!tuning.simd || !tuning.convActivation) return;
  const tfjsCall = layerClass.call;
  Object.defineProperty(layerClass, 'call', {
    configurable: true,
    writable: true,
    value: function (
      this: Conv2DLayer,
      inputs: tf.Tensor | tf.Tensor[],
      kwargs: Record<string, unknown>,
    ) {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      if (kwargs?.['training'] !== true || x === undefined || !applies(this, x)) {
        return tfjsCall.call(this, inputs, kwargs);
      }
      return trainingCall(this, x, simdKernelsFor(tf.backend() as BackendWasm, tuning));
    } satisfies Call,
  });
}

/** tfjs' own Conv2D call again. */
export function uninstallConv2D(): void {
  if (Object.prototype.hasOwnProperty.call(layerClass, 'call')) {
    delete (layerClass as { call?: Call }).call;
  }
}

export function conv2DInstalled(): boolean {
  return Object.prototype.hasOwnProperty.call(layerClass, 'call');
}

function applies(layer: Conv2DLayer, x: tf.Tensor): boolean {
  const dilation = Array.isArray(layer.dilationRate) ? layer.dilationRate : [layer.dilationRate];
  return (
    tf.getBackend() === 'wasm' &&
    x.dtype === 'float32' &&
    x.rank === 4 &&
    x.size > 0 &&
    layer.rank === 2 &&
    layer.dataFormat === 'channelsLast' &&
    (layer.padding === 'valid' || layer.padding === 'same') &&
    dilation.every((d) => d === 1) &&
    layer.activation?.getClassName() === 'relu' &&
    layer.bias !== null
  );
}

/**
 * The first layer of a model reads the images: in training nothing differentiates them, and
 * their gradient (a whole convolution) is not computed. tfjs' own ops skip it the same way, by
 * computing only the gradients the tape asks for; a custom gradient has to return all of them.
 */
function readsModelInput(layer: Conv2DLayer): boolean {
  const inbound = layer.inboundNodes[0]?.inboundLayers ?? [];
  return inbound.length === 1 && inbound[0]!.getClassName() === 'InputLayer';
}

function trainingCall(layer: Conv2DLayer, x: tf.Tensor, k: SimdKernels): tf.Tensor {
  const strides = layer.strides as [number, number];
  const pad = layer.padding as 'valid' | 'same';
  const inputGradient = !readsModelInput(layer);
  return tf.tidy(() => {
    const convolve = tf.customGrad((...args: unknown[]) => {
      const [input, kernel, bias, save] = args as [
        tf.Tensor4D,
        tf.Tensor4D,
        tf.Tensor1D,
        (tensors: tf.Tensor[]) => void,
      ];
      const backend = tf.backend() as BackendWasm;
      const y = tf.conv2d(input, kernel, strides, pad);
      const c = y.shape[3];
      // The convolution's output is ours alone (a fresh tensor in this scope): ReLU'd in place.
      k.bias_relu(offsets(backend)(y), offsets(backend)(bias), y.size / c, c);
      save([input, kernel, y]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [sx, skernel, sy] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
          const { dz, dbias } = reluBiasGrad(k, dy, sy);
          const attrs = { strides, pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
          const dx = inputGradient
            ? (tf.engine().runKernel('Conv2DBackpropInput', { dy: dz, filter: skernel }, {
                ...attrs,
                inputShape: sx.shape,
              } as unknown as tf.NamedAttrMap) as tf.Tensor)
            : tf.zerosLike(sx);
          const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x: sx, dy: dz }, {
            ...attrs,
            filterShape: skernel.shape,
          } as unknown as tf.NamedAttrMap) as tf.Tensor;
          dz.dispose();
          return [dx, dw, dbias];
        },
      };
    });
    return convolve(x, layer.kernel.read(), layer.bias!.read());
  });
}

const tensor = (info: tf.TensorInfo) => tf.engine().makeTensorFromTensorInfo(info);

function reluBiasGrad(
  k: SimdKernels,
  dy: tf.Tensor,
  y: tf.Tensor,
): { dz: tf.Tensor; dbias: tf.Tensor } {
  const backend = tf.backend() as BackendWasm;
  const c = y.shape[y.rank - 1]!;
  const dz = makeF32(backend, y.shape);
  const dbias = makeF32(backend, [c]);
  const part = makeF32(backend, [c]);
  const p = offsets(backend);
  k.relu_bias_grad(p(dy), p(y), p(dz), p(dbias), p(part), y.size / c, c);
  release(backend, part);
  return { dz: tensor(dz), dbias: tensor(dbias) };
}
