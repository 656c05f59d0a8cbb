import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSweepJournal } from '../../../../src-main/engine/sweeps/journal';
import { readRun } from '../../../../src-main/engine/runs';
import {
  freePort,
  startCli,
  startRedis,
  stopProcess,
  type CliProcess,
  type RedisServer,
} from './processes';

/**
 * Sweeps over BullMQ end to end: a real redis-server on a loopback port, worker processes with
 * their own checkpoints folders standing in for machines, and the sweep's CLI. Small mlp trials
 * (512 images, 2–3 epochs) keep the file well under two minutes on two busy cores.
 */

const SPACE = JSON.stringify({ learningRate: { kind: 'log-uniform', min: 1e-3, max: 1e-2 } });

let redis: RedisServer;
let dir: string;
const workers: CliProcess[] = [];

beforeAll(async () => {
  redis = await startRedis();
  dir = mkdtempSync(path.join(tmpdir(), 'queued-sweep-'));
});

afterAll(async () => {
  await Promise.all(workers.map((w) => stopProcess(w.child, 'SIGKILL')));
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A worker as another machine would run it; a short lock so a killed one is noticed in ~3 s. */
async function startWorker(name: string): Promise<CliProcess> {
  const worker = startCli([
    'worker',
    '--queue',
    redis.url,
    '--checkpoints',
    path.join(dir, `machine-${name}`),
    '--name',
    name,
    '--stall-seconds',
    '3',
  ]);
  workers.push(worker);
  await worker.waitFor((l) => l.type === 'worker-ready');
  return worker;
}

let machines: Promise<[CliProcess, CliProcess]> | null = null;
/** Workers A and B, started once for the file (a worker's first trial loads tfjs and MNIST). */
const twoWorkers = () => (machines ??= Promise.all([startWorker('A'), startWorker('B')]));

function sweep(root: string, ...extra: string[]): CliProcess {
  return startCli([
    'sweep',
    '--model',
    'mlp',
    '--space',
    SPACE,
    '--strategy',
    'random',
    '--validation-size',
    '256',
    '--queue',
    redis.url,
    '--checkpoints',
    root,
    ...extra,
  ]);
}

const ofType = (lines: Record<string, unknown>[], type: string) =>
  lines.filter((l) => l.type === type);

/** Every trial ended once in the sweep's output and journal, and its run landed in `root`. */
function expectCountedOnce(root: string, output: Record<string, unknown>[], trials: number) {
  const finished = ofType(output, 'trial-finished');
  expect(finished.map((l) => l.trial).sort()).toEqual(
    Array.from({ length: trials }, (_, i) => i + 1),
  );
  const end = ofType(output, 'sweep-finished')[0]!;
  expect(end.status).toBe('finished');
  const sweepId = String(end.sweepId);
  const journal = readSweepJournal(root, sweepId);
  expect(journal.status).toBe('finished');
  expect(journal.trials).toHaveLength(trials);
  for (const trial of journal.trials) {
    expect(trial.status).toBe('finished');
    expect(trial.scores.map((s) => s.epoch)).toEqual(
      Array.from({ length: trial.config.epochs }, (_, i) => i + 1),
    );
    const run = readRun(root, trial.runId!);
    expect(run.runId).toBe(trial.runId);
    expect(run.status).toBe('finished');
    expect(run.sweep).toEqual({ id: sweepId, trial: trial.number });
    const files = readdirSync(path.join(root, trial.runId!));
    expect(files).toEqual(
      expect.arrayContaining(['run.json', 'metrics.jsonl', 'train', 'validation']),
    );
    // The best epoch's checkpoint, whole: its manifest names every file it holds.
    const best = trial.scores.reduce((a, b) => (b.valAccuracy > a.valAccuracy ? b : a));
    const epochDir = path.join(root, trial.runId!, `epoch-${String(best.epoch).padStart(3, '0')}`);
    const manifest = JSON.parse(readFileSync(path.join(epochDir, 'checkpoint.json'), 'utf8')) as {
      files: Record<string, { bytes: number }>;
    };
    for (const [name, { bytes }] of Object.entries(manifest.files))
      expect(readFileSync(path.join(epochDir, name)).length).toBe(bytes);
  }
  // Nothing half-landed is left beside the runs.
  expect(readdirSync(root).filter((n) => n.startsWith('.incoming'))).toEqual([]);
  return journal;
}

describe('a sweep with --queue', () => {
  it('spreads its trials over two workers and lands each result once', async () => {
    const [a, b] = await twoWorkers();
    const root = path.join(dir, 'sweep-1');
    const run = sweep(root, '--trials', '4', '--epochs', '2', '--limit', '512', '--parallel', '2');
    expect(await run.exited, run.stderr()).toBe(0);
    const journal = expectCountedOnce(root, run.lines, 4);
    expect(journal.trials.map((t) => t.attempts)).toEqual([1, 1, 1, 1]);

    const done = [...ofType(a.lines, 'job-done'), ...ofType(b.lines, 'job-done')];
    const jobIds = done.map((l) => l.jobId).sort();
    expect(jobIds).toEqual(journal.trials.map((t) => `${journal.sweepId}-t${t.number}-a1`).sort());
    // Both machines trained: two trials were in the queue at once and each worker takes one.
    expect(ofType(a.lines, 'job-done').length).toBeGreaterThan(0);
    expect(ofType(b.lines, 'job-done').length).toBeGreaterThan(0);
  });

  it('retries the trial of a worker killed mid-trial on another, and counts it once', async () => {
    const [a, b] = await twoWorkers();
    const root = path.join(dir, 'sweep-2');
    // Long enough (~1 s of training on a warm worker) to be killed before it ends.
    const run = sweep(root, '--trials', '2', '--epochs', '3', '--limit', '1024', '--parallel', '1');
    const { sweepId } = await run.waitFor((l) => l.type === 'sweep-started');
    const first = `${String(sweepId)}-t1-a1`;
    const started = await Promise.race(
      [a, b].map((w) =>
        w
          .waitFor((l) => l.type === 'job-started' && l.jobId === first)
          .then((line) => ({ worker: w, line })),
      ),
    );
    // Mid-trial: its run has started and not a moment later the worker is gone, lock and all.
    await stopProcess(started.worker.child, 'SIGKILL');
    const other = started.worker === a ? b : a;
    const retried = await other.waitFor((l) => l.type === 'job-started' && l.jobId === first);
    expect(retried.attempt).toBe(2);

    expect(await run.exited, run.stderr()).toBe(0);
    const journal = expectCountedOnce(root, run.lines, 2);
    // One attempt as the sweep counts them: BullMQ's retry is the same job.
    expect(journal.trials.map((t) => t.attempts)).toEqual([1, 1]);
    expect(ofType(other.lines, 'job-done').filter((l) => l.jobId === first)).toHaveLength(1);
    // The killed worker never reported the trial done.
    expect(ofType(started.worker.lines, 'job-done').filter((l) => l.jobId === first)).toEqual([]);
    expect(run.stderr()).toMatch(/trial 1: retried on [AB] \(attempt 2\)/);
  });

  it('stops a pruned trial on the worker that trains it, and lands what it trained', async () => {
    const [a, b] = await twoWorkers();
    const root = path.join(dir, 'sweep-prune');
    // Epochs of ~0.5 s, so a stop reaches the worker mid-run; a wide learning rate range, so
    // some trials fall below the rung-1 cut.
    const run = sweep(
      root,
      '--trials',
      '4',
      '--epochs',
      '4',
      '--limit',
      '8192',
      '--asha',
      '1:3',
      '--parallel',
      '2',
    );
    expect(await run.exited, run.stderr()).toBe(0);
    const pruned = ofType(run.lines, 'trial-pruned');
    expect(pruned.length).toBeGreaterThan(0);
    const sweepId = String(ofType(run.lines, 'sweep-started')[0]!.sweepId);
    const stopping = [...ofType(a.lines, 'job-stopping'), ...ofType(b.lines, 'job-stopping')];
    for (const p of pruned) {
      expect(stopping.map((l) => l.jobId)).toContain(`${sweepId}-t${String(p.trial)}-a1`);
      const landed = readRun(root, String(p.runId));
      expect(landed.status).toBe('stopped');
      expect(landed.reason).toMatch(/pruned by the sweep's early stopping/);
    }
    const journal = readSweepJournal(root, sweepId);
    expect(journal.trials.filter((t) => t.status === 'pruned')).toHaveLength(pruned.length);
  });

  it('resumes a killed sweep by attaching to the job its trial still has in the queue', async () => {
    const [a, b] = await twoWorkers();
    const root = path.join(dir, 'sweep-3');
    const run = sweep(root, '--trials', '2', '--epochs', '3', '--limit', '1024', '--parallel', '1');
    const { sweepId, runId } = await run.waitFor((l) => l.type === 'trial-started');
    await stopProcess(run.child, 'SIGKILL');

    const resumed = startCli([
      'sweep',
      'resume',
      '--sweep',
      String(sweepId),
      '--queue',
      redis.url,
      '--checkpoints',
      root,
    ]);
    expect(await resumed.exited, resumed.stderr()).toBe(0);
    // The same run: the job trained on (or had finished) while no sweep listened.
    const again = ofType(resumed.lines, 'trial-started').find((l) => l.trial === 1);
    expect(again?.runId).toBe(runId);
    const journal = expectCountedOnce(root, resumed.lines, 2);
    expect(journal.trials[0]!.runId).toBe(runId);
    const jobs = [...ofType(a.lines, 'job-started'), ...ofType(b.lines, 'job-started')]
      .map((l) => String(l.jobId))
      .filter((id) => id.startsWith(String(sweepId)));
    expect(jobs.sort()).toEqual([`${String(sweepId)}-t1-a1`, `${String(sweepId)}-t2-a1`]);
  });
});

describe('--queue problems', () => {
  // Each command line in its own process, all at once: each spends seconds loading the CLI.
  it('refuses a URL that is not redis://HOST:PORT (exit 2)', async () => {
    const root = path.join(dir, 'bad-url');
    const [worker, sweeping] = [
      startCli(['worker', '--queue', 'http://127.0.0.1:6379']),
      startCli([
        'sweep',
        '--space',
        SPACE,
        '--trials',
        '1',
        '--queue',
        'ftp://x',
        '--checkpoints',
        root,
      ]),
    ];
    expect(await worker.exited).toBe(2);
    expect(worker.stderr()).toMatch(/--queue must start with redis:\/\/ or rediss:\/\//);
    expect(await sweeping.exited).toBe(2);
    expect(sweeping.stderr()).toMatch(/--queue must start with redis:\/\//);
    expect(existsSync(root)).toBe(false);
  });

  it('says a Redis it cannot reach is unreachable (exit 1) instead of waiting for it', async () => {
    const closed = `redis://127.0.0.1:${await freePort()}`;
    const root = path.join(dir, 'unreachable');
    const t0 = Date.now();
    const [sweeping, worker] = [
      startCli([
        'sweep',
        '--space',
        SPACE,
        '--trials',
        '1',
        '--queue',
        closed,
        '--checkpoints',
        root,
      ]),
      startCli(['worker', '--queue', closed, '--checkpoints', path.join(dir, 'machine-c')]),
    ];
    expect(await sweeping.exited).toBe(1);
    expect(sweeping.stderr()).toContain(`cannot reach Redis at ${closed}`);
    expect(await worker.exited).toBe(1);
    expect(worker.stderr()).toContain(`cannot reach Redis at ${closed}`);
    expect(Date.now() - t0).toBeLessThan(30_000);
    // Nothing was started: no sweep journal waits for a resume.
    expect(existsSync(path.join(root, '.sweeps'))).toBe(false);
  });
});
