import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend';
import { runOn, type HostTensor, type Out } from './accel/harness';
import { swiftShaderIcd } from './swiftshader';

/** What the webgpu tests share. They run on SwiftShader: see swiftshader.ts. */

/** The test file runs on webgpu over SwiftShader, chosen by name as auto would refuse it. */
export function useSwiftShader(): void {
  beforeAll(async () => {
    // Read by the Vulkan loader when Dawn creates its instance, i.e. on the first adapter request.
    process.env.VK_ICD_FILENAMES = swiftShaderIcd();
    const info = await selectBackend('webgpu');
    expect(info.adapter).toMatchObject({ architecture: 'swiftshader', software: true });
  });
}

export type GpuTestBackend = 'cpu' | 'webgpu';

/** Runs `fn` on `backend` from fresh tensors of `inputs`; leaves webgpu active afterwards. */
export const onBackend = (
  backend: GpuTestBackend,
  inputs: HostTensor[],
  fn: (...ts: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
): Promise<Out[]> => runOn(backend, inputs, fn, 'webgpu');
