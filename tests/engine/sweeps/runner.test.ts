import { describe, expect, it } from 'vitest';
import { resolveTrainConfig } from '../../../src-main/contract/config';
import {
  parseSweepSpec,
  SweepEventSchema,
  type SweepEvent,
  type SweepSpecInput,
} from '../../../src-main/contract/sweep';
import { deleteSweep, listSweeps } from '../../../src-main/engine/sweeps/catalog';
import { readSweepJournal } from '../../../src-main/engine/sweeps/journal';
import {
  autoParallelism,
  resumeSweep,
  startSweep,
  type SweepRunnerOptions,
} from '../../../src-main/engine/sweeps/runner';
import { appendMetricsLog, createRun, recordRunEnd } from '../../../src-main/engine/runs';
import { resolveThreads } from '../../../src-main/engine/steps/choose';
import { tempDir } from '../../helpers';
import { FakeLauncher, type FakeLauncherOptions } from './fake-launcher';

const root = tempDir();
let counter = 0;

const spec = (over: Partial<SweepSpecInput> = {}) =>
  parseSweepSpec({
    preset: 'mlp',
    base: { epochs: 3 },
    space: { learningRate: { kind: 'log-uniform', min: 1e-4, max: 1e-2 } },
    strategy: 'random',
    budget: { maxTrials: 4 },
    parallelism: 1,
    seed: 7,
    ...over,
  });

function run(
  input: Partial<SweepSpecInput>,
  launcherOptions: FakeLauncherOptions = {},
  options: Partial<SweepRunnerOptions> = {},
) {
  const launcher = new FakeLauncher(launcherOptions);
  const events: SweepEvent[] = [];
  const session = startSweep(
    spec(input),
    // Every event as the contract declares it: a Sweep panel will parse them.
    { root, launcher, onEvent: (e) => events.push(SweepEventSchema.parse(e)), ...options },
    `sweep-${++counter}`,
  );
  return { launcher, events, session };
}

describe('sweep runner', () => {
  it('runs at most `parallelism` trials at once, each tagged, until the trial budget is spent', async () => {
    const { launcher, session, events } = run({ budget: { maxTrials: 6 }, parallelism: 2 });
    const outcome = await session.done;
    expect(outcome.status).toBe('finished');
    expect(launcher.maxRunning).toBe(2);
    const journal = readSweepJournal(root, session.sweepId);
    expect(journal.status).toBe('finished');
    expect(journal.trials.map((t) => [t.number, t.status, t.scores.length])).toEqual(
      [1, 2, 3, 4, 5, 6].map((n) => [n, 'finished', 3]),
    );
    const tags = [...launcher.runs.values()].map((r) => r.tag);
    expect(tags).toEqual([1, 2, 3, 4, 5, 6].map((trial) => ({ id: session.sweepId, trial })));
    expect(journal.trials.map((t) => t.runId)).toEqual([...launcher.runs.keys()]);
    expect(events[0]).toMatchObject({ type: 'sweep-started', parallelism: 2 });
    expect(events.at(-1)).toMatchObject({
      type: 'sweep-finished',
      status: 'finished',
      trials: { finished: 6 },
    });
    expect(events.filter((e) => e.type === 'trial-epoch')).toHaveLength(18);
    expect(launcher.closed).toBe(1);
  });

  it("'auto' shares the cores among trials by the threads each would use", async () => {
    const config = resolveTrainConfig({ model: 'cnn', batchSize: 32 });
    expect(autoParallelism(config, 'wasm', 8)).toBe(
      Math.floor(8 / resolveThreads(config, 'wasm', 8)),
    );
    expect(autoParallelism({ ...config, threads: 3 }, 'wasm', 8)).toBe(2);
    expect(autoParallelism({ ...config, threads: 16 }, 'wasm', 8)).toBe(1);
    expect(autoParallelism(config, 'tensorflow', 8)).toBe(1);
    // The fused Dense step trains an mlp on one thread when threads are auto.
    const mlp = resolveTrainConfig({ model: 'mlp', batchSize: 128 });
    expect(autoParallelism(mlp, 'wasm', 2)).toBe(2);
    expect(autoParallelism(mlp, 'cpu', 2)).toBe(1);
    const { launcher, session } = run(
      { base: { epochs: 3, threads: 2 }, budget: { maxTrials: 5 }, parallelism: 'auto' },
      {},
      { cores: 4 },
    );
    await session.done;
    expect(launcher.maxRunning).toBe(2);
  });

  it("'auto' with a launcher that knows its capacity (a queue's workers) keeps that many going", async () => {
    // One core here, which alone would allow one mlp trial at a time; the launcher's workers
    // take three. With no worker announced yet, one trial waits for the first to come.
    let capacity = 0;
    const launcher = Object.assign(new FakeLauncher({ epochMs: 700 }), {
      capacity: () => capacity,
    });
    const session = startSweep(
      spec({ base: { epochs: 4 }, budget: { maxTrials: 4 }, parallelism: 'auto' }),
      { root, launcher, cores: 1 },
      `sweep-${++counter}`,
    );
    await new Promise((r) => setTimeout(r, 1_000));
    expect(launcher.running).toBe(1);
    capacity = 3;
    // Workers that come mid-sweep are used without waiting for a trial to end.
    await new Promise((r) => setTimeout(r, 2_300));
    expect(launcher.running).toBe(3);
    await session.done;
    expect(launcher.maxRunning).toBe(3);
  });

  it('stops proposing and cuts running trials when the time budget runs out', async () => {
    const started = Date.now();
    const { session, events } = run(
      { base: { epochs: 100 }, budget: { maxSeconds: 0.3 }, parallelism: 2 },
      { epochMs: 10 },
    );
    const outcome = await session.done;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(outcome.status).toBe('finished');
    const journal = readSweepJournal(root, session.sweepId);
    expect(journal.trials).toHaveLength(2);
    for (const t of journal.trials) {
      expect(t.status).toBe('pruned');
      expect(t.reason).toContain('time budget');
      expect(t.scores.length).toBeGreaterThan(3);
      expect(t.scores.length).toBeLessThan(100);
    }
    expect(journal.spentSeconds).toBeGreaterThanOrEqual(0.3);
    expect(events.filter((e) => e.type === 'trial-pruned')).toHaveLength(2);
  });

  it('prunes a trial below the ASHA cut: its run is stopped with the reason', async () => {
    const { launcher, session, events } = run({
      base: { epochs: 4 },
      budget: { maxTrials: 6 },
      earlyStopping: { kind: 'asha', minEpochs: 1, reductionFactor: 2 },
    });
    await session.done;
    const journal = readSweepJournal(root, session.sweepId);
    const pruned = journal.trials.filter((t) => t.status === 'pruned');
    expect(pruned.length).toBeGreaterThan(0);
    for (const t of pruned) {
      expect(t.reason).toMatch(
        /^pruned by the sweep's early stopping: val accuracy .* below rung-/,
      );
      // Stopped during the epoch after its rung: the rung's score is its last.
      expect([1, 2]).toContain(t.scores.at(-1)!.epoch);
      const fake = launcher.runs.get(t.runId!)!;
      expect(fake.stopReasons).toHaveLength(1);
      expect(fake.stopReasons[0]).toContain(`trial ${t.number} pruned`);
    }
    expect(journal.trials.filter((t) => t.status === 'finished').length).toBeGreaterThan(0);
    expect(events.filter((e) => e.type === 'trial-pruned')).toHaveLength(pruned.length);
    expect(events[0]).toMatchObject({
      rungs: ['rung 1: epoch 1, top 1/2 go on', 'rung 2: epoch 2, top 1/2 go on', 'full: epoch 4'],
    });
  });

  it('records a killed trial as failed and goes on with the others', async () => {
    const { session } = run(
      { budget: { maxTrials: 4 }, parallelism: 2 },
      { dies: (tag, epoch) => tag.trial === 2 && epoch === 2, refuses: (tag) => tag.trial === 3 },
    );
    const outcome = await session.done;
    expect(outcome.status).toBe('finished');
    const trials = readSweepJournal(root, session.sweepId).trials;
    expect(trials.map((t) => t.status)).toEqual(['finished', 'failed', 'failed', 'finished']);
    expect(trials[1]!.reason).toContain('killed (SIGKILL)');
    expect(trials[1]!.scores).toHaveLength(1);
    expect(trials[2]!.reason).toContain('did not start: no worker could start');
  });

  it('stops resumably, and a resume finishes without running or counting a trial twice', async () => {
    const launcher = new FakeLauncher({ epochMs: 5 });
    const events: SweepEvent[] = [];
    const options = { root, launcher, onEvent: (e: SweepEvent) => events.push(e) };
    const id = `sweep-${++counter}`;
    const first = startSweep(
      spec({ base: { epochs: 6 }, budget: { maxTrials: 5 }, parallelism: 2 }),
      options,
      id,
    );
    await until(() =>
      events.some((e) => e.type === 'trial-epoch' && e.trial === 3 && e.epoch === 2),
    );
    const stopped = await first.stop('Ctrl-C');
    expect(stopped.status).toBe('stopped');
    let journal = readSweepJournal(root, id);
    expect(journal.status).toBe('stopped');
    const interrupted = journal.trials.filter((t) => t.status === 'interrupted');
    expect(interrupted.length).toBeGreaterThan(0);
    expect(journal.trials.some((t) => t.status === 'running')).toBe(false);
    for (const t of interrupted)
      expect(launcher.runs.get(t.runId!)!.stopReasons).toEqual(['Ctrl-C']);
    const finishedBefore = journal.trials
      .filter((t) => t.status === 'finished')
      .map((t) => t.runId);
    expect(listSweeps(root).find((s) => s.sweepId === id)?.status).toBe('stopped');

    const second = resumeSweep(id, options);
    expect(() => resumeSweep(id, options)).toThrow(/is being run by/);
    expect((await second.done).status).toBe('finished');
    journal = readSweepJournal(root, id);
    expect(journal.trials).toHaveLength(5);
    expect(journal.trials.every((t) => t.status === 'finished')).toBe(true);
    for (const t of journal.trials)
      expect(t.scores.map((s) => s.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
    // Resumed from their checkpoints, in their own runs; finished trials untouched.
    expect(launcher.resumed.map((r) => r.runId).sort()).toEqual(
      interrupted
        .filter((t) => launcher.runs.get(t.runId!)!.done > 0)
        .map((t) => t.runId)
        .sort(),
    );
    for (const t of interrupted) expect(journal.trials[t.number - 1]!.attempts).toBe(2);
    for (const runId of finishedBefore)
      expect(journal.trials.find((t) => t.runId === runId)!.attempts).toBe(1);
    expect(launcher.runs.size).toBe(5);
    expect(
      events
        .filter((e) => e.type === 'sweep-started')
        .map((e) => e.type === 'sweep-started' && e.resumed),
    ).toEqual([false, true]);
  });

  it('a kill leaves the killed trials interrupted, not failed', async () => {
    const launcher = new FakeLauncher({ epochMs: 5 });
    const events: SweepEvent[] = [];
    const options = { root, launcher, onEvent: (e: SweepEvent) => events.push(e) };
    const id = `sweep-${++counter}`;
    const first = startSweep(
      spec({ base: { epochs: 5 }, budget: { maxTrials: 2 }, parallelism: 2 }),
      options,
      id,
    );
    await until(() => events.filter((e) => e.type === 'trial-epoch').length >= 2);
    await first.kill();
    expect((await first.done).status).toBe('stopped');
    expect(readSweepJournal(root, id).trials.map((t) => t.status)).toEqual([
      'interrupted',
      'interrupted',
    ]);
    await resumeSweep(id, options).done;
    expect(readSweepJournal(root, id).trials.map((t) => t.status)).toEqual([
      'finished',
      'finished',
    ]);
  });

  it('reruns an interrupted trial from scratch when its run cannot be resumed', async () => {
    const launcher = new FakeLauncher({ epochMs: 5, resumable: false });
    const events: SweepEvent[] = [];
    const options = { root, launcher, onEvent: (e: SweepEvent) => events.push(e) };
    const id = `sweep-${++counter}`;
    const first = startSweep(spec({ base: { epochs: 4 }, budget: { maxTrials: 2 } }), options, id);
    await until(() => events.some((e) => e.type === 'trial-epoch' && e.epoch === 2));
    await first.stop();
    await resumeSweep(id, options).done;
    const journal = readSweepJournal(root, id);
    expect(journal.trials.map((t) => [t.status, t.attempts])).toEqual([
      ['finished', 2],
      ['finished', 1],
    ]);
    expect(journal.trials[0]!.scores.map((s) => s.epoch)).toEqual([1, 2, 3, 4]);
    expect(launcher.runs.size).toBe(3);
  });

  it('takes a trial whose run finished while the sweep was down as finished, not rerun', async () => {
    const own = tempDir();
    const launcher = new FakeLauncher({ epochMs: 5 });
    const events: SweepEvent[] = [];
    const options = { root: own, launcher, onEvent: (e: SweepEvent) => events.push(e) };
    const first = startSweep(spec({ base: { epochs: 3 }, budget: { maxTrials: 1 } }), options, 's');
    await until(() => events.some((e) => e.type === 'trial-epoch'));
    await first.stop();
    const trial = readSweepJournal(own, 's').trials[0]!;
    expect(trial.status).toBe('interrupted');
    // Its run went on to the end on its own (its worker outlived the sweep's process).
    createRun(own, trial.runId!, trial.config, 'wasm', null, { id: 's', trial: 1 });
    for (const epoch of [1, 2, 3])
      appendMetricsLog(own, trial.runId!, {
        epoch,
        loss: 1,
        accuracy: 0.5,
        valLoss: 1,
        valAccuracy: 0.5 + epoch / 10,
        seconds: 1,
        backend: 'wasm',
      });
    recordRunEnd(own, trial.runId!, { status: 'finished', reason: null });
    await resumeSweep('s', options).done;
    const after = readSweepJournal(own, 's').trials[0]!;
    expect(after).toMatchObject({ status: 'finished', attempts: 1 });
    expect(after.scores).toEqual([
      { epoch: 1, valAccuracy: 0.6 },
      { epoch: 2, valAccuracy: 0.7 },
      { epoch: 3, valAccuracy: 0.8 },
    ]);
    expect(launcher.resumed).toEqual([]);
    expect(launcher.runs.size).toBe(1);
  });

  it("catches up a resumed run's epochs the journal missed from the run's metrics", async () => {
    const own = tempDir();
    const launcher = new FakeLauncher({ epochMs: 5 });
    const events: SweepEvent[] = [];
    const options = { root: own, launcher, onEvent: (e: SweepEvent) => events.push(e) };
    const first = startSweep(spec({ base: { epochs: 6 }, budget: { maxTrials: 1 } }), options, 's');
    await until(() => events.some((e) => e.type === 'trial-epoch' && e.epoch === 2));
    await first.stop();
    const trial = readSweepJournal(own, 's').trials[0]!;
    const fake = launcher.runs.get(trial.runId!)!;
    const heard = trial.scores.length;
    expect(fake.done).toBe(heard);
    // The run trained (and checkpointed) one more epoch than the journal heard of.
    fake.done = heard + 1;
    createRun(own, trial.runId!, trial.config, 'wasm', null, { id: 's', trial: 1 });
    for (let epoch = 1; epoch <= heard + 1; epoch++)
      appendMetricsLog(own, trial.runId!, {
        epoch,
        loss: 1,
        accuracy: 0.5,
        valLoss: 1,
        valAccuracy: epoch === heard + 1 ? 0.123 : 0.5,
        seconds: 1,
        backend: 'wasm',
      });
    recordRunEnd(own, trial.runId!, { status: 'stopped', reason: 'stopped' });
    await resumeSweep('s', options).done;
    const scores = readSweepJournal(own, 's').trials[0]!.scores;
    expect(scores.map((s) => s.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(scores[heard]!.valAccuracy).toBe(0.123);
  });

  it('proposes the same trials for the same seed', async () => {
    const points = async (seed: number) => {
      const { session } = run({
        budget: { maxTrials: 4 },
        seed,
        strategy: 'tpe',
        tpe: { startupTrials: 2, candidates: 8 },
      });
      await session.done;
      return readSweepJournal(root, session.sweepId).trials.map((t) => t.point);
    };
    const a = await points(11);
    expect(await points(11)).toEqual(a);
    expect(await points(12)).not.toEqual(a);
  });

  it('lists sweeps and deletes one with its runs', async () => {
    const { session } = run({ budget: { maxTrials: 1 } });
    await session.done;
    const listed = listSweeps(root).find((s) => s.sweepId === session.sweepId);
    expect(listed).toMatchObject({ status: 'finished', trials: { finished: 1 } });
    expect(deleteSweep(root, session.sweepId)).toEqual({
      sweepId: session.sweepId,
      runsDeleted: [],
    });
    expect(listSweeps(root).some((s) => s.sweepId === session.sweepId)).toBe(false);
    expect(() => deleteSweep(root, session.sweepId)).toThrow(/not found/);
  });
});

async function until(found: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!found()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 1));
  }
}
