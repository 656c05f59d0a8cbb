// The built-in kernel must be registered before it is looked up below.
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { Cast, type CastAttrs } from '@tensorflow/tfjs-core';
import { type WasmKernelArgs, runBuiltin, wasmKernelConfig } from '../wasm-backend';
import { SHAREABLE, share } from './Identity';

/** A Cast to the dtype the tensor has already shares its buffer (see Identity.ts); real casts go to the built-in. */
const builtinCast = tf.getKernel(Cast, 'wasm');

export function castWasm({ inputs, backend, attrs }: WasmKernelArgs<CastAttrs>): tf.TensorInfo {
  const x = inputs.x;
  if (x === undefined) throw new Error(`Cast: missing input 'x'.`);
  if (attrs.dtype === x.dtype && SHAREABLE.has(x.dtype)) return share(backend, x);
  return runBuiltin(Cast, builtinCast, { inputs, backend, attrs });
}

export const castConfig = wasmKernelConfig(Cast, castWasm, builtinCast);
