import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
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
import { failWrites, smallDisksUnder } from '../fixtures/small-disk';
import { plainMetrics, smallMlp } from '../fixtures/runs';
import { tempDir } from '../helpers';

vi.mock('node:fs', async (real) =>
  (await import('../fixtures/small-disk')).hookedFs(await real<typeof import('node:fs')>()),
);

/** A run's own files on a disk with no room left. */

const base = tempDir();
const smallDisk = smallDisksUnder(base);

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

/** A new run on a disk with no room for run.json's next write; `undo` lets writes through again. */
function runOnFullDisk(name: string): { dir: string; runId: string; undo: () => void } {
  const disk = smallDisk(name, { sizeKb: 64, largeWritesThatFit: 0 });
  const runId = newRunId('mlp');
  createRun(disk.dir, runId, smallMlp, 'cpu');
  // On a real tmpfs nothing more fits; without one, the atomic write's temp file is refused.
  let undo = () => {};
  if (disk.mounted) fill(disk.dir);
  else undo = failWrites((f) => f.includes('run.json.tmp-'), 'ENOSPC');
  return { dir: disk.dir, runId, undo };
}

describe('recordRunEnd on a full disk', () => {
  it('lands the failed status in run.json, and leaves no temp file', () => {
    const { dir, runId, undo } = runOnFullDisk('full');
    try {
      const reason =
        'disk full (ENOSPC) while saving the checkpoint of epoch 2; free some space and resume';
      recordRunEnd(dir, runId, { status: 'failed', reason });
      expect(readRun(dir, runId)).toMatchObject({ status: 'failed', reason, pid: null });
      expect(readdirSync(path.join(dir, runId))).toEqual(['run.json']);
    } finally {
      undo();
    }
  });
});

describe('markRunCrashed on a full disk', () => {
  it('still marks the run crashed, so it does not look running', () => {
    const { dir, runId, undo } = runOnFullDisk('full-crash');
    try {
      markRunCrashed(dir, runId, 'the training worker was killed (SIGKILL)');
      expect(readRun(dir, runId)).toMatchObject({
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
    createRun(root, runId, smallMlp, 'cpu');
    appendMetricsLog(root, runId, plainMetrics(1));
    // What a full disk leaves behind: the start of epoch 2's line, without its newline.
    appendFileSync(
      path.join(root, runId, METRICS_LOG),
      JSON.stringify(plainMetrics(2)).slice(0, 20),
    );
    appendMetricsLog(root, runId, plainMetrics(2));
    expect(readMetricsLog(root, runId).map((m) => m.epoch)).toEqual([1, 2]);
  });
});

describe('run.json sweep tag', () => {
  it('is written for a sweep trial and absent (still valid) for a run.json written before tags', () => {
    const root = path.join(base, 'tags');
    const tagged = newRunId('mlp');
    createRun(root, tagged, smallMlp, 'cpu', null, { id: 'sweep-a', trial: 3 });
    expect(readRun(root, tagged).sweep).toEqual({ id: 'sweep-a', trial: 3 });
    const plain = newRunId('mlp');
    createRun(root, plain, smallMlp, 'cpu');
    const file = path.join(root, plain, 'run.json');
    expect(readFileSync(file, 'utf8')).not.toContain('sweep');
    expect(readRun(root, plain).sweep).toBeUndefined();
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace('"runId"', '"sweep": {"id": "../x", "trial": 0}, "runId"'),
    );
    expect(() => readRun(root, plain)).toThrow(/run\.json is malformed/);
  });
});
