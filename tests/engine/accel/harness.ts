import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, expect } from 'vitest';
import { mulberry32 } from '../../../src-main/engine/random';
import {
  accelKernelsRegistered,
  registerAccelKernels,
  unregisterAccelKernels,
} from '../../../src-main/engine/accel/index';

/**
 * What the wasm kernel tests share: seeded inputs kept off any backend, running one function on
 * 'cpu' (the reference) or 'wasm' (ours) from those inputs, comparing the outputs, and counting
 * the wasm backend's buffers to catch leaks and needless copies.
 */

export type Backend = 'cpu' | 'wasm';
export type DType = 'float32' | 'int32' | 'bool';

export interface HostTensor {
  data: Float32Array | Int32Array | Uint8Array;
  shape: number[];
  dtype: DType;
}

export interface Out {
  shape: number[];
  dtype: string;
  values: number[];
}

export const sizeOf = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * Seeded values: float32 in [-1, 1) (or `gen`'s, from the same stream), int32 in [-100, 100),
 * bool half and half.
 */
export function randomHost(
  shape: number[],
  seed: number,
  dtype: DType = 'float32',
  gen?: (r: () => number) => number,
): HostTensor {
  const rand = mulberry32(seed);
  const size = sizeOf(shape);
  if (dtype === 'int32') {
    return {
      data: Int32Array.from({ length: size }, () => Math.floor(rand() * 200) - 100),
      shape,
      dtype,
    };
  }
  if (dtype === 'bool') {
    return { data: Uint8Array.from({ length: size }, () => (rand() < 0.5 ? 1 : 0)), shape, dtype };
  }
  const next = gen ? () => gen(rand) : () => rand() * 2 - 1;
  return { data: Float32Array.from({ length: size }, next), shape, dtype };
}

/** Runs `fn` on `backend` from fresh tensors of `inputs`; leaves 'wasm' active afterwards. */
export function onBackend(
  backend: Backend,
  inputs: HostTensor[],
  fn: (...ts: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
): Promise<Out[]> {
  return runOn(backend, inputs, fn, 'wasm');
}

/** Runs `fn` on `backend` from fresh tensors of `inputs`, then makes `restore` active again. */
export async function runOn(
  backend: string,
  inputs: HostTensor[],
  fn: (...ts: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
  restore: string,
): Promise<Out[]> {
  await tf.setBackend(backend);
  const ts = inputs.map((h) => tf.tensor(h.data, h.shape, h.dtype));
  try {
    const out = tf.tidy(() => fn(...ts));
    const outs = Array.isArray(out) ? out : [out];
    const values = await Promise.all(
      outs.map(async (t) => ({
        shape: t.shape,
        dtype: t.dtype,
        values: Array.from(await t.data()),
      })),
    );
    tf.dispose(outs);
    return values;
  } finally {
    tf.dispose(ts);
    await tf.setBackend(restore);
  }
}

/** `fn` on 'cpu' (the reference) and on 'wasm' (ours), from the same inputs. */
export async function onBoth(
  inputs: HostTensor[],
  fn: (...ts: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
): Promise<{ cpu: Out[]; wasm: Out[] }> {
  const cpu = await onBackend('cpu', inputs, fn);
  const wasm = await onBackend('wasm', inputs, fn);
  return { cpu, wasm };
}

/**
 * Calls a kernel directly, the way tfjs ops do. Attrs are typed loosely because tfjs's
 * NamedAttrMap has no room for optional or tuple attrs.
 */
export function runKernel(name: string, inputs: tf.NamedTensorMap, attrs: object): tf.Tensor {
  return tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;
}

/** Guards against vacuous comparisons of all-zero outputs. */
export function expectNonTrivial(ref: Out): void {
  expect(ref.values.some((v) => Math.abs(v) > 1e-3)).toBe(true);
}

/** Same shape and dtype, and values within `tol` relative to the reference's largest (≥ 1). */
export function expectClose(ref: Out, got: Out, tol = 1e-5): void {
  expect(got.shape).toEqual(ref.shape);
  expect(got.dtype).toBe(ref.dtype);
  expect(got.values.length).toBe(ref.values.length);
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < ref.values.length; i++) {
    diff = Math.max(diff, Math.abs(ref.values[i]! - got.values[i]!));
    scale = Math.max(scale, Math.abs(ref.values[i]!));
  }
  expect(Number.isNaN(diff) ? Infinity : diff / scale).toBeLessThan(tol);
}

/** Buffers the active backend holds: equal before and after a call means it leaked nothing. */
export function buffers(): number {
  return (tf.backend() as tf.KernelBackend & { numDataIds(): number }).numDataIds();
}

/** The test file runs on 'wasm' with our kernels, and leaves them registered for the next. */
export function useAccelKernels(): void {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    registerAccelKernels();
  });
  afterAll(() => registerAccelKernels());
}

/**
 * Our kernels replace the backend's built-in ones (where it has them) when registered, any number
 * of times, and unregistering brings the built-ins back.
 */
export function expectRegisteredOverBuiltins(kernelNames: readonly string[]): void {
  const active = (name: string) => tf.getKernel(name, 'wasm');
  unregisterAccelKernels();
  const builtins = kernelNames.map(active);
  for (const b of builtins) expect(b).toBeDefined();
  const expectOurs = () => {
    expect(accelKernelsRegistered()).toBe(true);
    kernelNames.forEach((name, i) => expect(active(name)).not.toBe(builtins[i]));
  };
  registerAccelKernels();
  const ours = kernelNames.map(active);
  registerAccelKernels();
  expectOurs();
  kernelNames.forEach((name, i) => expect(active(name)).toBe(ours[i]));
  unregisterAccelKernels();
  kernelNames.forEach((name, i) => expect(active(name)).toBe(builtins[i]));
  registerAccelKernels();
  expectOurs();
}
