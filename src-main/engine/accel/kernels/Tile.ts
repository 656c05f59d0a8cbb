// The built-in kernel must be registered before it is looked up below.
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { Tile, type TileAttrs } from '@tensorflow/tfjs-core';
import {
  type BackendWasm,
  type WasmKernelArgs,
  runBuiltin,
  wasmKernelConfig,
} from '../wasm-backend';

const KERNEL = Tile;

/**
 * The backend's own Tile computes every output element's source index on its own (~40 ns per
 * element): BatchNorm's gradient tiles 1/√(var + ε) from [1, 1, 1, C] to the whole activation,
 * e.g. [128, 26, 26, 32] with reps [128, 26, 26, 1], which took ~100 ms per layer and step.
 */
const builtin = tf.getKernel(KERNEL, 'wasm');

type Heap = Float32Array | Int32Array | Uint8Array;

/**
 * Tile as block copies on the heap: the innermost axis that is actually repeated is copied as one
 * contiguous block per source row, then every repeated axis is filled by doubling the part already
 * written (copyWithin), from the inside out. [1, 1, 1, C] → [N, H, W, C] is one C-long copy and
 * ~log2(N·H·W) memmoves. Layouts that would need very many tiny copies (a short repeated inner
 * block in a large tensor) are left to the built-in, as are dtypes it handles differently.
 */
export function tileWasm({ inputs, backend, attrs }: WasmKernelArgs<TileAttrs>): tf.TensorInfo {
  const x = inputs.x;
  if (x === undefined) throw new Error(`${KERNEL}: missing input 'x'.`);
  const plan = planTile(x, attrs.reps);
  if (plan === null) {
    return runBuiltin(KERNEL, builtin, { inputs, backend, attrs });
  }
  const out = backend.makeOutput(plan.outShape, x.dtype);
  if (plan.outSize === 0) return out;
  // Views only after the last allocation: makeOutput may grow (and detach) the heap.
  const src = heap(backend, x);
  const dst = heap(backend, out);
  tileInto(src, dst, plan);
  return out;
}

interface TilePlan {
  outShape: number[];
  outSize: number;
  /** Shapes and reps with the trailing unrepeated axes folded into the last kept one. */
  xShape: number[];
  reps: number[];
}

/** Numbers: how many contiguous source blocks below this length make the built-in preferable. */
const MIN_BLOCK = 16;
const MAX_SMALL_BLOCKS = 4096;

export function planTile(x: tf.TensorInfo, reps: readonly number[] | undefined): TilePlan | null {
  if (x.dtype !== 'float32' && x.dtype !== 'int32' && x.dtype !== 'bool') return null;
  const rank = x.shape.length;
  if (!Array.isArray(reps) || reps.length !== rank || rank === 0) return null;
  if (reps.some((r) => !Number.isInteger(r) || r < 0)) return null;
  const outShape = x.shape.map((d, i) => d * reps[i]!);
  const outSize = outShape.reduce((a, b) => a * b, 1);
  // Fold the trailing axes that are not repeated: they stay one contiguous block.
  let last = rank - 1;
  while (last > 0 && reps[last] === 1) last--;
  const inner = x.shape.slice(last + 1).reduce((a, b) => a * b, 1);
  const xShape = x.shape.slice(0, last + 1);
  xShape[last] = xShape[last]! * inner;
  const foldedReps = reps.slice(0, last + 1);
  const blocks = xShape.slice(0, last).reduce((a, b) => a * b, 1);
  if (outSize > 0 && xShape[last]! < MIN_BLOCK && blocks > MAX_SMALL_BLOCKS) return null;
  return { outShape, outSize, xShape, reps: foldedReps };
}

function heap(backend: BackendWasm, info: tf.TensorInfo): Heap {
  const view = backend.typedArrayFromHeap(info);
  if (!(view instanceof Float32Array || view instanceof Int32Array || view instanceof Uint8Array)) {
    throw new Error(`${KERNEL}: unexpected heap view for dtype ${info.dtype}.`);
  }
  return view;
}

function tileInto(src: Heap, dst: Heap, plan: TilePlan): void {
  const { xShape, reps } = plan;
  const rank = xShape.length;
  // Element counts of one index step along each axis, in the source and in the output.
  const srcStride = new Array<number>(rank);
  const dstStride = new Array<number>(rank);
  srcStride[rank - 1] = 1;
  dstStride[rank - 1] = 1;
  for (let i = rank - 2; i >= 0; i--) {
    srcStride[i] = srcStride[i + 1]! * xShape[i + 1]!;
    dstStride[i] = dstStride[i + 1]! * xShape[i + 1]! * reps[i + 1]!;
  }
  const fill = (axis: number, s: number, d: number): void => {
    const len = xShape[axis]!;
    if (axis === rank - 1) {
      dst.set(src.subarray(s, s + len), d);
    } else {
      for (let i = 0; i < len; i++)
        fill(axis + 1, s + i * srcStride[axis]!, d + i * dstStride[axis]!);
    }
    replicate(dst, d, len * dstStride[axis]!, reps[axis]!);
  };
  fill(0, 0, 0);
}

/** dst[start, start + len) repeated `times` times in a row, by doubling what is already there. */
function replicate(dst: Heap, start: number, len: number, times: number): void {
  const total = len * times;
  let filled = len;
  while (filled < total) {
    const n = Math.min(filled, total - filled);
    dst.copyWithin(start + filled, start, start + n);
    filled += n;
  }
}

export const tileConfig = wasmKernelConfig(KERNEL, tileWasm, builtin);
