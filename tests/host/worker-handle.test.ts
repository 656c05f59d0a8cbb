import { describe, expect, it } from 'vitest';
import { describeExit, STDERR_TAIL_CHARS } from '../../src-main/host/worker-handle';

// What tfjs' cpu backend prints on its first tensor in Node (tf-backend-cpu, backend_util.warn).
const TFJS_GREETING =
  '\n============================\nHi, looks like you are running TensorFlow.js in Node.js. To speed things up dramatically, install our node backend, visit https://github.com/tensorflow/tfjs-node for more details. \n============================\n';

describe('describeExit gives a crash a reason worth reading', () => {
  it.each([
    ["tfjs' greeting banner last", null, 'SIGKILL', TFJS_GREETING, 'was killed (SIGKILL)'],
    [
      "the Vulkan loader's complaint when webgpu probed for an adapter",
      null,
      'SIGKILL',
      `${TFJS_GREETING}error: XDG_RUNTIME_DIR is invalid or not set in the environment.\n`,
      'was killed (SIGKILL)',
    ],
    [
      "Dawn's report of an adapter it passed over while probing",
      null,
      'SIGKILL',
      `${TFJS_GREETING}Warning: Vulkan shaderUniform*ArrayDynamicIndexing required.\n - While initializing adapter (backend=BackendType::Vulkan)\n    at InitializeImpl (/home/runner/work/node-webgpu/node-webgpu/third_party/dawn/src/dawn/native/vulkan/PhysicalDeviceVk.cpp:257)\n`,
      'was killed (SIGKILL)',
    ],
    [
      "the worker's own error line, not its stack's last frame",
      70,
      null,
      `${TFJS_GREETING}worker error: RangeError: offset is out of bounds\n    at Float32Array.set (<anonymous>)\n    at train (/app/trainer.js:1:2)\n`,
      'exited with code 70: worker error: RangeError: offset is out of bounds',
    ],
    [
      "the worker's own line before tfjs' banner",
      0,
      null,
      `worker stopping: received SIGTERM\n${TFJS_GREETING}`,
      'exited with code 0: worker stopping: received SIGTERM',
    ],
    [
      'an engine message when the worker said nothing itself',
      null,
      'SIGABRT',
      `FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n${TFJS_GREETING}`,
      'was killed (SIGABRT): FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory',
    ],
  ])('%s', (_, code, signal, stderr, reason) => {
    expect(describeExit(code, signal, stderr)).toBe(reason);
  });

  it('never quotes the first line of a full tail: it may be the end of a cut line', () => {
    const fragment = 'of memory, so the line above was dropped\n';
    const tail = fragment + '='.repeat(STDERR_TAIL_CHARS - fragment.length - 1) + '\n';
    expect(tail).toHaveLength(STDERR_TAIL_CHARS);
    expect(describeExit(null, 'SIGKILL', tail)).toBe('was killed (SIGKILL)');
  });
});
