import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SweepDeletedEvent, SweepViewEvent } from '../../src-main/contract/api';
import { parseSweepSpec, type SweepSpecInput } from '../../src-main/contract/sweep';
import type { SweepView } from '../../src-main/contract/sweep-view';
import { readSweepJournal, SWEEPS_DIR } from '../../src-main/engine/sweeps/journal';
import { runLockState } from '../../src-main/engine/run-lock';
import { readRun } from '../../src-main/engine/runs';
import { handleClientRequest } from '../../src-main/host/client-requests';
import { forkWorker } from '../../src-main/host/fork-worker';
import { SweepHost, type SweepHostOptions } from '../../src-main/host/sweep-host';
import { WorkerHost } from '../../src-main/host/worker-host';
import { tinyCpuRun } from '../fixtures/train-configs';
import { tempDir } from '../helpers';

/**
 * The app's sweeps with real trials: LocalTrialLauncher starts forked workers that train tiny
 * mlp runs (512 images, a second or two an epoch on wasm), so journal, tags and stops are real.
 */

const tinySpec = (over: Partial<SweepSpecInput> = {}) =>
  parseSweepSpec({
    preset: 'mlp',
    base: { epochs: 1, limit: 512, validationSize: 128, hiddenUnits: 16, backend: 'wasm' },
    space: { learningRate: { kind: 'log-uniform', min: 1e-4, max: 1e-2 } },
    strategy: 'random',
    budget: { maxTrials: 2 },
    parallelism: 1,
    seed: 5,
    ...over,
  });

function sweepHost(root: string, over: Partial<SweepHostOptions> = {}) {
  const events: SweepViewEvent[] = [];
  const deleted: SweepDeletedEvent[] = [];
  const waiters: { match: (v: SweepView) => boolean; resolve: (v: SweepView) => void }[] = [];
  const sweeps = new SweepHost({
    spawn: forkWorker(),
    checkpointsDir: root,
    dataDir: null,
    backend: 'wasm',
    owner: 'the sweep-host test',
    trainingNow: () => null,
    ...over,
    onEvent: (event) => {
      if (event.type === 'sweepDeleted') return void deleted.push(event);
      events.push(event);
      for (const w of [...waiters])
        if (w.match(event.sweep)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(event.sweep);
        }
    },
  });
  /** The first view from now on that `match` accepts: call it before its cause. */
  const next = (match: (v: SweepView) => boolean, ms = 90_000) =>
    new Promise<SweepView>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a sweep view')), ms);
      waiters.push({
        match,
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
      });
    });
  return { sweeps, events, deleted, next };
}

/** A WorkerHost that never starts its worker: the requests below are answered before it. */
const idleHost = (root: string) =>
  new WorkerHost({
    spawn: () => {
      throw new Error('this test must not start a worker');
    },
    checkpointsDir: root,
    dataDir: null,
    backend: 'wasm',
    onEvent: () => undefined,
  });

const context = (root: string) => ({ mode: 'serve' as const, checkpointsDir: root });

describe('SweepHost', () => {
  it('runs a sweep to its end, one view per journal write, and refuses a second meanwhile', async () => {
    const root = tempDir();
    const { sweeps, events, next } = sweepHost(root);
    const finished = next((v) => v.status === 'finished');
    const started = sweeps.start(tinySpec());
    expect(started).toMatchObject({ status: 'running', trials: [] });
    expect(sweeps.running).toBe(started.id);
    expect(events[0]).toEqual({ type: 'sweep', sweep: started, error: null });

    expect(() => sweeps.start(tinySpec())).toThrow(
      `sweep ${started.id} is running; stop it before starting another`,
    );
    // A run the user trains would share the cores with the trials: refused before the worker.
    const host = idleHost(root);
    await expect(
      handleClientRequest(host, { type: 'train', config: tinyCpuRun }, context(root), sweeps),
    ).rejects.toThrow(`sweep ${started.id} is running; stop it (Sweep panel) before training`);
    await expect(
      handleClientRequest(host, { type: 'sweepStatus' }, context(root), sweeps),
    ).resolves.toMatchObject({ sweep: { id: started.id }, resumable: [] });

    const view = await finished;
    expect(view.trials.map((t) => t.status)).toEqual(['finished', 'finished']);
    for (const t of view.trials) {
      expect(t.valAccuracy).toEqual(expect.any(Number));
      expect(readRun(root, t.runId!)).toMatchObject({
        status: 'finished',
        sweep: { id: started.id, trial: t.trial },
      });
    }
    // Every view matches the journal as it stood: the last is the journal on disk.
    expect(readSweepJournal(root, started.id).trials.map((t) => t.status)).toEqual([
      'finished',
      'finished',
    ]);
    const statuses = events.map((e) => e.sweep.trials.map((t) => t.status).join(','));
    expect(statuses).toContain('running');
    expect(statuses).toContain('finished,running');
    await expect.poll(() => sweeps.running).toBeNull();
    expect(sweeps.status()).toEqual({ sweep: view, resumable: [] });
    host.dispose();
  });

  it('stops mid-sweep with the journal consistent, lists it as resumable, and resumes it', async () => {
    const root = tempDir();
    const { sweeps, next } = sweepHost(root);
    // Epochs of 2,048 images: long enough that the stop lands while the first trial trains.
    const spec = tinySpec({
      base: { epochs: 8, limit: 2048, validationSize: 128, backend: 'wasm' },
    });
    const scored = next((v) => (v.trials[0]?.epochsDone ?? 0) >= 1);
    const { id } = sweeps.start(spec);
    await scored;
    const stopped = next((v) => v.status === 'stopped');
    const host = idleHost(root);
    await expect(
      handleClientRequest(host, { type: 'stopSweep' }, context(root), sweeps),
    ).resolves.toEqual({ stopping: true });
    const view = await stopped;
    expect(view.trials).toHaveLength(1);
    expect(view.trials[0]).toMatchObject({ status: 'interrupted' });
    const journal = readSweepJournal(root, id);
    expect(journal.status).toBe('stopped');
    expect(journal.trials[0]!.status).toBe('interrupted');
    const runId = journal.trials[0]!.runId!;
    expect(readRun(root, runId).status).toBe('stopped');
    // Nothing holds the sweep or its run any more.
    expect(runLockState(path.join(root, SWEEPS_DIR), id).state).not.toBe('held');
    expect(runLockState(root, runId).state).not.toBe('held');
    await expect.poll(() => sweeps.running).toBeNull();
    await expect(
      handleClientRequest(host, { type: 'stopSweep' }, context(root), sweeps),
    ).resolves.toEqual({ stopping: false });
    expect(sweeps.status().resumable).toEqual([
      { sweepId: id, status: 'stopped', trials: 1, createdAt: journal.createdAt },
    ]);

    // Resumed: the interrupted trial continues its own run from its checkpoint.
    const resumedEpoch = next((v) => v.trials[0]?.status === 'running');
    const resumed = sweeps.resume(id);
    expect(resumed).toMatchObject({ id, status: 'running' });
    expect((await resumedEpoch).trials[0]!.runId).toBe(runId);
    expect(sweeps.status().resumable).toEqual([]);
    // Shutting down stops it again within the timeout, leaving it resumable.
    await expect(sweeps.shutdown({ timeoutMs: 60_000, reason: 'the test ended' })).resolves.toBe(
      'stopped',
    );
    expect(readSweepJournal(root, id).status).toBe('stopped');
    expect(() => sweeps.start(spec)).toThrow('the host is shutting down');
    host.dispose();
  });

  it('refuses to start beside a training run, creating nothing', () => {
    const root = tempDir();
    const { sweeps, events } = sweepHost(root, { trainingNow: () => 'run r-1' });
    expect(() => sweeps.start(tinySpec())).toThrow(
      'run r-1 is training; stop it or let it finish before starting a sweep',
    );
    expect(events).toEqual([]);
    expect(existsSync(path.join(root, SWEEPS_DIR))).toBe(false);
    expect(sweeps.running).toBeNull();
  });

  it('rejects bad payloads at the boundary, naming the field', async () => {
    const root = tempDir();
    const { sweeps } = sweepHost(root);
    const host = idleHost(root);
    const ask = (raw: unknown) => handleClientRequest(host, raw, context(root), sweeps);
    await expect(ask({ type: 'startSweep' })).rejects.toThrow(/invalid request: spec/);
    await expect(
      ask({ type: 'startSweep', spec: { ...tinySpec(), budget: { maxTrials: 0 } } }),
    ).rejects.toThrow(/spec\.budget\.maxTrials: maxTrials must be between 1 and 100000/);
    await expect(
      ask({ type: 'startSweep', spec: { ...tinySpec(), space: { model: { kind: 'choice' } } } }),
    ).rejects.toThrow(/invalid request: spec\.space/);
    await expect(ask({ type: 'resumeSweep', sweepId: '../etc' })).rejects.toThrow(
      /runId may only contain/,
    );
    await expect(ask({ type: 'resumeSweep', sweepId: 'no-such-sweep' })).rejects.toThrow(
      'sweep no-such-sweep not found',
    );
    await expect(ask({ type: 'stopSweep' })).resolves.toEqual({ stopping: false });
    expect(sweeps.running).toBeNull();
    // A host without sweeps says so rather than failing somewhere deeper.
    await expect(
      handleClientRequest(host, { type: 'startSweep', spec: tinySpec() }, context(root), null),
    ).rejects.toThrow('this host does not run sweeps');
  });

  it('deletes a finished sweep with or without its runs, never the running one', async () => {
    const root = tempDir();
    const { sweeps, deleted, next } = sweepHost(root);
    const host = idleHost(root);
    const ask = (raw: unknown) => handleClientRequest(host, raw, context(root), sweeps);
    const spec = tinySpec({ budget: { maxTrials: 1 } });

    let finished = next((v) => v.status === 'finished');
    const first = sweeps.start(spec);
    // The running sweep is refused before the engine's lock is even tried.
    await expect(ask({ type: 'deleteSweep', sweepId: first.id, runs: true })).rejects.toThrow(
      `sweep ${first.id} is running; stop it first`,
    );
    const firstRun = (await finished).trials[0]!.runId!;
    await expect.poll(() => sweeps.running).toBeNull();

    // Without its runs: the journal goes, the trial run stays (no longer in any sweep's group).
    await expect(ask({ type: 'deleteSweep', sweepId: first.id, runs: false })).resolves.toEqual({
      sweepId: first.id,
      runsDeleted: [],
    });
    expect(existsSync(path.join(root, SWEEPS_DIR, first.id))).toBe(false);
    expect(readRun(root, firstRun).status).toBe('finished');
    // The last view shown was this sweep's: a page that opens must not show it any more, and
    // the pages open now hear of it.
    expect(sweeps.status().sweep).toBeNull();
    expect(deleted).toEqual([{ type: 'sweepDeleted', sweepId: first.id, runsDeleted: [] }]);

    finished = next((v) => v.status === 'finished');
    const second = sweeps.start(spec);
    const secondRun = (await finished).trials[0]!.runId!;
    await expect.poll(() => sweeps.running).toBeNull();
    // A trial the app's worker trains (resumed as a run) holds the whole sweep back.
    const busy = sweepHost(root, { trainingNow: () => `run ${secondRun}` }).sweeps;
    expect(() => busy.delete(second.id, true)).toThrow(
      `run ${secondRun} is training; stop it or let it finish before deleting sweep ${second.id}`,
    );
    // A run outside the sweep does not.
    const other = sweepHost(root, { trainingNow: () => `run ${firstRun}` });
    expect(other.sweeps.delete(second.id, true)).toEqual({
      sweepId: second.id,
      runsDeleted: [secondRun],
    });
    expect(other.deleted).toEqual([
      { type: 'sweepDeleted', sweepId: second.id, runsDeleted: [secondRun] },
    ]);
    expect(existsSync(path.join(root, secondRun))).toBe(false);
    expect(existsSync(path.join(root, SWEEPS_DIR, second.id))).toBe(false);
    expect(readRun(root, firstRun).status).toBe('finished');

    await expect(ask({ type: 'deleteSweep', sweepId: second.id, runs: true })).rejects.toThrow(
      `sweep ${second.id} not found`,
    );
    await expect(ask({ type: 'deleteSweep', sweepId: '../etc', runs: true })).rejects.toThrow(
      /runId may only contain/,
    );
    await expect(ask({ type: 'deleteSweep', sweepId: first.id })).rejects.toThrow(
      /invalid request: runs/,
    );
    host.dispose();
  });
});
