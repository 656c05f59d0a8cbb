import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportCheckpoint } from '../../../src-main/engine/export/export-checkpoint';
import { writeRun } from '../../fixtures/checkpoints';
import { tempDir } from '../../helpers';
import { useSwiftShader } from '../webgpu-harness';

/**
 * The worker exports on the backend it trains with (the CLI on the cpu): on webgpu the export
 * must read the weights back from the GPU and write the very bytes the cpu writes.
 */

useSwiftShader();
const root = tempDir();
const out = tempDir();

describe('export on webgpu', () => {
  it('writes the ONNX file the cpu writes', async () => {
    const runId = await writeRun(root, 1);
    expect(tf.getBackend()).toBe('webgpu');

    const request = (file: string) => ({
      runId,
      epoch: 1,
      format: 'onnx' as const,
      out: path.join(out, file),
      withOptimizer: false,
      overwrite: false,
    });
    await exportCheckpoint(root, request('webgpu.onnx'));
    await tf.setBackend('cpu');
    await exportCheckpoint(root, request('cpu.onnx'));
    expect(readFileSync(path.join(out, 'webgpu.onnx'))).toEqual(
      readFileSync(path.join(out, 'cpu.onnx')),
    );
  });
});
