import { appendFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { resolveTrainConfig } from '../../src-main/contract/config';
import type { EpochMetrics } from '../../src-main/contract/messages';
import {
  appendMetricsLog,
  createRun,
  markRunCrashed,
  METRICS_LOG,
  newRunId,
  readMetricsLog,
  readRun,
  recordRunEnd,
} from '../../src-main/engine/runs';
import { failWrites, smallDisk, type SmallDisk } from '../fixtures/small-disk';
import { tempDir } from '../helpers';

vi.mock('node:fs', async (real) =>
  (await import('../fixtures/small-disk')).hookedFs(await real<typeof import('node:fs')>()),
);

/** A run's own files on a disk with no room left. */

const base = tempDir();
const config = resolveTrainConfig({ model: 'mlp', hiddenUnits: 16, backend: 'cpu' });
const disks: SmallDisk[] = [];
afterAll(() => {
  for (const disk of disks) disk.unmount();
});

const metrics = (epoch: number): EpochMetrics => ({
  epoch,
  loss: 1,
  accuracy: 0.5,
  valLoss: null,
  valAccuracy: null,
  seconds: 1,
  backend: 'cpu',
});

/** Fills a disk to the last byte, as a failed checkpoint write would leave it. */
function fill(dir: string): void {
  const filler = path.join(dir, 'filler');
  const chunk = Buffer.alloc(4096, 1);
  for (;;) {
    try {
      appendFileSync(filler, chunk);
    } catch {
      break;
    }
  }
  for (;;) {
    try {
      appendFileSync(filler, Buffer.alloc(1, 1));
    } catch {
      return;
    }
  }
}

describe('recordRunEnd on a full disk', () => {
  it('lands the failed status in run.json, and leaves no temp file', () => {
    const disk = smallDisk(path.join(base, 'full'), { sizeKb: 64, largeWritesThatFit: 0 });
    disks.push(disk);
    const runId = newRunId('mlp');
    createRun(disk.dir, runId, config, 'cpu');
    // On a real tmpfs nothing more fits; without one, the atomic write's temp file is refused.
    let undo = () => {};
    if (disk.mounted) fill(disk.dir);
    else undo = failWrites((f) => f.includes('run.json.tmp-'), 'ENOSPC');
    try {
      const reason =
        'disk full (ENOSPC) while saving the checkpoint of epoch 2; free some space and resume';
      recordRunEnd(disk.dir, runId, { status: 'failed', reason });
      expect(readRun(disk.dir, runId)).toMatchObject({ status: 'failed', reason, pid: null });
      expect(readdirSync(path.join(disk.dir, runId))).toEqual(['run.json']);
    } finally {
      undo();
    }
  });
});

describe('markRunCrashed on a full disk', () => {
  it('still marks the run crashed, so it does not look running', () => {
    const disk = smallDisk(path.join(base, 'full-crash'), { sizeKb: 64, largeWritesThatFit: 0 });
    disks.push(disk);
    const runId = newRunId('mlp');
    createRun(disk.dir, runId, config, 'cpu');
    let undo = () => {};
    if (disk.mounted) fill(disk.dir);
    else undo = failWrites((f) => f.includes('run.json.tmp-'), 'ENOSPC');
    try {
      markRunCrashed(disk.dir, runId, 'the training worker was killed (SIGKILL)');
      expect(readRun(disk.dir, runId)).toMatchObject({
        status: 'crashed',
        reason: 'the training worker was killed (SIGKILL)',
      });
    } finally {
      undo();
    }
  });
});

describe('metrics.jsonl', () => {
  it('starts a fresh line after a line cut short, so the next epoch is not lost', () => {
    const root = path.join(base, 'plain');
    const runId = newRunId('mlp');
    createRun(root, runId, config, 'cpu');
    appendMetricsLog(root, runId, metrics(1));
    // What a full disk leaves behind: the start of epoch 2's line, without its newline.
    appendFileSync(path.join(root, runId, METRICS_LOG), JSON.stringify(metrics(2)).slice(0, 20));
    appendMetricsLog(root, runId, metrics(2));
    expect(readMetricsLog(root, runId).map((m) => m.epoch)).toEqual([1, 2]);
  });
});
