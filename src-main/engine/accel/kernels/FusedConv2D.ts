import * as tf from '@tensorflow/tfjs';
import { FusedConv2D, type FusedConv2DAttrs } from '@tensorflow/tfjs-core';
import { simdKernelsFor } from '../native/simd/module';
import type { AccelTuning } from '../tuning';
import {
  release,
  type WasmKernelArgs,
  runBuiltin,
  wasmKernelConfig,
  offsets,
} from '../wasm-backend';
import { ourConv2D } from './Conv2D';

/**
 * FusedConv2D, which tfjs-layers' Conv2D runs outside training (validation after every epoch,
 * evaluation, the Draw panel): the convolution on our kernels (kernels/Conv2D.ts) with the bias
 * and ReLU in one pass after it (native/simd/bias-relu.c), instead of XNNPACK's convolution. A
 * cnn-fast validation pass of 6,000 images took ~2.7 s on one thread, two thirds of it in
 * XNNPACK's convolutions at ~9.6 G multiply-adds a second; our GEMM runs the same shapes at
 * 11–14. What our kernels do not cover (other activations, PReLU weights, a bias without ReLU,
 * shapes the rules leave to the built-in) runs the built-in.
 */

const KERNEL = FusedConv2D;
const builtin = tf.getKernel(KERNEL, 'wasm');

function fusedConv2DWasm(
  { inputs, backend, attrs }: WasmKernelArgs<FusedConv2DAttrs>,
  tuning: AccelTuning,
): tf.TensorInfo {
  const { bias, preluActivationWeights } = inputs;
  const plain = attrs.activation === 'linear' && bias === undefined;
  const biasRelu =
    attrs.activation === 'relu' &&
    bias !== undefined &&
    bias.dtype === 'float32' &&
    bias.shape.length === 1;
  if (tuning.simd && preluActivationWeights === undefined && (plain || biasRelu)) {
    const y = ourConv2D({ inputs, backend, attrs }, tuning);
    if (y !== null) {
      const c = y.shape[3]!;
      if (biasRelu && bias.shape[0] === c) {
        const k = simdKernelsFor(backend, tuning);
        const at = offsets(backend);
        k.bias_relu(at(y), at(bias), tf.util.sizeFromShape(y.shape) / c, c);
        return y;
      }
      if (plain) return y;
      release(backend, y);
    }
  }
  return runBuiltin(KERNEL, builtin, { inputs, backend, attrs });
}

export function fusedConv2DConfig(tuning: AccelTuning): tf.KernelConfig {
  return wasmKernelConfig<FusedConv2DAttrs>(
    KERNEL,
    (args) => fusedConv2DWasm(args, tuning),
    builtin,
  );
}
