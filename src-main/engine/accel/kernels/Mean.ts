// The built-in kernel must be registered before it is looked up below.
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { Mean } from '@tensorflow/tfjs-core';
import { type WasmKernelArgs, runBuiltin, wasmKernelConfig } from '../wasm-backend';
import { type SumAttrs, reduceLeadingAxes } from './Sum';

const KERNEL = Mean;

export type MeanAttrs = SumAttrs;

/**
 * The backend's own Mean, like its Sum, reduces only inner-most axes and transposes the whole
 * input first for anything else. BatchNorm's batch statistics (tf.moments over [0, 1, 2]) hit
 * exactly that twice per layer and step: ~17 ms each on [128, 26, 26, 32].
 */
const builtin = tf.getKernel(KERNEL, 'wasm');

/**
 * Mean over all leading axes, keeping the last: [..., C] → [C] (or [1, ..., 1, C] with keepDims),
 * Sum's single pass in float64, divided by the row count. Other reductions and non-float32 inputs go to
 * the built-in kernel.
 */
export function meanWasm({ inputs, backend, attrs }: WasmKernelArgs<MeanAttrs>): tf.TensorInfo {
  const x = inputs.x;
  if (x === undefined) throw new Error(`${KERNEL}: missing input 'x'.`);
  const reduced = reduceLeadingAxes(backend, x, attrs, 'mean');
  if (reduced) return reduced;
  return runBuiltin(KERNEL, builtin, { inputs, backend, attrs });
}

export const meanConfig = wasmKernelConfig(KERNEL, meanWasm, builtin);
