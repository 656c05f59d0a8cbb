/**
 * The acceleration layer: our kernels for tfjs' 'wasm' backend, registered here.
 *
 *   kernels/<TfjsKernelName>.ts  one kernel each, named and typed as tfjs-core names them
 *   layers/<TfjsLayerName>.ts    a layer's training path where tfjs spreads it over many ops
 *   kernels/conv-gemm.ts         the three convolution passes on im2col/col2im + our GEMM
 *   kernels/winograd4.ts         the three passes by Winograd F(4×4, 3×3), also on our GEMM
 *   native/simd/                 SIMD kernels in C (wasm_simd128.h), built by build.ts into
 *                                wasm.ts; winograd.c and winograd4.c are written by
 *                                generate-winograd.ts
 *   native/xnnpack/              XNNPACK's matrix product, reached through the backend
 *   tuning.ts                    every knob, in the one AccelTuning object passed here
 *   wasm-backend.ts              the backend's internals the kernels share (heap, registry)
 *
 * The fused Dense step (../fused) and the gradient threads (../parallel) use these; nothing
 * here imports them.
 */
// Imported for its side effect: the backend's built-in kernels must be in the
// registry before ours, otherwise a later import would silently put the
// slow/missing built-ins back over them.
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { batchMatMulConfig } from './kernels/BatchMatMul';
import { castConfig } from './kernels/Cast';
import { conv2DConfig } from './kernels/Conv2D';
import { conv2DBackpropFilterConfig } from './kernels/Conv2DBackpropFilter';
import { conv2DBackpropInputConfig } from './kernels/Conv2DBackpropInput';
import { fusedConv2DConfig } from './kernels/FusedConv2D';
import { identityConfig } from './kernels/Identity';
import { maxPoolGradConfig } from './kernels/MaxPoolGrad';
import { meanConfig } from './kernels/Mean';
import { sumConfig } from './kernels/Sum';
import { tileConfig } from './kernels/Tile';
import { fusedMatMulConfig } from './kernels/_FusedMatMul';
import { installConv2D, uninstallConv2D } from './layers/Conv2D';
import { installMaxPooling2D, uninstallMaxPooling2D } from './layers/MaxPooling2D';
import {
  installBatchNormalization,
  uninstallBatchNormalization,
} from './layers/BatchNormalization';
import { DEFAULT_TUNING, type AccelTuning } from './tuning';

export { DEFAULT_TUNING, accelTuning, type AccelTuning } from './tuning';

/** Our kernels for the 'wasm' backend, configured by `tuning`. */
export function accelKernels(tuning: AccelTuning = DEFAULT_TUNING): tf.KernelConfig[] {
  return [
    batchMatMulConfig(tuning),
    fusedMatMulConfig(tuning),
    castConfig,
    identityConfig,
    conv2DBackpropFilterConfig(tuning),
    conv2DBackpropInputConfig(tuning),
    conv2DConfig(tuning),
    fusedConv2DConfig(tuning),
    maxPoolGradConfig(tuning),
    meanConfig,
    sumConfig,
    tileConfig,
  ];
}

/** What registerAccelKernels installed, and the built-in configs it displaced. */
let installed: { configs: tf.KernelConfig[]; tuning: AccelTuning } | null = null;
const displaced = new Map<string, tf.KernelConfig>();

/**
 * Installs the training kernels for the 'wasm' backend: Conv2DBackpropFilter
 * (missing upstream, tfjs #8474) plus faster Conv2D and Conv2DBackpropInput (im2col/col2im with
 * our GEMM, kernels/conv-gemm.ts, and Winograd for 3×3 stride-1 layers whose 2×2 tiles fit the
 * map), FusedConv2D (the same convolutions with bias and ReLU, outside training), MaxPoolGrad, Sum and Mean (over leading axes: conv bias gradients, BatchNorm
 * statistics), Tile (BatchNorm's gradient), BatchMatMul/_FusedMatMul with
 * transpose flags (Dense gradients), and Identity/Cast that share their input's
 * buffer instead of copying it (tensors saved for the backward pass); and BatchNormalization's
 * training path and a Conv2D layer's bias and ReLU (layers/). Calling it again with
 * another tuning replaces them (a before/after in one process); with the same tuning it does
 * nothing. Works before or after `tf.setBackend('wasm')`: the overrides of existing kernels
 * have a setupFunc that just runs the built-in's, which their fallback paths need.
 */
export function registerAccelKernels(tuning: AccelTuning = DEFAULT_TUNING): void {
  if (installed?.tuning === tuning && accelKernelsRegistered()) return;
  const configs = accelKernels(tuning);
  for (const config of configs) {
    const current = tf.getKernel(config.kernelName, 'wasm');
    if (current !== undefined) {
      if (!installed?.configs.includes(current)) displaced.set(config.kernelName, current);
      // Unregister first: registerKernel over an existing entry logs a warning.
      tf.unregisterKernel(config.kernelName, 'wasm');
    }
    tf.registerKernel(config);
  }
  installBatchNormalization(tuning);
  installConv2D(tuning);
  installMaxPooling2D(tuning);
  installed = { configs, tuning };
}

/** Puts the backend's own kernels back (Conv2DBackpropFilter simply disappears again). */
export function unregisterAccelKernels(): void {
  for (const config of installed?.configs ?? []) {
    if (tf.getKernel(config.kernelName, 'wasm') !== config) continue;
    tf.unregisterKernel(config.kernelName, 'wasm');
    const original = displaced.get(config.kernelName);
    if (original !== undefined) tf.registerKernel(original);
  }
  displaced.clear();
  uninstallBatchNormalization();
  uninstallConv2D();
  uninstallMaxPooling2D();
  installed = null;
}

export function accelKernelsRegistered(): boolean {
  return (
    installed !== null &&
    installed.configs.every((config) => tf.getKernel(config.kernelName, 'wasm') === config)
  );
}
