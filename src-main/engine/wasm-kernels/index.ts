// Imported for its side effect: the backend's built-in kernels must be in the
// registry before ours, otherwise a later import would silently put the
// slow/missing built-ins back over them.
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter';
import { conv2DBackpropInputConfig } from './conv2d-backprop-input';
import { maxPoolGradConfig } from './max-pool-grad';
import { sumConfig } from './sum';

export { conv2DBackpropFilterConfig, conv2DBackpropFilterWasm } from './conv2d-backprop-filter';
export { conv2DBackpropInputConfig, conv2DBackpropInputWasm } from './conv2d-backprop-input';
export { maxPoolGradConfig, maxPoolGradWasm } from './max-pool-grad';
export { sumConfig, sumWasm } from './sum';

const OURS: readonly tf.KernelConfig[] = [
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  maxPoolGradConfig,
  sumConfig,
];

/** Built-in configs we displaced, kept so they can be put back (benchmarks, tests). */
const displaced = new Map<string, tf.KernelConfig>();

/**
 * Installs the training kernels for the 'wasm' backend: Conv2DBackpropFilter
 * (missing upstream, tfjs #8474) plus faster Conv2DBackpropInput,
 * MaxPoolGrad and Sum (over leading axes: conv bias gradients). Safe to call
 * repeatedly. Works before or after `tf.setBackend('wasm')`: only Sum has a
 * setupFunc, and it just runs the built-in's, which its fallback path needs.
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
