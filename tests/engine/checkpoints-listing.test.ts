import * as tf from '@tensorflow/tfjs';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveTrainConfig } from '../../src-main/contract/config';
import { listRuns } from '../../src-main/engine/checkpoints';
import { writeRun } from '../fixtures/checkpoints';
import { tempDir } from '../helpers';

/** Listings repeat after every epoch; they must not re-hash checkpoints that did not change. */

const root = tempDir();
const runId = 'listing-run';

beforeAll(async () => {
  await tf.setBackend('cpu');
  // ~12 MB of weights per checkpoint: hashing three of them takes a measurable while.
  const config = resolveTrainConfig({ model: 'mlp', hiddenUnits: 4096, backend: 'cpu' });
  await writeRun(root, 3, { config, runId });
});

const time = async (f: () => Promise<unknown>) => {
  const t = performance.now();
  await f();
  return performance.now() - t;
};

describe('listing checkpoints', () => {
  it('verifies a checkpoint once, and again only when its files change', async () => {
    const first = await time(() => listRuns(root));
    const again = Math.min(
      await time(() => listRuns(root)),
      await time(() => listRuns(root)),
      await time(() => listRuns(root)),
    );
    expect(again).toBeLessThan(first / 4);

    // Same size, different bytes, new mtime: a real change, caught by the next listing.
    const weights = path.join(root, runId, 'epoch-002', 'weights.bin');
    const bytes = readFileSync(weights);
    bytes[100] = bytes[100]! ^ 0xff;
    writeFileSync(weights, bytes);
    const checkpoints = (await listRuns(root))[0]!.checkpoints;
    expect(checkpoints.map((c) => c.status)).toEqual(['ok', 'damaged', 'ok']);
    expect(checkpoints[1]!.reason).toBe('weights.bin is corrupted (checksum mismatch)');
  });
});
