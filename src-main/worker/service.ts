import * as tf from '@tensorflow/tfjs';
import { describeZodError, type BackendChoice } from '../contract/config';
import {
  CommandSchema,
  InitCommandSchema,
  type BackendInfo,
  type Command,
  type WorkerEvent,
} from '../contract/messages';
import { selectBackend } from '../engine/backend';
import {
  CheckpointError,
  deleteCheckpoints,
  inspectCheckpoint,
  latestCheckpointEpoch,
  latestValidCheckpoint,
  modelArtifacts,
  weightBytes,
  listRuns,
  loadCheckpoint,
  type LoadedCheckpoint,
} from '../engine/checkpoints';
import { loadDataset, type Dataset } from '../engine/data';
import { branchRun } from '../engine/branch';
import { evaluateSet } from '../engine/evaluate';
import { exportCheckpoint } from '../engine/export/export-checkpoint';
import { cellExamples, confidentMistakes } from '../engine/examples';
import { newRunId, readRun, recordEvaluation, renameRun, runDir } from '../engine/runs';
import { acquireRunLock, assertNotLockedByOthers, runLockState } from '../engine/run-lock';
import { probeWritable, StorageError } from '../engine/storage';
import { runTraining, type StopSignal } from '../engine/trainer';
import { argmax } from '../shared/argmax';

/**
 * The engine behind the worker protocol: one training run at a time, while list, predict and
 * evaluate keep answering (the training loop yields between batches). Commands are validated
 * here, at the boundary, even though the host validated them too: the worker trusts no one.
 */

type Emit = (event: WorkerEvent) => void;

/** Size of the evaluation's "most confidently wrong" gallery (about 1.3 KB each). */
const MISTAKES_SHOWN = 48;
/** Evaluations whose per-image probabilities stay in memory for cell clicks. */
const EVALUATIONS_KEPT = 4;

interface Settings {
  checkpointsDir: string;
  dataDir: string | null;
  threadEntry: string | null;
  /** Names this process in the locks of the runs it writes. */
  owner: string;
}

export class WorkerService {
  private settings: Settings | null = null;
  private backend: BackendInfo | null = null;
  private backendChoice: BackendChoice = 'auto';
  private dataset: Dataset | null = null;
  private training: { runId: string; signal: StopSignal; done: Promise<void> } | null = null;
  /** The last checkpoint used for predict/evaluate, so live drawing does not reload it per stroke. */
  private cached: { key: string; loaded: LoadedCheckpoint } | null = null;
  /**
   * The last few evaluations' probabilities (400 KB each), oldest first, so a confusion-cell click
   * on any recent result needs no re-run.
   */
  private readonly evaluated = new Map<string, Float32Array>();
  /**
   * Runs that failed for lack of a writable disk and could not even record it (a folder turned
   * read-only): run.json still says running, so listings from this process say failed instead.
   */
  private readonly unrecordedFailures = new Map<string, string>();

  constructor(private readonly emit: Emit) {}

  async handle(raw: unknown): Promise<void> {
    const type = (raw as { type?: unknown } | null)?.type;
    if (type === 'init') return this.init(raw);
    const parsed = CommandSchema.safeParse(raw);
    if (!parsed.success) {
      const requestId = (raw as { requestId?: unknown } | null)?.requestId;
      const error = `invalid command: ${describeZodError(parsed.error)}`;
      if (typeof requestId === 'number' && Number.isInteger(requestId) && requestId >= 0) {
        this.reply(requestId, null, error);
      } else {
        this.emit({ type: 'error', message: error, runId: null, fatal: false });
      }
      return;
    }
    const command = parsed.data;
    try {
      if (!this.settings) throw new Error('the worker has not been initialised');
      this.reply(command.requestId, await this.run(command, this.settings), null);
    } catch (error) {
      this.reply(command.requestId, null, error instanceof Error ? error.message : String(error));
    }
  }

  private async init(raw: unknown): Promise<void> {
    const parsed = InitCommandSchema.safeParse(raw);
    if (!parsed.success) {
      this.emit({
        type: 'error',
        message: `invalid init: ${describeZodError(parsed.error)}`,
        runId: null,
        fatal: false,
      });
      return;
    }
    this.settings = {
      checkpointsDir: parsed.data.checkpointsDir,
      dataDir: parsed.data.dataDir,
      threadEntry: parsed.data.threadEntry,
      owner: parsed.data.owner,
    };
    try {
      await this.useBackend(parsed.data.backend, true);
    } catch (error) {
      // Stay alive without a backend: the error is shown, and a later command may pick another.
      this.emit({ type: 'error', message: (error as Error).message, runId: null, fatal: false });
      return;
    }
    this.emit({ type: 'ready', backend: this.backend!, pid: process.pid });
  }

  private async useBackend(choice: BackendChoice, force = false): Promise<BackendInfo> {
    // 'auto' keeps whatever backend is active; only a different explicit choice switches.
    if (!force && this.backend && (choice === this.backendChoice || choice === 'auto')) {
      return this.backend;
    }
    this.dropCache();
    this.backend = await selectBackend(choice);
    this.backendChoice = choice;
    return this.backend;
  }

  private data(): Dataset {
    this.dataset ??= loadDataset(this.settings!.dataDir);
    return this.dataset;
  }

  private async run(command: Command, settings: Settings): Promise<unknown> {
    const root = settings.checkpointsDir;
    switch (command.type) {
      case 'train': {
        this.assertIdle();
        probeWritable(root, 'starting a run');
        const backend = await this.useBackend(command.config.backend);
        const dataset = this.data();
        const runId = newRunId(command.config.model);
        // Taken before answering: the run is ours before anyone hears of it.
        const lock = acquireRunLock(root, runId, settings.owner);
        this.startTraining(runId, (signal) =>
          runTraining({
            root,
            dataset,
            config: command.config,
            sweep: command.sweep,
            backend,
            runId,
            emit: this.emit,
            signal,
            threadEntry: settings.threadEntry ?? undefined,
            lock,
          }),
        );
        return { runId };
      }
      case 'resume': {
        this.assertIdle();
        const run = readRun(root, command.runId);
        // Another process training this run refuses the resume, branch or not: its latest epochs
        // are still changing.
        assertNotLockedByOthers(root, command.runId);
        // Without an epoch: the newest checkpoint that verifies, saying which later ones are
        // damaged. A run with none fails here, before anything is written.
        let latestValid: Awaited<ReturnType<typeof latestValidCheckpoint>> | null = null;
        try {
          latestValid = await latestValidCheckpoint(root, command.runId);
        } catch (error) {
          if (command.epoch === null || !(error instanceof CheckpointError)) throw error;
        }
        const from = command.epoch ?? latestValid!.epoch;
        const skipped = command.epoch === null ? latestValid!.skipped : [];
        const config = { ...run.config, epochs: command.epochs ?? run.config.epochs };
        if (config.epochs <= from) {
          throw new Error(
            `checkpoint ${from} of run ${command.runId} is already at epoch ${from}; ask for more than ${from} epochs to resume`,
          );
        }
        probeWritable(runDir(root, command.runId), `resuming run ${command.runId}`);
        const backend = await this.useBackend(config.backend);
        const dataset = this.data();
        // Resuming before the latest *valid* checkpoint branches, so that later work is kept.
        // Damaged later checkpoints are not work anyone can load: the same run continues, and
        // each is replaced when its epoch is trained again (saveCheckpoint swaps the folder in
        // only once the new one is complete).
        const branching = latestValid !== null && from < latestValid.epoch;
        // The same run continuing is locked before anything is loaded; a branch is a new run,
        // locked by its trainer.
        const lock = branching ? undefined : acquireRunLock(root, command.runId, settings.owner);
        let loaded: LoadedCheckpoint;
        let runId = command.runId;
        let branchedFrom: { runId: string; epoch: number } | null = null;
        try {
          // Loaded (and so verified) before any branch is written: a damaged one changes nothing.
          loaded = await loadCheckpoint(root, command.runId, from);
        } catch (error) {
          lock?.release();
          throw error;
        }
        try {
          if (branching) {
            probeWritable(root, `branching run ${command.runId}`);
            runId = await branchRun(root, command.runId, from);
            branchedFrom = { runId: command.runId, epoch: from };
          }
        } catch (error) {
          loaded.model.optimizer?.dispose();
          loaded.model.dispose();
          throw error;
        }
        this.startTraining(runId, (signal) =>
          runTraining({
            root,
            dataset,
            config,
            backend,
            runId,
            emit: this.emit,
            signal,
            threadEntry: settings.threadEntry ?? undefined,
            resume: { model: loaded.model, epoch: loaded.epoch },
            lock,
            owner: settings.owner,
          }),
        );
        return { runId, branchedFrom, epoch: loaded.epoch, skipped };
      }
      case 'stop': {
        const active = this.training;
        if (active) {
          active.signal.stopRequested = true;
          active.signal.reason = command.reason;
        }
        return { stopping: active !== null };
      }
      case 'listRuns':
        return {
          runs: (await listRuns(root)).map((run) => {
            const reason = this.unrecordedFailures.get(run.runId);
            // Its run.json still says running, which the listing shows as crashed (no live lock).
            return reason !== undefined && (run.status === 'running' || run.status === 'crashed')
              ? {
                  ...run,
                  status: 'failed' as const,
                  reason: `${reason} (run.json could not record it)`,
                }
              : run;
          }),
        };
      case 'deleteRun': {
        if (this.training?.runId === command.runId)
          throw new Error(`run ${command.runId} is training; stop it first`);
        if (this.cached?.key.startsWith(`${command.runId}:`)) this.dropCache();
        for (const key of this.evaluated.keys())
          if (key.startsWith(`${command.runId}:`)) this.evaluated.delete(key);
        deleteCheckpoints(root, command.runId, command.epoch, settings.owner);
        return { runId: command.runId, epoch: command.epoch };
      }
      case 'renameRun': {
        // A run this worker trains is safe to rename: its run.json writes are in this thread.
        if (this.training?.runId !== command.runId) assertNotLockedByOthers(root, command.runId);
        return { runId: command.runId, name: renameRun(root, command.runId, command.name) };
      }
      case 'evaluate': {
        const loaded = await this.checkpoint(root, command.runId, command.epoch);
        const test = this.data().test;
        const m = await evaluateSet(loaded.model, test, {
          yieldEvery: true,
          keepProbabilities: true,
          onProgress: (done, total) =>
            this.emit({ type: 'evaluateProgress', runId: command.runId, done, total }),
        });
        const key = `${command.runId}:${loaded.epoch}`;
        this.evaluated.delete(key);
        this.evaluated.set(key, m.probabilities!);
        for (const old of this.evaluated.keys()) {
          if (this.evaluated.size <= EVALUATIONS_KEPT) break;
          this.evaluated.delete(old);
        }
        this.keepTestResult(root, command.runId, loaded.epoch, m.accuracy, m.loss);
        return {
          runId: command.runId,
          epoch: loaded.epoch,
          accuracy: m.accuracy,
          loss: m.loss,
          perClass: m.perClass,
          confusion: m.confusion,
          count: m.count,
          mistakes: confidentMistakes(test, m.probabilities!, MISTAKES_SHOWN),
        };
      }
      case 'restore': {
        const loaded = await this.checkpoint(root, command.runId, command.epoch);
        return {
          runId: command.runId,
          epoch: loaded.epoch,
          model: loaded.run.config.model,
          metrics: loaded.metrics,
        };
      }
      case 'modelFiles': {
        const loaded = await this.checkpoint(root, command.runId, command.epoch);
        const artifacts = await modelArtifacts(loaded.model);
        return {
          runId: command.runId,
          epoch: loaded.epoch,
          topology: artifacts.modelTopology as Record<string, unknown>,
          weightSpecs: artifacts.weightSpecs ?? [],
          weights: Buffer.from(weightBytes(artifacts)).toString('base64'),
        };
      }
      case 'examples': {
        const probabilities = this.evaluated.get(`${command.runId}:${command.epoch}`);
        if (!probabilities)
          throw new Error(
            `evaluate epoch ${command.epoch} of run ${command.runId} first; its examples come from that evaluation`,
          );
        const { actual, predicted, limit } = command;
        return cellExamples(this.data().test, probabilities, actual, predicted, limit);
      }
      case 'predict': {
        const loaded = await this.checkpoint(root, command.runId, command.epoch, false);
        const output = tf.tidy(
          () => loaded.model.predict(tf.tensor4d(command.pixels, [1, 28, 28, 1])) as tf.Tensor,
        );
        // Asynchronous read: webgpu's dataSync needs OffscreenCanvas, which Node does not have.
        const probabilities = Array.from(await output.data());
        output.dispose();
        const digit = argmax(probabilities);
        return { runId: command.runId, epoch: loaded.epoch, digit, probabilities };
      }
      case 'writeExport': {
        // Here, not in the host: loading and converting a model would stall the host's event
        // loop (every page's events) for as long as it takes. The path is the host's choice.
        await this.useBackend(this.backendChoice);
        const { runId, epoch, format, withOptimizer, out, overwrite } = command;
        return exportCheckpoint(root, { runId, epoch, format, withOptimizer, out, overwrite });
      }
    }
  }

  private stillMarkedRunning(root: string, runId: string): boolean {
    try {
      return readRun(root, runId).status === 'running';
    } catch {
      return false;
    }
  }

  private assertIdle(): void {
    if (this.training)
      throw new Error(`run ${this.training.runId} is already training; stop it first`);
  }

  private startTraining(runId: string, train: (signal: StopSignal) => Promise<unknown>): void {
    const signal: StopSignal = { stopRequested: false };
    this.unrecordedFailures.delete(runId);
    const root = this.settings!.checkpointsDir;
    const done = train(signal)
      .catch((error: unknown) => {
        if (error instanceof StorageError && this.stillMarkedRunning(root, runId))
          this.unrecordedFailures.set(runId, error.message);
        this.emit({
          type: 'error',
          message: error instanceof Error ? error.message : String(error),
          runId,
          fatal: false,
        });
      })
      .finally(() => {
        this.training = null;
      });
    this.training = { runId, signal, done: done.then(() => undefined) };
  }

  private async checkpoint(
    root: string,
    runId: string,
    epoch: number | null,
    /** Check the files again even when cached: restore and evaluate do; per-stroke predict does not. */
    verify = true,
  ): Promise<LoadedCheckpoint> {
    await this.useBackend(this.backendChoice);
    const resolved = epoch ?? latestCheckpointEpoch(root, runId);
    const key = `${runId}:${resolved}`;
    if (this.cached?.key === key && verify && resolved !== null) {
      // The files may have changed since they were cached (deleted, damaged, replaced).
      const info = await inspectCheckpoint(root, runId, resolved);
      if (info.status !== 'ok' || info.savedAt !== this.cached.loaded.savedAt) this.dropCache();
    }
    if (this.cached?.key === key) return this.cached.loaded;
    const loaded = await loadCheckpoint(root, runId, epoch);
    this.dropCache();
    this.cached = { key: `${runId}:${loaded.epoch}`, loaded };
    return loaded;
  }

  /**
   * Keeps a test-set result in the run's run.json, where the Checkpoints panel shows it. Not
   * while another process trains the run (its trainer rewrites run.json), and never at the cost
   * of the evaluation itself: a run.json that cannot take it only loses the note.
   */
  private keepTestResult(
    root: string,
    runId: string,
    epoch: number,
    accuracy: number,
    loss: number,
  ): void {
    try {
      if (this.training?.runId !== runId && runLockState(root, runId).state === 'held') return;
      recordEvaluation(root, runId, { epoch, accuracy, loss, at: new Date().toISOString() });
    } catch (error) {
      console.warn(`run ${runId}: test result not kept in run.json: ${(error as Error).message}`);
    }
  }

  private dropCache(): void {
    if (!this.cached) return;
    this.cached.loaded.model.optimizer?.dispose();
    this.cached.loaded.model.dispose();
    this.cached = null;
  }

  private reply(requestId: number, result: unknown, error: string | null): void {
    this.emit({
      type: 'reply',
      requestId,
      ok: error === null,
      result: error === null ? result : null,
      error,
    });
  }
}
