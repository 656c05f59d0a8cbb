import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export type { BackendWasm };

/** Shape of the argument tfjs passes to every kernelFunc, narrowed to the wasm backend. */
export interface WasmKernelArgs<A> {
  inputs: tf.NamedTensorInfoMap;
  backend: BackendWasm;
  attrs: A;
}

export type Shape4D = [number, number, number, number];

/**
 * The registry entry of one of our kernels. The registry's signature is backend-agnostic; these
 * are only ever registered for 'wasm', so the backend and attrs casts are sound. A kernel that
 * replaces a built-in passes it: if ours is registered before the backend initialises, the
 * built-in's setup (which binds the wasm function our fallback path calls) must still run.
 */
export function wasmKernelConfig<A>(
  kernelName: string,
  run: (args: WasmKernelArgs<A>) => tf.TensorInfo,
  replaces?: tf.KernelConfig,
): tf.KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    ...(replaces ? { setupFunc: (backend) => replaces.setupFunc?.(backend) } : {}),
    kernelFunc: ({ inputs, backend, attrs }) =>
      run({ inputs, backend: backend as BackendWasm, attrs: attrs as unknown as A }),
  };
}

/**
 * Runs the built-in kernel ours displaced, for a call ours does not take (a shape, dtype or
 * attribute outside its fast path). `builtin` is what tf.getKernel gave before ours was
 * registered; without one (a tfjs without that kernel) the call fails with the kernel's name.
 */
export function runBuiltin<A>(
  kernelName: string,
  builtin: tf.KernelConfig | undefined,
  { inputs, backend, attrs }: WasmKernelArgs<A>,
): tf.TensorInfo {
  if (builtin === undefined) {
    throw new Error(`${kernelName}: the wasm backend has no built-in kernel.`);
  }
  return builtin.kernelFunc({
    inputs,
    backend,
    attrs: attrs as unknown as tf.NamedAttrMap,
  }) as tf.TensorInfo;
}

export function requireInput(
  inputs: tf.NamedTensorInfoMap,
  name: string,
  kernel: string,
): tf.TensorInfo {
  const t = inputs[name];
  if (t === undefined) {
    throw new Error(`${kernel}: missing input '${name}'.`);
  }
  if (t.dtype !== 'float32') {
    throw new Error(`${kernel}: input '${name}' must be float32, got ${t.dtype}.`);
  }
  if (t.shape.length !== 4) {
    throw new Error(
      `${kernel}: input '${name}' must be rank 4 (NHWC), got shape [${t.shape.join(',')}].`,
    );
  }
  return t;
}

/**
 * Runs one of the backend's own (XNNPACK-backed) kernels on backend-level
 * TensorInfos. Going through the registry instead of tf ops keeps the
 * intermediates off the engine's tensor tracking and gradient tape; the caller
 * owns the result and must release it with `release`.
 */
export function runWasmKernel(
  kernelName: string,
  backend: BackendWasm,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap,
): tf.TensorInfo {
  const config = tf.getKernel(kernelName, 'wasm');
  if (config === undefined) {
    throw new Error(`accel: the wasm backend has no '${kernelName}' kernel to build on.`);
  }
  const out = config.kernelFunc({ inputs, backend, attrs });
  if (Array.isArray(out)) {
    throw new Error(`accel: '${kernelName}' unexpectedly returned ${out.length} outputs.`);
  }
  return out;
}

export function release(backend: BackendWasm, info: tf.TensorInfo): void {
  // Also frees any XNNPACK operator the backend cached for this buffer.
  backend.disposeData(info.dataId);
}

/**
 * A kernel's output of `shape`, computed by `fill` with scratch buffers from `scratch`: the
 * scratch is released when `fill` returns or throws, the output only when it throws.
 */
export function withScratch(
  backend: BackendWasm,
  shape: number[],
  fill: (out: tf.TensorInfo, scratch: (shape: number[]) => tf.TensorInfo) => void,
): tf.TensorInfo {
  const out = makeF32(backend, shape);
  const temps: tf.TensorInfo[] = [];
  try {
    fill(out, (s) => {
      const t = makeF32(backend, s);
      temps.push(t);
      return t;
    });
    return out;
  } catch (error) {
    release(backend, out);
    throw error;
  } finally {
    for (const t of temps) release(backend, t);
  }
}

/** A tensor's byte offset on the wasm heap, as our kernels take pointers. */
export function offsets(backend: BackendWasm): (t: tf.TensorInfo) => number {
  return (t) => backend.getMemoryOffset(t.dataId);
}

/**
 * Live view of a float32 tensor on the wasm heap. Any heap allocation
 * (makeOutput, running a kernel) may grow and detach the memory, so take
 * views only after the last allocation.
 */
export function heapF32(backend: BackendWasm, info: tf.TensorInfo): Float32Array {
  const view = backend.typedArrayFromHeap(info);
  if (!(view instanceof Float32Array)) {
    throw new Error(`accel: expected a float32 buffer, got ${info.dtype}.`);
  }
  return view;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * The conv kernels derive padding and crops arithmetically; a geometry we did
 * not anticipate must fail loudly rather than hand tfjs a mis-shaped gradient.
 */
export function checkShape(
  backend: BackendWasm,
  out: tf.TensorInfo,
  expected: readonly number[],
  kernel: string,
): tf.TensorInfo {
  if (!sameShape(out.shape, expected)) {
    release(backend, out);
    throw new Error(
      `${kernel} (wasm training kernels): internal shape error, got [${out.shape.join(',')}], expected [${expected.join(',')}].`,
    );
  }
  return out;
}

/** Creates a float32 output on the wasm heap; its memory is not zeroed. */
export function makeF32(backend: BackendWasm, shape: number[]): tf.TensorInfo {
  return backend.makeOutput(shape, 'float32');
}

export function assertNHWC(dataFormat: string | undefined, kernel: string): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(
      `${kernel} (wasm training kernels): only dataFormat 'NHWC' is supported, got '${dataFormat}'.`,
    );
  }
}

/**
 * tfjs never passes dilations to the backprop kernels (the conv2d gradient
 * rejects them earlier), but runKernel can be called directly, so refuse
 * instead of silently computing an undilated gradient.
 */
export function assertNoDilation(dilations: unknown, kernel: string): void {
  if (dilations === undefined) return;
  const d = typeof dilations === 'number' ? [dilations, dilations] : dilations;
  if (!Array.isArray(d) || d.some((v) => v !== 1)) {
    throw new Error(
      `${kernel} (wasm training kernels): dilations other than 1 are not supported, got ${JSON.stringify(dilations)}.`,
    );
  }
}

/** The parts of the backend's emscripten module we use (not in its public typings). */
export interface EmscriptenBits {
  asm: { memory: object } | undefined;
  HEAPF32: Float32Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  cwrap(name: string, ret: null, args: string[]): (...args: unknown[]) => void;
  tfjs: {
    registerTensor(id: number, size: number, offset: number): void;
    disposeData(id: number): void;
  };
}

export function emscripten(backend: BackendWasm): EmscriptenBits {
  return backend.wasm as unknown as EmscriptenBits;
}
