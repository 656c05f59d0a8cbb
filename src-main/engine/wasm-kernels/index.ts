// Imported for its side effect: the backend's built-in kernels must be in the
// registry before ours, otherwise a later import would silently put the
// slow/missing built-ins back over them.
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { batchMatMulConfig, fusedMatMulConfig } from './batch-mat-mul';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter';
import { conv2DBackpropInputConfig } from './conv2d-backprop-input';
import { castConfig, identityConfig } from './identity';
import { maxPoolGradConfig } from './max-pool-grad';
import { meanConfig } from './mean';
import { sumConfig } from './sum';
import { tileConfig } from './tile';
import { conv2DWinogradConfig } from './winograd';

export {
  batchMatMulConfig,
  batchMatMulWasm,
  fusedMatMulConfig,
  fusedMatMulWasm,
} from './batch-mat-mul';
export { conv2DBackpropFilterConfig, conv2DBackpropFilterWasm } from './conv2d-backprop-filter';
export { conv2DBackpropInputConfig, conv2DBackpropInputWasm } from './conv2d-backprop-input';
export { castConfig, castWasm, identityConfig, identityWasm } from './identity';
export { maxPoolGradConfig, maxPoolGradWasm } from './max-pool-grad';
export { meanConfig, meanWasm } from './mean';
export { sumConfig, sumWasm } from './sum';
export { tileConfig, tileWasm } from './tile';
export { conv2DWasm, conv2DWinogradConfig } from './winograd';

const OURS: readonly tf.KernelConfig[] = [
  batchMatMulConfig,
  fusedMatMulConfig,
  castConfig,
  identityConfig,
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  conv2DWinogradConfig,
  maxPoolGradConfig,
  meanConfig,
  sumConfig,
  tileConfig,
];

/** Built-in configs we displaced, kept so they can be put back (benchmarks, tests). */
const displaced = new Map<string, tf.KernelConfig>();

/**
 * Installs the training kernels for the 'wasm' backend: Conv2DBackpropFilter
 * (missing upstream, tfjs #8474) plus faster Conv2D (Winograd for 3×3 stride-1 layers with 16+
 * input channels, which Conv2DBackpropInput's stride-1 convolution also takes), Conv2DBackpropInput,
 * MaxPoolGrad, Sum and Mean (over leading axes: conv bias gradients, BatchNorm
 * statistics), Tile (BatchNorm's gradient), BatchMatMul/_FusedMatMul with
 * transpose flags (Dense gradients), and Identity/Cast that share their input's
 * buffer instead of copying it (tensors saved for the backward pass). Safe to
 * call repeatedly. Works before or after `tf.setBackend('wasm')`: the overrides
 * of existing kernels have a setupFunc that just runs the built-in's, which
 * their fallback paths need.
 */
export function registerWasmTrainingKernels(): void {
  for (const config of OURS) {
    const current = tf.getKernel(config.kernelName, 'wasm');
    if (current === config) continue;
    if (current !== undefined) {
      displaced.set(config.kernelName, current);
      // Unregister first: registerKernel over an existing entry logs a warning.
      tf.unregisterKernel(config.kernelName, 'wasm');
    }
    tf.registerKernel(config);
  }
}

/** Puts the backend's own kernels back (Conv2DBackpropFilter simply disappears again). */
export function unregisterWasmTrainingKernels(): void {
  for (const config of OURS) {
    if (tf.getKernel(config.kernelName, 'wasm') !== config) continue;
    tf.unregisterKernel(config.kernelName, 'wasm');
    const original = displaced.get(config.kernelName);
    if (original !== undefined) tf.registerKernel(original);
  }
  displaced.clear();
}

export function wasmTrainingKernelsRegistered(): boolean {
  return OURS.every((config) => tf.getKernel(config.kernelName, 'wasm') === config);
}
