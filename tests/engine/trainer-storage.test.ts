import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { resolveTrainConfig } from '../../src-main/contract/config';
import type { BackendInfo, WorkerEvent } from '../../src-main/contract/messages';
import { selectBackend } from '../../src-main/engine/backend';
import { listRuns, loadCheckpoint } from '../../src-main/engine/checkpoints';
import { loadDataset } from '../../src-main/engine/data';
import { readRun } from '../../src-main/engine/runs';
import { failWrites, smallDisk, type SmallDisk } from '../fixtures/small-disk';
import { startTraining } from '../fixtures/training';
import { tempDir } from '../helpers';

vi.mock('node:fs', async (real) =>
  (await import('../fixtures/small-disk')).hookedFs(await real<typeof import('node:fs')>()),
);

/**
 * A run whose disk fills up or turns read-only ends as `failed` with a reason a user can act on;
 * it never stays `running`, leaves no temp folders, and its earlier checkpoints still load.
 */

const base = tempDir();
const dataset = loadDataset(null);
let backend: BackendInfo;
const disks: SmallDisk[] = [];

// Checkpoints of this model with Adam's state are about 160 KB (weights.bin 153 KB).
const config = resolveTrainConfig({
  model: 'mlp',
  hiddenUnits: 16,
  epochs: 4,
  batchSize: 50,
  limit: 300,
  validationSize: 100,
  backend: 'cpu',
  threads: 1,
});

beforeAll(async () => {
  backend = await selectBackend('cpu');
});

afterAll(() => {
  for (const disk of disks) disk.unmount();
});

function disk(name: string, sizeKb: number, largeWritesThatFit: number): SmallDisk {
  const d = smallDisk(path.join(base, name), { sizeKb, largeWritesThatFit });
  disks.push(d);
  return d;
}

const train = (root: string, onEvent?: (e: WorkerEvent) => void) =>
  startTraining({ root, dataset, config, backend, onEvent });

const tempEntries = (root: string, runId: string) =>
  readdirSync(path.join(root, runId)).filter((n) => n.includes('.tmp-'));

async function expectEpochOneIntact(root: string, runId: string) {
  const run = (await listRuns(root)).find((r) => r.runId === runId)!;
  expect(run.checkpoints.map((c) => [c.epoch, c.status])).toEqual([[1, 'ok']]);
  const loaded = await loadCheckpoint(root, runId, 1);
  expect(loaded.epoch).toBe(1);
  loaded.model.optimizer?.dispose();
  loaded.model.dispose();
  return run;
}

describe('a disk that fills up mid-training', () => {
  it('ends the run as failed, saying so, with the temp folder gone and epoch 1 intact', async () => {
    // 256 KB: run.json, logs and epoch 1's checkpoint fit; a second checkpoint does not.
    const { dir } = disk('full', 256, 1);
    const { runId, done, events } = train(dir);
    const reason =
      'disk full (ENOSPC) while saving the checkpoint of epoch 2; free some space and resume';
    await expect(done).rejects.toThrow(reason);
    expect(events.filter((e) => e.type === 'checkpoint').map((e) => e.epoch)).toEqual([1]);
    expect(readRun(dir, runId)).toMatchObject({ status: 'failed', reason, pid: null });
    expect(tempEntries(dir, runId)).toEqual([]);
    expect(readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
    const run = await expectEpochOneIntact(dir, runId);
    expect(run).toMatchObject({ status: 'failed', reason });
  });
});

describe('a folder that turns read-only mid-training', () => {
  it('fails with a reason that says read-only, and epoch 1 still loads', async () => {
    const readOnly = disk('read-only', 4096, 100);
    const { runId, done } = train(readOnly.dir, (e) => {
      if (e.type === 'checkpoint' && e.epoch === 1) readOnly.makeReadOnly();
    });
    await expect(done).rejects.toThrow(
      `the checkpoints folder ${readOnly.dir} is read-only (EROFS) while saving the checkpoint of epoch 2; make it writable or choose another folder`,
    );
    expect(tempEntries(readOnly.dir, runId)).toEqual([]);
    await expectEpochOneIntact(readOnly.dir, runId);
    // Nothing can be written there, run.json included: the worker reports it (see service tests).
    expect(readRun(readOnly.dir, runId).status).toBe('running');
  });
});

describe('logs that cannot be appended', () => {
  it.each([
    [
      'metrics.jsonl',
      (f: string) => f.endsWith('metrics.jsonl'),
      'appending epoch 1 to metrics.jsonl',
    ],
    [
      'a TensorBoard event file',
      (f: string) => f.includes(`${path.sep}train${path.sep}events.out`),
      "writing epoch 1's TensorBoard events",
    ],
  ])('end the run as failed when %s is on a full disk', async (_, match, doing) => {
    const root = path.join(base, `logs-${disks.length}`);
    const undo = failWrites((f) => f.startsWith(root) && match(f), 'ENOSPC');
    try {
      const { runId, done } = train(root);
      const reason = `disk full (ENOSPC) while ${doing}; free some space and resume`;
      await expect(done).rejects.toThrow(reason);
      expect(readRun(root, runId)).toMatchObject({ status: 'failed', reason });
      expect(existsSync(path.join(root, runId, 'epoch-001'))).toBe(true);
      expect(JSON.parse(readFileSync(path.join(root, runId, 'run.json'), 'utf8')).status).toBe(
        'failed',
      );
    } finally {
      undo();
    }
  });
});
