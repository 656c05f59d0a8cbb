import * as tf from '@tensorflow/tfjs';
import { beforeAll } from 'vitest';
import { emscripten, type BackendWasm } from '../../../../src-main/engine/accel/wasm-backend';
import { selectBackend } from '../../../../src-main/engine/backend';
import { mulberry32 } from '../../../../src-main/engine/random';

/**
 * What the native-code tests share: the wasm backend's heap, buffers on it by byte address (as
 * the native kernels take them), freed after the file's tests.
 */

let backend: BackendWasm | null = null;
const blocks: number[] = [];

/** The test file runs on 'wasm' (with our kernels); `backend` is set once its tests run. */
export function useWasmHeap(): { readonly backend: BackendWasm } {
  beforeAll(async () => {
    await selectBackend('wasm');
    const b = tf.backend() as BackendWasm;
    backend = b;
    return () => blocks.splice(0).forEach((p) => emscripten(b)._free(p));
  });
  return {
    get backend(): BackendWasm {
      if (backend === null) throw new Error('the wasm backend is not set up yet');
      return backend;
    },
  };
}

const em = () => emscripten(backend!);

/** A heap buffer holding `values`; returns its byte address. */
export function heapBuffer(values: ArrayLike<number>): number {
  const ptr = em()._malloc(Math.max(1, values.length) * 4);
  blocks.push(ptr);
  em().HEAPF32.set(values, ptr / 4);
  return ptr;
}

export const read = (ptr: number, n: number): Float32Array =>
  em().HEAPF32.slice(ptr / 4, ptr / 4 + n);

export function writeHeap(ptr: number, values: ArrayLike<number>): void {
  em().HEAPF32.set(values, ptr / 4);
}

export const random = (n: number, seed: number): Float32Array => {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => r() * 2 - 1);
};
