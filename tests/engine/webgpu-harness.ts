import * as tf from '@tensorflow/tfjs';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { beforeAll, expect } from 'vitest';
import { selectBackend } from '../../src-main/engine/backend';
import { runOn, type HostTensor, type Out } from './accel/harness';

/**
 * What the webgpu tests share. This machine (and CI) has no GPU: they run on SwiftShader, the
 * Vulkan-on-CPU driver Debian's chromium ships, which Dawn accepts (bookworm's lavapipe it
 * rejects). A user's machine finds its GPU driver by itself; here the ICD is named explicitly.
 * No ICD means a loud failure, never a skip: CI installs chromium and libvulkan1.
 */

const KNOWN_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

export function swiftShaderIcd(): string {
  const fromEnv = process.env.VK_ICD_FILENAMES;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  try {
    const listed = execFileSync('dpkg', ['-L', 'chromium-common'], { encoding: 'utf8' })
      .split('\n')
      .find((line) => line.endsWith('vk_swiftshader_icd.json'));
    if (listed && existsSync(listed)) return listed;
  } catch {
    // not Debian, or chromium-common not installed: try the known path
  }
  if (existsSync(KNOWN_ICD)) return KNOWN_ICD;
  throw new Error(
    "SwiftShader's Vulkan ICD not found: install Debian's chromium and libvulkan1 (.ci/run does)",
  );
}

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
