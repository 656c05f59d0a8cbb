import * as tf from '@tensorflow/tfjs';
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EpochMetrics } from '../../src-main/contract/messages';
import {
  deleteCheckpoints,
  epochDirName,
  listRuns,
  loadCheckpoint,
  removeStaleTempDirs,
  saveCheckpoint,
} from '../../src-main/engine/checkpoints';
import { buildModel, compileModel } from '../../src-main/engine/models';
import { createRun, newRunId, runDir, updateRun } from '../../src-main/engine/runs';
import { LOCK_FILE, acquireRunLock } from '../../src-main/engine/run-lock';
import { writeRun } from '../fixtures/checkpoints';
import { smallMlp } from '../fixtures/runs';
import { tempDir } from '../helpers';

const root = tempDir();
const metrics = (epoch: number): EpochMetrics => ({
  epoch,
  loss: 1 / epoch,
  accuracy: 0.5,
  valLoss: 0.9,
  valAccuracy: 0.8 + epoch / 100,
  seconds: 1,
  backend: 'cpu',
});

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const makeRun = (epochs: number) => writeRun(root, epochs, { metrics });

const file = (runId: string, epoch: number, name: string) =>
  path.join(root, runId, epochDirName(epoch), name);

describe('checkpoints on disk', () => {
  it('round-trips model weights exactly', async () => {
    const runId = newRunId('mlp');
    createRun(root, runId, smallMlp, 'cpu');
    const model = buildModel(smallMlp);
    compileModel(model, smallMlp.learningRate);
    await saveCheckpoint(root, runId, 1, model, metrics(1));
    const loaded = await loadCheckpoint(root, runId, 1);
    const a = model.getWeights().map((w) => Array.from(w.dataSync()));
    const b = loaded.model.getWeights().map((w) => Array.from(w.dataSync()));
    expect(b).toEqual(a);
    expect(loaded.metrics).toEqual(metrics(1));
    expect(JSON.parse(readFileSync(file(runId, 1, 'model.json'), 'utf8')).format).toBe(
      'layers-model',
    );
    model.dispose();
    loaded.model.dispose();
  });

  it('lists damaged checkpoints as damaged with a reason, without breaking the listing', async () => {
    const runId = await makeRun(6);
    writeFileSync(file(runId, 1, 'model.json'), '{ not json');
    truncateSync(file(runId, 2, 'weights.bin'), 100);
    rmSync(file(runId, 3, 'weights.bin'));
    writeFileSync(file(runId, 4, 'checkpoint.json'), '[]');
    const weights = readFileSync(file(runId, 5, 'weights.bin'));
    weights[10] = weights[10]! ^ 0xff;
    writeFileSync(file(runId, 5, 'weights.bin'), weights);

    const run = (await listRuns(root)).find((r) => r.runId === runId)!;
    const reasons = Object.fromEntries(run.checkpoints.map((c) => [c.epoch, [c.status, c.reason]]));
    expect(reasons[1]).toEqual([
      'damaged',
      expect.stringMatching(/model\.json is \d+ bytes, expected \d+|model\.json is corrupted/),
    ]);
    expect(reasons[2]).toEqual([
      'damaged',
      expect.stringMatching(/weights\.bin is 100 bytes, expected \d+ \(truncated\)/),
    ]);
    expect(reasons[3]).toEqual(['damaged', 'weights.bin is missing']);
    expect(reasons[4]).toEqual(['damaged', 'checkpoint.json is malformed']);
    expect(reasons[5]).toEqual(['damaged', 'weights.bin is corrupted (checksum mismatch)']);
    expect(reasons[6]).toEqual(['ok', null]);
    expect(run.epochsDone).toBe(6);
    expect(run.bestValAccuracy).toBeCloseTo(0.86);

    await expect(loadCheckpoint(root, runId, 2)).rejects.toThrow(
      /epoch 2 is damaged: weights\.bin is 100 bytes/,
    );
    // Without an epoch, the latest valid one is used.
    const latest = await loadCheckpoint(root, runId, null);
    expect(latest.epoch).toBe(6);
    latest.model.dispose();
  });

  it('shows a run whose run.json is damaged, and one whose process died, without failing', async () => {
    const broken = await makeRun(1);
    writeFileSync(path.join(root, broken, 'run.json'), '{"runId": 5}');
    const dead = await makeRun(1);
    updateRun(root, dead, { status: 'running', pid: 2 ** 22 + 12345 }); // no such process
    mkdirSync(path.join(root, 'not a run id'), { recursive: true });
    writeFileSync(path.join(root, 'stray-file'), 'x');

    const runs = await listRuns(root);
    expect(runs.find((r) => r.runId === broken)).toMatchObject({
      status: 'damaged',
      reason: expect.stringMatching(/run\.json is malformed/),
    });
    expect(runs.find((r) => r.runId === dead)).toMatchObject({
      status: 'crashed',
      reason: 'the training process ended unexpectedly',
    });
    expect(runs.some((r) => r.runId === 'not a run id')).toBe(false);
  });

  it('tells a live run by its lock, never by a pid that may have been reused', async () => {
    // run.json names a pid that is alive (this test's own), but no trainer holds the run.
    const reused = await makeRun(1);
    updateRun(root, reused, { status: 'running', pid: process.pid });
    // A lock whose pid is alive but started at another time is a dead owner's too.
    const stale = await makeRun(1);
    updateRun(root, stale, { status: 'running', pid: process.pid });
    writeFileSync(
      path.join(root, stale, LOCK_FILE),
      JSON.stringify({
        pid: process.pid,
        startTime: 'boot:1',
        host: os.hostname(),
        owner: 'the CLI (npm run cli -- train)',
        acquiredAt: '2026-11-30T01:02:03.000Z',
      }),
    );
    const live = await makeRun(1);
    updateRun(root, live, { status: 'running', pid: process.pid });
    const lock = acquireRunLock(root, live, 'serve mode at http://127.0.0.1:1');
    // A brand-new run whose trainer holds the lock but has not written run.json yet is not shown.
    const starting = newRunId('mlp');
    const startingLock = acquireRunLock(root, starting, 'the CLI (npm run cli -- train)');
    try {
      const runs = await listRuns(root);
      expect(runs.find((r) => r.runId === reused)).toMatchObject({
        status: 'crashed',
        reason: 'the training process ended unexpectedly',
      });
      expect(runs.find((r) => r.runId === stale)).toMatchObject({
        status: 'crashed',
        reason: `the training process (pid ${process.pid}, the CLI (npm run cli -- train)) ended unexpectedly`,
      });
      expect(runs.find((r) => r.runId === live)).toMatchObject({ status: 'running' });
      expect(runs.some((r) => r.runId === starting)).toBe(false);
      // Deleting takes the lock too: a run someone trains is refused with the owner's name.
      expect(() => deleteCheckpoints(root, live, null)).toThrow(
        new RegExp(`run ${live} is being trained by serve mode at http://127\\.0\\.0\\.1:1 \\(pid`),
      );
      expect(() => deleteCheckpoints(root, live, 1)).toThrow(/is being trained by serve mode/);
      expect(existsSync(file(live, 1, 'weights.bin'))).toBe(true);
    } finally {
      lock.release();
      startingLock.release();
    }
    // A stale lock does not stand in the way of deleting.
    deleteCheckpoints(root, stale, null);
    expect(existsSync(path.join(root, stale))).toBe(false);
  });

  it('lists runs newest first', async () => {
    const runs = (await listRuns(root)).filter((r) => r.createdAt);
    const times = runs.map((r) => r.createdAt!);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it.each(['../escape', 'a/b', '..', '', '.hidden', 'x'.repeat(101), 'run\u0000id', 'C:\\x'])(
    'rejects the run id %j',
    (id) => {
      expect(() => runDir(root, id)).toThrow(/invalid run id/);
    },
  );

  it('deletes one checkpoint or a whole run', async () => {
    const runId = await makeRun(2);
    deleteCheckpoints(root, runId, 1);
    expect(
      (await listRuns(root)).find((r) => r.runId === runId)!.checkpoints.map((c) => c.epoch),
    ).toEqual([2]);
    expect(() => deleteCheckpoints(root, runId, 7)).toThrow(/no checkpoint for epoch 7/);
    deleteCheckpoints(root, runId, null);
    expect(existsSync(path.join(root, runId))).toBe(false);
    expect(() => deleteCheckpoints(root, runId, null)).toThrow(/not found/);
  });

  it('never leaves a valid-looking partial checkpoint when the writer is SIGKILLed mid-write', async () => {
    let sawPartial = false;
    for (let attempt = 0; attempt < 12 && !(sawPartial && attempt >= 3); attempt++) {
      const runId = newRunId('mlp');
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          path.join(import.meta.dirname, '../fixtures/checkpoint-writer.ts'),
          root,
          runId,
        ],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      // Kill at a different point of the write cycle on each attempt.
      await new Promise<void>((resolve) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('saved 1\n')) {
            setTimeout(() => child.kill('SIGKILL'), 5 + attempt * 17);
            child.stdout.removeAllListeners('data');
          }
        });
        child.on('exit', () => resolve());
      });
      const entries = readdirSync(path.join(root, runId));
      if (entries.some((n) => n.includes('.tmp-'))) sawPartial = true;
      const run = (await listRuns(root)).find((r) => r.runId === runId)!;
      expect(run.status).toBe('crashed');
      // Everything a listing shows as ok must load; temp folders are not listed at all.
      for (const c of run.checkpoints) {
        expect(c.status).toBe('ok');
        const loaded = await loadCheckpoint(root, runId, c.epoch);
        loaded.model.dispose();
      }
      removeStaleTempDirs(root, runId);
      expect(readdirSync(path.join(root, runId)).some((n) => n.includes('.tmp-'))).toBe(false);
    }
    // Proof that the kills really landed inside a write at least once.
    expect(sawPartial).toBe(true);
  });
});
