import * as tf from '@tensorflow/tfjs';
import { simdKernelsFor, type SimdKernels } from '../native/simd/module';
import type { AccelTuning } from '../tuning';
import { convGeometry, directGeometry } from '../kernels/conv-gemm';
import { heapF32, makeF32, release, withScratch, type BackendWasm, offsets } from '../wasm-backend';
import { markPooled, poolsTwoByTwo } from './MaxPooling2D';
import { callReplaced, replaceCall, restoreCall } from './replace-call';

/**
 * tfjs-layers' Conv2D with a bias and ReLU, in training on the wasm backend: the convolution and
 * its two gradients run as tfjs kernels (ours, ../kernels), while the bias and ReLU take one pass
 * forward and one backward (native/simd/bias-relu.c). tfjs cannot fuse them while it records
 * gradients, so it runs Add and Relu forward and Step, Multiply and Sum backward, each a full
 * pass over the activation: ~20 ms of a cnn-fast step at batch 128 on the first layer's
 * [128, 26, 26, 32] maps alone.
 *
 * When the layer's only consumer is a 2×2 stride-2 max pool (the cnn presets' first layers), the
 * pool joins the pass (native/simd/bias-relu-pool.c) and the layer returns the pooled map, which
 * layers/MaxPooling2D.ts then passes on: ~10 ms of a 94 ms cnn step on one thread ran in the
 * separate passes over [128, 26, 26, 32].
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
  outboundNodes: { outboundLayer: Parameters<typeof poolsTwoByTwo>[0] }[];
}

type Call = (
  this: Conv2DLayer,
  inputs: tf.Tensor | tf.Tensor[],
  kwargs: Record<string, unknown>,
) => tf.Tensor | tf.Tensor[];

// Conv2D inherits `call` from tfjs-layers' Conv (shared with Conv1D and Conv3D): ours goes on
// Conv2D's own prototype (replace-call.ts).
const layerClass = Object.getPrototypeOf(tf.layers.conv2d({ filters: 1, kernelSize: 1 })) as {
  call: Call;
};

/** Sends Conv2D+bias+ReLU's training path through our kernels (tuning.convActivation permitting). */
export function installConv2D(tuning: AccelTuning): void {
  uninstallConv2D();
  if (!tuning.simd || !tuning.convActivation) return;
  replaceCall(
    layerClass,
    (tfjsCall) =>
      function (this: Conv2DLayer, inputs: tf.Tensor | tf.Tensor[], kwargs) {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        if (kwargs?.['training'] !== true || x === undefined || !applies(this, x)) {
          return tfjsCall.call(this, inputs, kwargs);
        }
        return trainingCall(this, x, tuning);
      } satisfies Call,
  );
}

/** tfjs' own Conv2D call again. */
export function uninstallConv2D(): void {
  restoreCall(layerClass);
}

export function conv2DInstalled(): boolean {
  return callReplaced(layerClass);
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

/** The 2×2 max pool that alone reads this layer's output, which the layer can do itself. */
function pooledAfter(layer: Conv2DLayer, c: number): boolean {
  const consumers = layer.outboundNodes;
  return consumers.length === 1 && c % 4 === 0 && poolsTwoByTwo(consumers[0]!.outboundLayer);
}

function trainingCall(layer: Conv2DLayer, x: tf.Tensor, tuning: AccelTuning): tf.Tensor {
  const k = simdKernelsFor(tf.backend() as BackendWasm, tuning);
  const strides = layer.strides as [number, number];
  const pad = layer.padding as 'valid' | 'same';
  const inputGradient = !readsModelInput(layer);
  const kernel = layer.kernel.read();
  if (pooledAfter(layer, kernel.shape[3]!)) {
    const bias = layer.bias!.read();
    const pooled = tf.tidy(() =>
      pooledCall(x, kernel, bias, strides, pad, k, tuning, inputGradient),
    );
    markPooled(pooled);
    return pooled;
  }
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
          const [dx, dw] = convolutionGrads(sx, skernel, dz, strides, pad, inputGradient);
          dz.dispose();
          return [dx, dw, dbias];
        },
      };
    });
    return convolve(x, kernel, layer.bias!.read());
  });
}

/** The layer's output pooled by the 2×2 max pool after it, in one pass each way. */
function pooledCall(
  x: tf.Tensor,
  kernel: tf.Tensor,
  bias: tf.Tensor,
  strides: [number, number],
  pad: 'valid' | 'same',
  k: SimdKernels,
  tuning: AccelTuning,
  inputGradient: boolean,
): tf.Tensor {
  const backend = tf.backend() as BackendWasm;
  const p = offsets(backend);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    kernel.shape as [number, number, number, number],
    strides,
    1,
    pad,
  );
  const [n, h, w, c] = info.outShape;
  const ci = info.inChannels;
  // A first layer's 3×3 convolution of one channel pools as it sums (conv-direct.c) where the
  // unfused layer would take that direct sum (kernels/Conv2D.ts), so both agree bit for bit.
  const directForward =
    ci === 1 &&
    info.filterHeight === 3 &&
    info.filterWidth === 3 &&
    c % 8 === 0 &&
    strides.every((s) => s === 1) &&
    pad === 'valid' &&
    tuning.convGemm !== 'never';
  // Likewise its filter gradient takes each image's dz while in cache (conv-filter-grad.c) where
  // Conv2DBackpropFilter would take the direct sum, when no input gradient needs all of dz.
  const directFilterGrad = ci === 1 && !inputGradient && tuning.filterStrategy === null;

  const convolve = tf.customGrad((...args: unknown[]) => {
    const [input, filter, b, save] = args as [
      tf.Tensor4D,
      tf.Tensor4D,
      tf.Tensor1D,
      (tensors: tf.Tensor[]) => void,
    ];
    const pooled = makeF32(backend, [n, Math.floor(h / 2), Math.floor(w / 2), c]);
    // A byte per pooled value, in a float32 tensor (tfjs has no uint8 one) that only ours read.
    const count = tf.util.sizeFromShape(pooled.shape);
    const idx = makeF32(backend, [Math.ceil(count / 4)]);
    if (directForward) {
      k.conv1_3x3_pool(
        p(input),
        p(filter),
        p(b),
        p(pooled),
        p(idx),
        n,
        info.inHeight,
        info.inWidth,
        c,
      );
    } else {
      const z = tf.conv2d(input, filter, strides, pad);
      k.bias_relu_pool(p(z), p(b), p(pooled), p(idx), n, h, w, c);
      z.dispose();
    }
    const [y, where] = [tensor(pooled), tensor(idx)];
    save([input, filter, y, where]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sfilter, sy, swhere] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor, tf.Tensor];
        const dbias = makeF32(backend, [c]);
        const part = makeF32(backend, [c]);
        try {
          if (directFilterGrad) {
            const dw = withScratch(backend, sfilter.shape, (out, scratch) => {
              heapF32(backend, out).fill(0);
              k.bias_relu_pool_filter_grad(
                p(sx),
                p(dy),
                p(sy),
                p(swhere),
                p(out),
                p(dbias),
                p(part),
                p(scratch([h * w * c])),
                ...directGeometry(convGeometry(info)),
              );
            });
            return [tf.zerosLike(sx), tensor(dw), tensor(dbias)];
          }
          const dz = makeF32(backend, [n, h, w, c]);
          k.bias_relu_pool_grad(p(dy), p(sy), p(swhere), p(dz), p(dbias), p(part), n, h, w, c);
          const dzt = tensor(dz);
          const [dx, dw] = convolutionGrads(sx, sfilter, dzt, strides, pad, inputGradient);
          dzt.dispose();
          return [dx, dw, tensor(dbias)];
        } finally {
          release(backend, part);
        }
      },
    };
  });
  return convolve(x, kernel, bias);
}

/** dx (zeros for a model's input, which nothing differentiates) and dW from dz. */
function convolutionGrads(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  dz: tf.Tensor,
  strides: [number, number],
  pad: 'valid' | 'same',
  inputGradient: boolean,
): [tf.Tensor, tf.Tensor] {
  const attrs = { strides, pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
  const dx = inputGradient
    ? (tf.engine().runKernel('Conv2DBackpropInput', { dy: dz, filter }, {
        ...attrs,
        inputShape: x.shape,
      } as unknown as tf.NamedAttrMap) as tf.Tensor)
    : tf.zerosLike(x);
  const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: dz }, {
    ...attrs,
    filterShape: filter.shape,
  } as unknown as tf.NamedAttrMap) as tf.Tensor;
  return [dx, dw];
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
