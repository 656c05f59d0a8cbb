import { readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CommandType, ResultOf, WorkerEvent } from '../../src-main/contract/messages';
import { WorkerService } from '../../src-main/worker/service';
import { tempDir } from '../helpers';

/**
 * Resume without an epoch when the latest checkpoints are damaged: it continues from the newest
 * valid one and says which, and why the later ones were passed over.
 */

const root = tempDir();
const events: WorkerEvent[] = [];
const service = new WorkerService((e) => events.push(e));
let nextId = 1;

async function ask<T extends CommandType>(request: Record<string, unknown> & { type: T }) {
  const requestId = nextId++;
  await service.handle({ ...request, requestId });
  const reply = events.find((e) => e.type === 'reply' && e.requestId === requestId);
  if (!reply || reply.type !== 'reply') throw new Error('no reply');
  if (!reply.ok) throw new Error(reply.error ?? 'failed');
  return reply.result as ResultOf<T>;
}

async function until(match: (e: WorkerEvent) => boolean) {
  for (const started = Date.now(); Date.now() - started < 60_000;) {
    const found = events.find(match);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('timed out waiting for an event');
}

const config = {
  model: 'mlp',
  epochs: 3,
  batchSize: 50,
  learningRate: 0.002,
  learningRateDecay: 1,
  hiddenUnits: 16,
  dropout: 0,
  validationSize: 100,
  limit: 300,
  seed: 3,
  augment: false,
  backend: 'cpu',
  threads: 1,
} as const;

async function trainedRun(epochs: number): Promise<string> {
  const { runId } = await ask({ type: 'train', config: { ...config, epochs } });
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

beforeAll(async () => {
  await service.handle({
    type: 'init',
    checkpointsDir: root,
    dataDir: null,
    backend: 'cpu',
    threadEntry: null,
  });
});

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
