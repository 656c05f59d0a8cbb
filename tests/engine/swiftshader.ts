import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Where the webgpu tests find a Vulkan driver. This machine (and CI) has no GPU: they run on
 * SwiftShader, the Vulkan-on-CPU driver Debian's chromium ships, which Dawn accepts (bookworm's
 * lavapipe it rejects). A user's machine finds its GPU driver by itself; here the ICD is named explicitly.
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
