import { readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tinyCpuRun } from '../fixtures/train-configs';
import { tempDir } from '../helpers';
import { serviceHarness } from './harness';

/**
 * Resume without an epoch when the latest checkpoints are damaged: it continues from the newest
 * valid one and says which, and why the later ones were passed over.
 */

const root = tempDir();
const { init, ask, until } = serviceHarness();

async function trainedRun(epochs: number): Promise<string> {
  const { runId } = await ask({ type: 'train', config: { ...tinyCpuRun, epochs } });
  await until((e) => e.type === 'finished' && e.runId === runId);
  return runId;
}

const weights = (runId: string, epoch: number) =>
  path.join(root, runId, `epoch-${String(epoch).padStart(3, '0')}`, 'weights.bin');

/** Every file under a folder with its size and modification time: proof nothing was written. */
function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((name) => {
      const s = statSync(path.join(dir, name));
      return `${name} ${s.size} ${s.mtimeMs}`;
    });
}

beforeAll(() => init(root, 'cpu'));

describe('resume when the latest checkpoints are damaged', () => {
  it('continues the same run from the latest valid checkpoint and says which it skipped', async () => {
    const runId = await trainedRun(3);
    const intact = statSync(weights(runId, 3)).size;
    truncateSync(weights(runId, 3), 10);
    writeFileSync(path.join(root, runId, 'epoch-002', 'checkpoint.json'), '{');

    const resumed = await ask({ type: 'resume', runId, epoch: null, epochs: 4 });
    expect(resumed).toEqual({
      runId,
      branchedFrom: null,
      epoch: 1,
      skipped: [
        { epoch: 3, reason: `weights.bin is 10 bytes, expected ${intact} (truncated)` },
        { epoch: 2, reason: 'checkpoint.json is not valid JSON' },
      ],
    });
    expect(
      await until((e) => e.type === 'started' && e.runId === runId && e.startEpoch !== 1),
    ).toMatchObject({ startEpoch: 2 });
    await until((e) => e.type === 'finished' && e.runId === runId && e.epochs === 4);
    // The damaged epochs were trained again and replaced.
    const { runs } = await ask({ type: 'listRuns' });
    const run = runs.find((r) => r.runId === runId)!;
    expect(run.status).toBe('finished');
    expect(run.checkpoints.map((c) => [c.epoch, c.status])).toEqual([
      [1, 'ok'],
      [2, 'ok'],
      [3, 'ok'],
      [4, 'ok'],
    ]);
  });

  it('fails with a clear message and writes nothing when every checkpoint is damaged', async () => {
    const runId = await trainedRun(2);
    truncateSync(weights(runId, 1), 0);
    truncateSync(weights(runId, 2), 0);
    const before = snapshot(root);
    const runJson = readFileSync(path.join(root, runId, 'run.json'), 'utf8');
    await expect(ask({ type: 'resume', runId, epoch: null, epochs: 3 })).rejects.toThrow(
      new RegExp(
        `^run ${runId} has no valid checkpoint: epoch 2 weights\\.bin is 0 bytes, expected \\d+ \\(truncated\\); epoch 1 weights\\.bin is 0 bytes`,
      ),
    );
    expect(snapshot(root)).toEqual(before);
    expect(readFileSync(path.join(root, runId, 'run.json'), 'utf8')).toBe(runJson);
  });
});
