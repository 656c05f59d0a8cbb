import os from 'node:os';
import path from 'node:path';
import type { BackendName, TrainConfig } from '../../contract/config';
import type { SweepTag } from '../../contract/messages';
import {
  trialConfig,
  type SweepEvent,
  type SweepSpec,
  type SweepTrialCounts,
  type TrialStatus,
} from '../../contract/sweep';
import { readMetricsLog, readRun, runDir } from '../runs';
import { acquireRunLock, describeHolder, RunLockedError, type RunLock } from '../run-lock';
import { resolveThreads } from '../steps/choose';
import { bestTrial } from './best';
import {
  sessionHParams,
  sessionStatusOf,
  trialGroupName,
  writeHParamsExperiment,
  writeSessionEnd,
  writeSessionStart,
} from './hparams';
import { ashaDecide, ashaSchedule, describeSchedule, type AshaSchedule } from './asha';
import {
  addTrial,
  adoptFinishedRun,
  budgetLeft,
  createSweepJournal,
  type BudgetLeft,
  endTrial,
  epochScoresOf,
  interruptTrial,
  newSweepId,
  observationsOf,
  readSweepJournal,
  recordTrialEpoch,
  resumeSweepJournal,
  startTrial,
  sweepDir,
  SWEEPS_DIR,
  trialsToRun,
  writeSweepJournal,
  type SweepJournal,
  type Trial,
} from './journal';
import type { Point } from './space';
import { createProposer, type Proposer } from './strategies';

/**
 * Drives a sweep from its journal: proposes trials with the spec's strategy, launches each as an
 * ordinary run through a TrialLauncher, records every epoch's validation accuracy, prunes with
 * ASHA, and ends the sweep when its budget or its space is spent. The journal is written after
 * every change, so a kill at any point leaves a sweep `resumeSweep` takes up again.
 *
 * Plain Node: the launcher decides where trials run (worker processes for the CLI and the app,
 * a fake in tests, a queue later).
 */

/** What the runner hears from a trial's run. */
export type TrialEvent =
  | { type: 'epoch'; epoch: number; valAccuracy: number | null; seconds: number }
  | { type: 'finished'; epochs: number }
  /** Ended after a stop: `epoch` is the last epoch with a checkpoint. */
  | { type: 'stopped'; epoch: number }
  /** The run failed or its process died. */
  | { type: 'error'; message: string };

export type TrialListener = (event: TrialEvent) => void;

export interface TrialHandle {
  readonly runId: string;
  /** The checkpoint a resumed trial continues from; 0 for a run started from scratch. */
  readonly fromEpoch: number;
  /** Ends the run after its current batch; run.json records `reason`, its checkpoints stay. */
  stop(reason: string): void;
}

/**
 * Starts trials as runs. Events may come before the returned promise settles: the runner keeps
 * them until it knows the run. After a rejection no event of that attempt counts.
 */
export interface TrialLauncher {
  start(config: TrainConfig, tag: SweepTag, listener: TrialListener): Promise<TrialHandle>;
  /** Continues a trial's run from its latest valid checkpoint; without it, trials are rerun. */
  resume?(runId: string, tag: SweepTag, listener: TrialListener): Promise<TrialHandle>;
  /** Ends every trial now (a second Ctrl-C): each reports an error, and its run is crashed. */
  kill?(): Promise<void>;
  /** Called once the sweep has ended or stopped and no trial runs any more. */
  close(): Promise<void>;
  /**
   * How many trials to keep going at once when parallelism is 'auto', for a launcher whose
   * trials do not train on this machine's cores (a queue: its live workers' total concurrency).
   * Read again every CAPACITY_POLL_MS; below 1 counts as 1, so the first worker to come finds a
   * trial waiting. Without it, 'auto' shares this machine's cores.
   */
  capacity?(): number;
}

/** How often a launcher's capacity is read again: workers come and go during a sweep. */
const CAPACITY_POLL_MS = 2_000;

export interface SweepRunnerOptions {
  /** The checkpoints folder: trial runs go here, the journal under .sweeps/. */
  root: string;
  launcher: TrialLauncher;
  /** Names this process in the sweep's lock ("the CLI (npm run cli -- sweep)"). */
  owner?: string;
  onEvent?: (event: SweepEvent) => void;
  /** After every write of the journal, with what was written (the app redraws its view). */
  onJournal?: (journal: SweepJournal) => void;
  /** Cores shared among trials when parallelism is 'auto' (default: this machine's). */
  cores?: number;
  /** What trials whose config says backend 'auto' train on, for 'auto' parallelism. */
  autoBackend?: BackendName;
  /** Milliseconds, for the time budget (tests pass a fake clock). */
  now?: () => number;
}

export interface SweepOutcome {
  sweepId: string;
  status: 'finished' | 'stopped';
  journal: SweepJournal;
}

export interface SweepSession {
  readonly sweepId: string;
  /** Settles when the sweep has finished or stopped (every trial ended, the journal written). */
  readonly done: Promise<SweepOutcome>;
  /**
   * Stops every running trial after its current batch; the journal says `stopped` and the
   * interrupted trials resume from their checkpoints with `resumeSweep`. Resolves with `done`.
   */
  stop(reason?: string): Promise<SweepOutcome>;
  /** Kills every trial at once; the journal keeps them running, which a resume reads as interrupted. */
  kill(): Promise<void>;
}

export class SweepRunnerError extends Error {
  override name = 'SweepRunnerError';
}

/** Creates a sweep's journal and runs it. Throws before anything starts if it cannot run. */
export function startSweep(
  spec: SweepSpec,
  options: SweepRunnerOptions,
  sweepId: string = newSweepId(spec.preset),
): SweepSession {
  const base = trialConfig(spec, {});
  if (base.validationSize === 0 && !('validationSize' in spec.space))
    throw new SweepRunnerError(
      'trials are scored on validation accuracy: base.validationSize must be above 0',
    );
  const journal = createSweepJournal(options.root, sweepId, spec);
  const lock = lockSweep(options.root, sweepId, options.owner);
  return new SweepRun(journal, [], lock, options, false).session;
}

/**
 * Takes a sweep up again after a stop or a kill: interrupted trials first (resumed from their
 * last checkpoint when the launcher can, else rerun), then pending ones, then new proposals
 * while budget is left. Finished, pruned and failed trials are kept and never counted again.
 */
export function resumeSweep(sweepId: string, options: SweepRunnerOptions): SweepSession {
  // Read first: a missing or damaged sweep is said as such, not as a lock problem.
  readSweepJournal(options.root, sweepId);
  const lock = lockSweep(options.root, sweepId, options.owner);
  try {
    const { journal, toRun } = resumeSweepJournal(options.root, sweepId);
    return new SweepRun(journal, toRun, lock, options, true).session;
  } catch (error) {
    lock.release();
    throw error;
  }
}

/**
 * One process drives a sweep at a time, as one trains a run: the sweep's folder holds a lock
 * like a run's (run-lock.ts), stale once its process is gone.
 */
function lockSweep(root: string, sweepId: string, owner = 'MNIST Studio'): RunLock {
  try {
    return acquireRunLock(path.join(path.resolve(root), SWEEPS_DIR), sweepId, owner);
  } catch (error) {
    if (error instanceof RunLockedError)
      throw new SweepRunnerError(
        `sweep ${sweepId} is being run by ${describeHolder(error.holder)}; stop it there first`,
      );
    throw error;
  }
}

/**
 * Trials at once. A number caps the count. 'auto' shares the cores: a trial starts while the
 * threads of the running trials plus its own fit in the cores, and one trial always runs; with
 * equal trials that is cores ÷ threads per trial, at least 1. A trial's threads are those the
 * trainer will choose for its config (resolveThreads, and 1 for the fused mlp step on wasm);
 * native TensorFlow and GPU backends spread each op over the whole machine, so a trial there
 * takes every core.
 */
export function trialThreads(config: TrainConfig, autoBackend: BackendName, cores: number): number {
  const backend = config.backend === 'auto' ? autoBackend : config.backend;
  if (backend === 'tensorflow' || backend === 'tensorflow-gpu' || backend === 'webgpu')
    return cores;
  // The mlp preset is a plain Dense stack, which chooseTrainingStep trains with the fused step
  // on one thread when threads are auto (it beats two threads of tfjs ops at every batch size).
  if (config.model === 'mlp' && backend === 'wasm' && (config.threads ?? null) === null) return 1;
  return Math.min(cores, resolveThreads(config, backend, cores));
}

export function autoParallelism(
  config: TrainConfig,
  autoBackend: BackendName,
  cores: number,
): number {
  return Math.max(1, Math.floor(cores / trialThreads(config, autoBackend, cores)));
}

/** How many trials are in each state. */
export function trialCounts(journal: SweepJournal): SweepTrialCounts {
  const counts: SweepTrialCounts = {
    pending: 0,
    running: 0,
    interrupted: 0,
    finished: 0,
    pruned: 0,
    failed: 0,
  };
  for (const t of journal.trials) counts[t.status]++;
  return counts;
}

/**
 * The epoch scores of a run that finished, from its own files; null when it did not finish (or
 * there are no run files here: a launcher that keeps runs elsewhere).
 */
function finishedRunScores(
  root: string,
  runId: string,
): { epoch: number; valAccuracy: number }[] | null {
  try {
    if (readRun(root, runId).status !== 'finished') return null;
    return readMetricsLog(root, runId).flatMap((m) =>
      m.valAccuracy === null ? [] : [{ epoch: m.epoch, valAccuracy: m.valAccuracy }],
    );
  } catch {
    return null;
  }
}

/** The longest stop reason the worker contract takes. */
const STOP_REASON_MAX = 200;

interface Slot {
  trial: number;
  threads: number;
  handle: TrialHandle | null;
  /** Events heard before the launcher answered. */
  early: TrialEvent[];
  /** Set once pruned by ASHA (or cut by the time budget): why, for the journal. */
  pruned: string | null;
  ended: boolean;
}

class SweepRun {
  readonly session: SweepSession;
  private journal: SweepJournal;
  private readonly queue: Trial[];
  private readonly proposer: Proposer;
  private readonly schedule: AshaSchedule | null;
  private readonly running = new Map<number, Slot>();
  private readonly cores: number;
  private readonly autoBackend: BackendName;
  private readonly now: () => number;
  private readonly sessionStart: number;
  private readonly spentBefore: number;
  /** The next proposal, kept while it waits for cores (not in the journal until it starts). */
  private proposal: { number: number; point: Point } | null = null;
  private proposerDone = false;
  private stopReason: string | null = null;
  private timeUp = false;
  private killed = false;
  private ended = false;
  private timer: NodeJS.Timeout | null = null;
  private capacityPoll: NodeJS.Timeout | null = null;
  private resolveDone!: (outcome: SweepOutcome) => void;
  private rejectDone!: (error: Error) => void;

  constructor(
    journal: SweepJournal,
    toRun: Trial[],
    private readonly lock: RunLock,
    private readonly options: SweepRunnerOptions,
    resumed: boolean,
  ) {
    this.journal = journal;
    this.queue = [...toRun];
    this.proposer = createProposer(journal.spec);
    const spec = journal.spec;
    const base = trialConfig(spec, {});
    this.schedule =
      spec.earlyStopping.kind === 'asha' ? ashaSchedule(spec.earlyStopping, base.epochs) : null;
    this.cores = Math.max(1, options.cores ?? os.availableParallelism());
    this.autoBackend = options.autoBackend ?? 'wasm';
    this.now = options.now ?? (() => Date.now());
    this.sessionStart = this.now();
    this.spentBefore = journal.spentSeconds;
    const done = new Promise<SweepOutcome>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // A caller that only stops or kills must not see an unhandled rejection.
    done.catch(() => undefined);
    this.session = {
      sweepId: journal.sweepId,
      done,
      stop: (reason) => {
        this.stop(reason ?? 'the sweep was stopped');
        return done;
      },
      kill: () => this.kill(),
    };
    this.emit({
      type: 'sweep-started',
      sweepId: journal.sweepId,
      preset: spec.preset,
      strategy: spec.strategy,
      budget: { ...spec.budget },
      parallelism: spec.parallelism,
      cores: this.cores,
      rungs: this.schedule ? describeSchedule(this.schedule) : [],
      resumed,
      trialsBefore: resumed ? journal.trials.length : 0,
    });
    this.tensorBoard(() =>
      writeHParamsExperiment(sweepDir(options.root, journal.sweepId), spec, {
        timeCreatedSecs: Date.parse(journal.createdAt) / 1000,
      }),
    );
    if (spec.parallelism === 'auto' && options.launcher.capacity) {
      this.capacityPoll = setInterval(() => this.guard(() => this.pump()), CAPACITY_POLL_MS);
      this.capacityPoll.unref?.();
    }
    // After the caller has the session (and its listeners): the first events follow this tick.
    queueMicrotask(() => this.guard(() => this.pump()));
  }

  /**
   * TensorBoard's HParams data (hparams.ts) is a view of the sweep, not its record: a write that
   * fails (a full disk) must not end the sweep or its trials, which the journal and the runs'
   * own files still hold.
   */
  private tensorBoard(write: () => unknown): void {
    try {
      write();
    } catch {
      // Written again by the next session or trial end where it still can be (write-once).
    }
  }

  /**
   * A trial's HParams session goes in its run folder, beside the run's train/ and validation/
   * event folders, once the run is there: a local run's worker has created it when start()
   * answers; a queued run lands only when it ends (landRun refuses a folder that exists), so its
   * start is written then, with the time it started. A trial whose run never got here (failed on
   * its worker) has no session: TensorBoard would have no scalars to show for it anyway.
   * The run's lock is its worker's, but this event file is the sweep's alone: the trainer
   * writes its events only under train/ and validation/, so no file has two writers.
   */
  private hparamsSession(n: number, ended: TrialStatus | null): void {
    const t = this.trial(n);
    if (t.runId === null) return;
    const dir = runDir(this.options.root, t.runId);
    try {
      readRun(this.options.root, t.runId);
    } catch {
      return;
    }
    this.tensorBoard(() => {
      writeSessionStart(dir, {
        hparams: sessionHParams(this.journal.spec, t.point),
        groupName: trialGroupName(this.journal.sweepId, n),
        startTimeSecs: Date.parse(t.startedAt ?? new Date().toISOString()) / 1000,
        modelUri: dir,
      });
      if (ended !== null)
        writeSessionEnd(dir, {
          status: sessionStatusOf(ended),
          endTimeSecs: Date.parse(t.endedAt ?? new Date().toISOString()) / 1000,
        });
    });
  }

  private get sessionSeconds(): number {
    return (this.now() - this.sessionStart) / 1000;
  }

  /** The journal's spentSeconds already holds this session's time up to its last write. */
  private budget(): BudgetLeft {
    return budgetLeft({ ...this.journal, spentSeconds: this.spentBefore }, this.sessionSeconds);
  }

  private emit(event: SweepEvent): void {
    this.options.onEvent?.(event);
  }

  /** Every change is written at once, with the time spent so far (a kill loses only the rest). */
  private save(next: SweepJournal): void {
    this.journal = writeSweepJournal(this.options.root, {
      ...next,
      spentSeconds: this.spentBefore + this.sessionSeconds,
    });
    this.options.onJournal?.(this.journal);
  }

  /** A failure of the runner itself (a journal that cannot be written) ends the sweep. */
  private guard(step: () => void): void {
    try {
      step();
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private fail(error: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.clearTimer();
    this.clearCapacityPoll();
    for (const slot of this.running.values())
      slot.handle?.stop(`the sweep failed: ${error.message}`);
    this.lock.release();
    void this.options.launcher.close().finally(() => this.rejectDone(error));
  }

  /** Starts what may start, and ends the sweep when nothing runs and nothing is left. */
  private pump(): void {
    if (this.ended) return;
    this.checkTime();
    while (this.stopReason === null && !this.timeUp) {
      const next = this.nextTrial();
      if (next === null) break;
      this.launch(next);
    }
    if (this.running.size === 0 && (this.stopReason !== null || this.nothingLeft())) this.end();
  }

  private nothingLeft(): boolean {
    if (this.timeUp) return true;
    if (this.queue.length > 0) return false;
    return this.proposerDone || this.budget().trials === 0;
  }

  /** The time budget spans sessions: when it runs out, running trials are cut where they are. */
  private checkTime(): void {
    const { maxSeconds } = this.journal.spec.budget;
    if (maxSeconds === undefined || this.timeUp) return;
    const left = maxSeconds - this.spentBefore - this.sessionSeconds;
    if (left > 0) {
      this.clearTimer();
      this.timer = setTimeout(() => this.guard(() => this.pump()), Math.ceil(left * 1000) + 1);
      this.timer.unref?.();
      return;
    }
    this.timeUp = true;
    const why = `the sweep's time budget of ${maxSeconds} s ran out`;
    for (const slot of this.running.values()) {
      if (slot.pruned !== null) continue;
      slot.pruned = why;
      slot.handle?.stop(why);
    }
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private clearCapacityPoll(): void {
    if (this.capacityPoll) clearInterval(this.capacityPoll);
    this.capacityPoll = null;
  }

  /** The next trial to start now, or null when none may (no cores free, or nothing left). */
  private nextTrial(): Trial | { number: number; point: Point } | null {
    const cap = this.journal.spec.parallelism;
    if (typeof cap === 'number' && this.running.size >= cap) return null;
    const capacity = cap === 'auto' ? this.options.launcher.capacity?.() : undefined;
    if (capacity !== undefined && this.running.size >= Math.max(1, capacity)) return null;
    let candidate: Trial | { number: number; point: Point } | null = this.queue[0] ?? null;
    if (candidate === null) {
      if (this.proposerDone || this.budget().exhausted) return null;
      if (this.proposal === null) {
        const number = this.journal.trials.length + 1;
        // The running trials, so TPE's constant liar steers this proposal away from them.
        const pending = [...this.running.keys()].map((n) => ({
          trial: n,
          point: this.trial(n).point,
        }));
        const point = this.proposer.propose(number, observationsOf(this.journal), pending);
        if (point === null) {
          this.proposerDone = true;
          return null;
        }
        this.proposal = { number, point };
      }
      candidate = this.proposal;
    }
    if (cap === 'auto' && capacity === undefined && this.running.size > 0) {
      const config =
        'config' in candidate ? candidate.config : trialConfig(this.journal.spec, candidate.point);
      const used = [...this.running.values()].reduce((n, s) => n + s.threads, 0);
      if (used + trialThreads(config, this.autoBackend, this.cores) > this.cores) return null;
    }
    if ('config' in candidate) this.queue.shift();
    else this.proposal = null;
    return candidate;
  }

  private launch(next: Trial | { number: number; point: Point }): void {
    let trial: Trial;
    if ('config' in next) trial = next;
    else {
      const added = addTrial(this.journal, next.point, new Date(), 0);
      this.save(added.journal);
      trial = added.trial;
    }
    const slot: Slot = {
      trial: trial.number,
      threads: trialThreads(trial.config, this.autoBackend, this.cores),
      handle: null,
      early: [],
      pruned: null,
      ended: false,
    };
    this.running.set(trial.number, slot);
    const listener: TrialListener = (event) => {
      if (slot.ended || this.ended) return;
      if (slot.handle === null) slot.early.push(event);
      else this.guard(() => this.heard(slot, event));
    };
    void this.begin(trial, slot, listener).catch((error: unknown) =>
      this.fail(error instanceof Error ? error : new Error(String(error))),
    );
  }

  private async begin(trial: Trial, slot: Slot, listener: TrialListener): Promise<void> {
    const { launcher } = this.options;
    const tag: SweepTag = { id: this.journal.sweepId, trial: trial.number };
    let handle: TrialHandle | null = null;
    let failure: string | null = null;
    if (trial.status === 'interrupted' && trial.runId !== null) {
      const scores = finishedRunScores(this.options.root, trial.runId);
      if (scores !== null) {
        slot.ended = true;
        this.running.delete(trial.number);
        this.save(adoptFinishedRun(this.journal, trial.number, scores));
        this.hparamsSession(trial.number, 'finished');
        this.emit({
          type: 'trial-finished',
          sweepId: this.journal.sweepId,
          trial: trial.number,
          runId: trial.runId,
          epochs: scores.at(-1)?.epoch ?? 0,
          bestValAccuracy: scores.length ? Math.max(...scores.map((s) => s.valAccuracy)) : null,
        });
        this.pump();
        return;
      }
    }
    if (trial.status === 'interrupted' && trial.runId !== null && launcher.resume) {
      try {
        handle = await launcher.resume(trial.runId, tag, listener);
      } catch {
        // No checkpoint to continue from (killed in its first epoch) or a damaged run: the
        // trial is trained again from scratch, as a new run under the same number.
        slot.early = [];
      }
    }
    if (handle === null) {
      try {
        handle = await launcher.start(trial.config, tag, listener);
      } catch (error) {
        failure = error instanceof Error ? error.message : String(error);
      }
    }
    if (this.ended) {
      handle?.stop('the sweep ended');
      return;
    }
    if (handle === null && this.killed) {
      // Its worker was killed with the sweep while it started: it stays pending or interrupted.
      slot.ended = true;
      this.running.delete(trial.number);
      this.pump();
      return;
    }
    if (handle === null) {
      slot.ended = true;
      this.running.delete(trial.number);
      const reason = `the trial did not start: ${failure ?? 'unknown reason'}`;
      this.save(endTrial(this.journal, trial.number, { status: 'failed', reason }));
      this.emit({
        type: 'trial-failed',
        sweepId: this.journal.sweepId,
        trial: trial.number,
        runId: null,
        reason,
      });
      this.pump();
      return;
    }
    this.save(
      startTrial(this.journal, trial.number, handle.runId, { resumeFromEpoch: handle.fromEpoch }),
    );
    const started = this.trial(trial.number);
    this.hparamsSession(trial.number, null);
    slot.handle = handle;
    this.emit({
      type: 'trial-started',
      sweepId: this.journal.sweepId,
      trial: trial.number,
      runId: handle.runId,
      point: started.point,
      epochs: started.config.epochs,
      attempt: started.attempts,
      fromEpoch: handle.fromEpoch,
    });
    // Stopped while it was starting, or cut by the time budget meanwhile.
    if (this.stopReason !== null) handle.stop(this.stopReason);
    else if (slot.pruned !== null) handle.stop(slot.pruned);
    if (handle.fromEpoch > 0) this.catchUp(slot, handle);
    for (const event of slot.early.splice(0)) if (!slot.ended) this.heard(slot, event);
  }

  /**
   * A resumed run's epochs up to its checkpoint that the journal missed (the sweep's process died
   * between the run's epoch and the journal's write): taken from the run's own metrics, and
   * judged at their rungs as they would have been.
   */
  private catchUp(slot: Slot, handle: TrialHandle): void {
    const known = new Set(this.trial(slot.trial).scores.map((s) => s.epoch));
    let metrics: ReturnType<typeof readMetricsLog> = [];
    try {
      metrics = readMetricsLog(this.options.root, handle.runId);
    } catch {
      // No run files here (a launcher that keeps runs elsewhere): nothing to catch up from.
    }
    for (const m of metrics)
      if (m.epoch <= handle.fromEpoch && !known.has(m.epoch) && m.valAccuracy !== null)
        this.heard(slot, {
          type: 'epoch',
          epoch: m.epoch,
          valAccuracy: m.valAccuracy,
          seconds: m.seconds,
        });
  }

  private trial(number: number): Trial {
    return this.journal.trials[number - 1]!;
  }

  private heard(slot: Slot, event: TrialEvent): void {
    const runId = slot.handle!.runId;
    const sweepId = this.journal.sweepId;
    const n = slot.trial;
    switch (event.type) {
      case 'epoch': {
        // Without validation images there is no score to record or judge.
        if (event.valAccuracy === null) return;
        this.save(recordTrialEpoch(this.journal, n, event.epoch, event.valAccuracy));
        this.emit({
          type: 'trial-epoch',
          sweepId,
          trial: n,
          runId,
          epoch: event.epoch,
          epochs: this.trial(n).config.epochs,
          valAccuracy: event.valAccuracy,
          seconds: event.seconds,
        });
        this.judge(slot, event.epoch, event.valAccuracy);
        return;
      }
      case 'finished':
        // Finished before a prune's stop reached it: it did train every epoch.
        return this.finishSlot(slot, () => {
          this.save(endTrial(this.journal, n, { status: 'finished' }));
          const trial = this.trial(n);
          this.emit({
            type: 'trial-finished',
            sweepId,
            trial: n,
            runId,
            epochs: event.epochs,
            bestValAccuracy: trial.scores.length
              ? Math.max(...trial.scores.map((s) => s.valAccuracy))
              : null,
          });
        });
      case 'stopped':
        return this.finishSlot(slot, () => {
          if (slot.pruned !== null) {
            const reason = slot.pruned;
            this.save(endTrial(this.journal, n, { status: 'pruned', reason }));
            this.emit({
              type: 'trial-pruned',
              sweepId,
              trial: n,
              runId,
              epoch: event.epoch,
              reason,
            });
          } else if (this.stopReason !== null) {
            this.interrupted(slot, event.epoch);
          } else {
            const reason = 'its run was stopped outside the sweep';
            this.save(endTrial(this.journal, n, { status: 'failed', reason }));
            this.emit({ type: 'trial-failed', sweepId, trial: n, runId, reason });
          }
        });
      case 'error':
        return this.finishSlot(slot, () => {
          // Killed with the sweep (a second Ctrl-C): resumable like a stop.
          if (this.killed) return this.interrupted(slot, this.lastScoredEpoch(n));
          this.save(endTrial(this.journal, n, { status: 'failed', reason: event.message }));
          this.emit({ type: 'trial-failed', sweepId, trial: n, runId, reason: event.message });
        });
    }
  }

  private lastScoredEpoch(n: number): number {
    return this.trial(n).scores.at(-1)?.epoch ?? 0;
  }

  private interrupted(slot: Slot, epoch: number): void {
    this.save(interruptTrial(this.journal, slot.trial));
    this.emit({
      type: 'trial-interrupted',
      sweepId: this.journal.sweepId,
      trial: slot.trial,
      runId: slot.handle?.runId ?? null,
      epoch,
    });
  }

  /** ASHA at a rung: a trial below the cut is stopped; it is recorded pruned once it has stopped. */
  private judge(slot: Slot, epoch: number, score: number): void {
    if (this.schedule === null || slot.pruned !== null || this.stopReason !== null) return;
    const decision = ashaDecide(this.schedule, epochScoresOf(this.journal), {
      trial: slot.trial,
      epoch,
      score,
    });
    if (decision.action !== 'prune') return;
    slot.pruned = `pruned by the sweep's early stopping: ${decision.reason}`;
    slot.handle!.stop(
      `sweep ${this.journal.sweepId} trial ${slot.trial} ${slot.pruned}`.slice(0, STOP_REASON_MAX),
    );
  }

  private finishSlot(slot: Slot, record: () => void): void {
    if (slot.ended) return;
    slot.ended = true;
    this.running.delete(slot.trial);
    record();
    // An interrupted trial goes on later (in the same run when resumed): it has no end yet.
    const { status } = this.trial(slot.trial);
    if (status === 'finished' || status === 'pruned' || status === 'failed')
      this.hparamsSession(slot.trial, status);
    this.pump();
  }

  private stop(reason: string): void {
    if (this.ended || this.stopReason !== null) return;
    this.stopReason = reason.slice(0, STOP_REASON_MAX);
    this.clearTimer();
    for (const slot of this.running.values()) slot.handle?.stop(this.stopReason);
    queueMicrotask(() => this.guard(() => this.pump()));
  }

  private async kill(): Promise<void> {
    if (this.ended) return;
    this.killed = true;
    this.stopReason ??= 'the sweep was killed';
    await this.options.launcher.kill?.();
  }

  private end(): void {
    if (this.ended) return;
    this.clearTimer();
    this.clearCapacityPoll();
    const stopped = this.stopReason !== null;
    let journal = this.journal;
    if (!stopped)
      // Spent by the time budget before they could run: nothing will run them now.
      for (const t of trialsToRun(journal))
        journal = endTrial(journal, t.number, {
          status: 'pruned',
          reason: "the sweep's time budget ran out before it ran",
        });
    this.save({ ...journal, status: stopped ? 'stopped' : 'finished' });
    this.ended = true;
    this.lock.release();
    const outcome: SweepOutcome = {
      sweepId: this.journal.sweepId,
      status: stopped ? 'stopped' : 'finished',
      journal: this.journal,
    };
    this.emit({
      type: 'sweep-finished',
      sweepId: this.journal.sweepId,
      status: outcome.status,
      trials: trialCounts(this.journal),
      best: bestTrial(this.journal),
      seconds: this.journal.spentSeconds,
    });
    void this.options.launcher.close().then(
      () => this.resolveDone(outcome),
      () => this.resolveDone(outcome),
    );
  }
}
