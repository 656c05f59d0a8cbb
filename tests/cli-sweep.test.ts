import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSweepJournal } from '../src-main/engine/sweeps/journal';
import { runLockState } from '../src-main/engine/run-lock';
import { readRun } from '../src-main/engine/runs';
import { cliPath, runCli } from './cli-runner';
import { spawnGroup, tempDir } from './helpers';

/**
 * Real sweeps through the CLI: trials are worker processes training tiny mlp runs (a few
 * seconds each on two cores), so the sweep's runs, tags, journal and resume are the real thing.
 */

const root = tempDir();
const space = JSON.stringify({
  learningRate: { kind: 'log-uniform', min: 1e-4, max: 1e-2 },
  batchSize: { kind: 'choice', values: [32, 64] },
});
const tiny = ['--limit', '512', '--validation-size', '128', '--backend', 'wasm'];

const until = async (found: () => boolean, ms: number, what: string) => {
  const end = Date.now() + ms;
  while (!found()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe('CLI sweep', () => {
  it('runs a random sweep whose trials are tagged runs, and lists it', () => {
    const { code, lines, stderr } = runCli(
      root,
      ...['sweep', '--model', 'mlp', '--space', space, '--strategy', 'random'],
      ...['--trials', '3', '--epochs', '2', '--parallel', 'auto', '--seed', '3', ...tiny],
    );
    expect({ code, stderr }).toEqual({ code: 0, stderr: expect.any(String) as string });
    const sweepId = lines[0]!.sweepId as string;
    expect(lines[0]).toMatchObject({ type: 'sweep-started', preset: 'mlp', resumed: false });
    const finished = lines.filter((l) => l.type === 'trial-finished');
    expect(finished.map((l) => l.trial).sort()).toEqual([1, 2, 3]);
    expect(lines.filter((l) => l.type === 'trial-epoch')).toHaveLength(6);
    expect(lines.at(-1)).toMatchObject({
      type: 'sweep-finished',
      status: 'finished',
      trials: { finished: 3 },
    });

    const journal = readSweepJournal(root, sweepId);
    expect(journal.status).toBe('finished');
    expect(journal.trials).toHaveLength(3);
    for (const t of journal.trials) {
      expect(t).toMatchObject({ status: 'finished', attempts: 1 });
      expect(t.scores.map((s) => s.epoch)).toEqual([1, 2]);
      const run = readRun(root, t.runId!);
      expect(run).toMatchObject({ status: 'finished', sweep: { id: sweepId, trial: t.number } });
      expect(run.config).toMatchObject({ ...t.point, epochs: 2, limit: 512 });
    }

    const runs = runCli(root, 'list').lines.filter((l) => l.type === 'run');
    for (const t of journal.trials)
      expect(runs.find((r) => r.runId === t.runId)).toMatchObject({
        sweep: { id: sweepId, trial: t.number },
      });
    const listed = runCli(root, 'sweep', 'list');
    expect(listed.code).toBe(0);
    expect(listed.lines.find((l) => l.sweepId === sweepId)).toMatchObject({
      type: 'sweep',
      status: 'finished',
      trials: { finished: 3 },
      best: { valAccuracy: expect.any(Number) },
    });
  });

  it('takes up a sweep whose process was killed mid-trial, without counting a trial twice', async () => {
    // Two trials side by side, 12 short epochs each: killed after an epoch or two.
    const sweep = spawnGroup(cliPath, [
      ...['sweep', '--model', 'mlp', '--space', space, '--strategy', 'random'],
      ...['--trials', '2', '--parallel', '2', '--epochs', '12', '--checkpoints', root, ...tiny],
    ]);
    const first = await sweep.line((l) => l.type === 'trial-epoch' && l.epoch === 2);
    sweep.child.kill('SIGKILL');
    await sweep.exited;
    const sweepId = first.sweepId as string;
    const runIds = sweep.lines.filter((l) => l.type === 'trial-started').map((l) => l.runId);
    // Its workers, left without a host, stop their runs after the current batch and exit,
    // releasing the runs' locks.
    await until(
      () => runIds.every((id) => runLockState(root, id as string).state !== 'held'),
      30_000,
      'the orphaned workers to stop their runs',
    );
    for (const id of runIds) expect(readRun(root, id as string).status).toBe('stopped');
    // As the kill left it: the first trial running, the second running or still starting.
    const before = readSweepJournal(root, sweepId).trials;
    expect(before[(first.trial as number) - 1]!.status).toBe('running');
    expect(before.every((t) => t.status === 'running' || t.status === 'pending')).toBe(true);
    expect(runCli(root, 'sweep', 'list').lines.find((l) => l.sweepId === sweepId)).toMatchObject({
      status: 'interrupted',
    });

    const resumed = runCli(root, 'sweep', 'resume', '--sweep', sweepId);
    expect(resumed.code).toBe(0);
    expect(resumed.lines[0]).toMatchObject({ type: 'sweep-started', resumed: true });
    const restarts = resumed.lines.filter((l) => l.type === 'trial-started');
    // The trial that had a checkpoint continues its own run from there.
    const continued = restarts.find((l) => l.runId === first.runId);
    expect(continued).toMatchObject({ trial: first.trial, attempt: 2 });
    expect(continued!.fromEpoch as number).toBeGreaterThanOrEqual(2);
    expect(resumed.lines.at(-1)).toMatchObject({
      type: 'sweep-finished',
      status: 'finished',
      trials: { finished: 2 },
    });
    const journal = readSweepJournal(root, sweepId);
    expect(journal.trials).toHaveLength(2);
    for (const t of journal.trials) {
      const startedBefore = before[t.number - 1]!.status === 'running';
      expect(t).toMatchObject({ status: 'finished', attempts: startedBefore ? 2 : 1 });
      expect(t.scores.map((s) => s.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      expect(readRun(root, t.runId!)).toMatchObject({
        status: 'finished',
        sweep: { id: sweepId, trial: t.number },
      });
    }
  });

  it('stops on Ctrl-C leaving the sweep resumable, and deletes it with its runs', async () => {
    const sweep = spawnGroup(cliPath, [
      ...['sweep', '--model', 'mlp', '--space', space, '--strategy', 'random'],
      ...['--trials', '1', '--epochs', '30', '--checkpoints', root, ...tiny],
    ]);
    const epoch = await sweep.line((l) => l.type === 'trial-epoch');
    sweep.signalGroup('SIGINT');
    expect(await sweep.exited).toEqual({ code: 0, signal: null });
    const sweepId = epoch.sweepId as string;
    expect(sweep.lines.at(-1)).toMatchObject({
      type: 'sweep-finished',
      status: 'stopped',
      trials: { interrupted: 1 },
    });
    const journal = readSweepJournal(root, sweepId);
    expect(journal.status).toBe('stopped');
    expect(journal.trials[0]!.status).toBe('interrupted');
    expect(readRun(root, epoch.runId as string)).toMatchObject({
      status: 'stopped',
      reason: expect.stringContaining('the CLI received Ctrl-C (SIGINT)') as string,
    });

    const deleted = runCli(root, 'sweep', 'delete', '--sweep', sweepId, '--runs');
    expect(deleted.code).toBe(0);
    expect(deleted.lines).toEqual([{ type: 'sweep-deleted', sweepId, runsDeleted: [epoch.runId] }]);
    expect(existsSync(path.join(root, epoch.runId as string))).toBe(false);
    expect(runCli(root, 'sweep', 'list').lines.some((l) => l.sweepId === sweepId)).toBe(false);
  });
});
