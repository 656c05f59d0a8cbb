// The built-in kernels must be registered before they are looked up below.
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { Identity } from '@tensorflow/tfjs-core';
import {
  type BackendWasm,
  type WasmKernelArgs,
  runBuiltin,
  wasmKernelConfig,
} from '../wasm-backend';

/**
 * The backend's Identity (and Cast to the same dtype) copies the whole buffer. While recording
 * gradients, tfjs clones every tensor a kernel saves for its backward pass through Identity, so
 * a cnn-strong step at batch 128 copied ~170 activations, ~30 ms; Relu's and Square's gradients
 * add same-dtype Casts of whole activations (~10 ms). tfjs tensors are immutable and the backend
 * reference-counts its buffers (its Reshape already shares them), so these share the input's
 * buffer instead, as the cpu backend's Identity does (Cast.ts does the same for same-dtype
 * casts). Other dtypes go to the built-in.
 */
const builtinIdentity = tf.getKernel(Identity, 'wasm');

export const SHAREABLE = new Set<tf.DataType>(['float32', 'int32', 'bool']);

export function share(backend: BackendWasm, x: tf.TensorInfo): tf.TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

export function identityWasm({ inputs, backend }: WasmKernelArgs<object>): tf.TensorInfo {
  const x = inputs.x;
  if (x === undefined) throw new Error(`Identity: missing input 'x'.`);
  if (SHAREABLE.has(x.dtype)) return share(backend, x);
  return runBuiltin(Identity, builtinIdentity, { inputs, backend, attrs: {} });
}

export const identityConfig = wasmKernelConfig(Identity, identityWasm, builtinIdentity);
