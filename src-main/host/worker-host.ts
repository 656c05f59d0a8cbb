import { describeZodError, type BackendChoice } from '../contract/config';
import {
  CommandSchema,
  EventSchema,
  ResultSchemas,
  type BackendInfo,
  type Command,
  type CommandType,
  type EventOfType,
  type ResultOf,
  type WorkerEvent,
} from '../contract/messages';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { RestoredSchema } from '../contract/messages';
import { markRunCrashed, writeFileAtomic } from '../engine/runs';
import { removeStaleLock } from '../engine/run-lock';
import type { SpawnWorker, WorkerExit, WorkerHandle } from './worker-handle';

/**
 * Owns the engine worker's life for the Electron main process, the serve bridge and the CLI:
 * starts it on the first command, validates every message both ways, turns a crash into an
 * error event with the reason (and marks the run crashed on disk), and starts a fresh worker
 * on the next command.
 */

export interface HostOptions {
  spawn: SpawnWorker;
  checkpointsDir: string;
  dataDir: string | null;
  backend: BackendChoice;
  /** Built gradient-thread entry for a bundled app (see InitCommandSchema); default none. */
  threadEntry?: string;
  /** Names this app in run locks, so another process's refusal says who trains the run. */
  owner?: string | (() => string);
  onEvent: (event: Exclude<WorkerEvent, { type: 'reply' }>) => void;
}

/** A command as callers write it; the host assigns the request id. */
export type CommandInput = Command extends infer C
  ? C extends Command
    ? Omit<C, 'requestId'>
    : never
  : never;

interface Pending {
  type: CommandType;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

export class HostCommandError extends Error {
  override name = 'HostCommandError';
}

/** Batch events kept for a page that reloads mid-run (a 15-epoch cnn sends ~1,500). */
export const ACTIVE_RUN_BATCHES = 5000;

/** How `shutdown` left: no run to stop, the run stopped (or ended) in time, or it was killed. */
export type ShutdownOutcome = 'idle' | 'stopped' | 'killed';

export class WorkerHost {
  private worker: WorkerHandle | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** The run being trained, to name it (and mark it on disk) if the worker dies. */
  private activeRun: EventOfType<'started'> | null = null;
  /** The active run's batch events, oldest dropped past ACTIVE_RUN_BATCHES. */
  private activeBatches: EventOfType<'batch'>[] = [];
  private backendInfo: BackendInfo | null = null;
  private restoredCheckpoint: ResultOf<'restore'> | null = null;
  private disposed = false;
  /** Set by `shutdown`: only its own stop goes to the worker from then on. */
  private closing = false;
  /**
   * The run the worker trains, known from the `train`/`resume` reply: with gradient threads
   * `started` follows the reply, and a stop in between must still find the run.
   */
  private runInFlight: string | null = null;
  /** `train` and `resume` commands not answered yet: a stop waits for them to start the run. */
  private readonly starting = new Set<Promise<unknown>>();
  /** Called when a run ends (stopped, finished, failed) or the worker exits. */
  private runEndListeners: (() => void)[] = [];
  private exitListeners: (() => void)[] = [];

  constructor(private readonly options: HostOptions) {
    this.restoredCheckpoint = readRestored(options.checkpointsDir);
  }

  get running(): boolean {
    return this.worker !== null;
  }

  get pid(): number | undefined {
    return this.worker?.pid;
  }

  /** What a client that connects late (or reloads) needs to catch up. */
  get backend(): BackendInfo | null {
    return this.backendInfo;
  }

  get training(): EventOfType<'started'> | null {
    return this.activeRun;
  }

  /**
   * What the worker trains or is starting, in words ("run <id>"), or null when it is idle. Known
   * from the `train`/`resume` command on, where `training` waits for the `started` event.
   */
  get busyWith(): string | null {
    const runId = this.activeRun?.runId ?? this.runInFlight;
    if (runId) return `run ${runId}`;
    return this.starting.size > 0 ? 'a run being started' : null;
  }

  get trainingBatches(): EventOfType<'batch'>[] {
    return this.activeRun ? [...this.activeBatches] : [];
  }

  /** The checkpoint last restored, kept here so a reloaded page still draws with it. */
  get restored(): ResultOf<'restore'> | null {
    return this.restoredCheckpoint;
  }

  /** Validates the command against the contract, sends it, and validates the result. */
  request<C extends CommandInput>(input: C): Promise<ResultOf<C['type']>> {
    if (this.disposed) return Promise.reject(new HostCommandError('the host has been shut down'));
    if (this.closing) return Promise.reject(new HostCommandError('the host is shutting down'));
    return this.send(input);
  }

  private send<C extends CommandInput>(input: C): Promise<ResultOf<C['type']>> {
    const requestId = this.nextId++;
    const parsed = CommandSchema.safeParse({ ...input, requestId });
    if (!parsed.success) {
      return Promise.reject(
        new HostCommandError(
          `invalid ${String(input.type)} command: ${describeZodError(parsed.error)}`,
        ),
      );
    }
    const worker = this.ensureWorker();
    const result = new Promise<ResultOf<C['type']>>((resolve, reject) => {
      this.pending.set(requestId, {
        type: parsed.data.type,
        resolve: resolve as (v: unknown) => void,
        reject,
      });
      worker.post(parsed.data);
    });
    if (parsed.data.type === 'train' || parsed.data.type === 'resume') {
      const settled = result.then(
        () => undefined,
        () => undefined,
      );
      this.starting.add(settled);
      void settled.then(() => this.starting.delete(settled));
    }
    return result;
  }

  /**
   * Stops the run being trained (or being started) after its current batch, and resolves with
   * its id once it has ended, or with null when nothing was training. The worker stays.
   */
  async stopRun(reason?: string): Promise<string | null> {
    await Promise.all([...this.starting]);
    const runId = this.runInFlight ?? this.activeRun?.runId ?? null;
    if (runId === null || !this.worker) return null;
    const ended = new Promise<void>((resolve) => this.runEndListeners.push(resolve));
    try {
      const { stopping } = await this.send({ type: 'stop', reason });
      // Nothing to stop: the run ended while its reply was on the way.
      if (!stopping) {
        this.runEnded(runId);
        return runId;
      }
    } catch {
      // The worker died on the way: its exit ends the run (marked crashed), and `ended` with it.
    }
    await ended;
    return runId;
  }

  /**
   * For a host that is going away (Ctrl-C, SIGTERM, an app that quits): refuses new commands,
   * stops the run after its current batch so its status is `stopped` and its finished epochs
   * stand, waits at most `timeoutMs` for that, then disposes (killing a run that did not stop).
   */
  async shutdown({
    timeoutMs,
    reason,
  }: {
    timeoutMs: number;
    /** Why the run stops, for run.json ("serve mode received SIGTERM"). */
    reason?: string;
  }): Promise<ShutdownOutcome> {
    if (this.disposed) return 'idle';
    this.closing = true;
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      this.stopRun(reason).then((runId): ShutdownOutcome => (runId === null ? 'idle' : 'stopped')),
      new Promise<ShutdownOutcome>((resolve) => (timer = setTimeout(resolve, timeoutMs, 'killed'))),
    ]);
    clearTimeout(timer);
    this.dispose(`it did not stop within ${timeoutMs / 1000} s of the host shutting down`);
    return outcome;
  }

  /** Starts the worker ahead of the first command, so the backend is known when the UI opens. */
  start(): void {
    if (!this.disposed) this.ensureWorker();
  }

  /**
   * Kills the worker (a stop that cannot wait); pending requests fail, the next one restarts it.
   * Resolves once its exit has been handled (the run marked crashed, the error event sent).
   */
  kill(): Promise<void> {
    if (!this.worker) return Promise.resolve();
    const exited = new Promise<void>((resolve) => this.exitListeners.push(resolve));
    this.worker.kill();
    return exited;
  }

  /**
   * Kills the worker for good. Its exit may never be seen (the process is about to end), so a run
   * it was training is marked crashed here, with `why` it was killed.
   */
  dispose(why = 'the host shut down while it was training'): void {
    this.disposed = true;
    this.closing = true;
    if (!this.worker) return;
    this.worker.kill();
    const runId = this.runInFlight ?? this.activeRun?.runId ?? null;
    if (runId)
      markRunCrashed(this.options.checkpointsDir, runId, `the training worker was killed: ${why}`);
  }

  private ensureWorker(): WorkerHandle {
    if (this.worker) return this.worker;
    const worker = this.options.spawn();
    this.worker = worker;
    worker.onMessage((message) => {
      if (this.worker === worker) this.receive(message);
    });
    worker.onExit((exit) => {
      if (this.worker === worker) this.exited(exit);
    });
    worker.post({
      type: 'init',
      checkpointsDir: this.options.checkpointsDir,
      dataDir: this.options.dataDir,
      backend: this.options.backend,
      threadEntry: this.options.threadEntry ?? null,
      owner:
        (typeof this.options.owner === 'function' ? this.options.owner() : this.options.owner) ??
        'MNIST Studio',
    });
    return worker;
  }

  private receive(message: unknown): void {
    const parsed = EventSchema.safeParse(message);
    if (!parsed.success) {
      this.options.onEvent({
        type: 'error',
        message: `the worker sent an invalid message: ${describeZodError(parsed.error)}`,
        runId: null,
        fatal: false,
      });
      return;
    }
    const event = parsed.data;
    if (event.type === 'reply') {
      this.settle(event.requestId, event.ok, event.result, event.error);
      return;
    }
    if (event.type === 'ready') this.backendInfo = event.backend;
    if (event.type === 'started') {
      this.activeRun = event;
      this.activeBatches = [];
      this.backendInfo = event.backend;
    }
    if (event.type === 'batch' && event.runId === this.activeRun?.runId) {
      this.activeBatches.push(event);
      // A long run's history stays bounded: the older half goes, the recent curve stays.
      if (this.activeBatches.length > ACTIVE_RUN_BATCHES)
        this.activeBatches = this.activeBatches.slice(ACTIVE_RUN_BATCHES / 2);
    }
    const endsRun =
      event.type === 'finished' ||
      event.type === 'stopped' ||
      (event.type === 'error' && event.runId !== null);
    if (endsRun && event.runId === this.activeRun?.runId) this.activeRun = null;
    this.options.onEvent(event);
    if (endsRun && event.runId !== null) this.runEnded(event.runId);
  }

  private runEnded(runId: string): void {
    if (this.runInFlight === runId) this.runInFlight = null;
    const listeners = this.runEndListeners;
    this.runEndListeners = [];
    for (const listener of listeners) listener();
  }

  private settle(requestId: number, ok: boolean, result: unknown, error: string | null): void {
    const pending = this.pending.get(requestId);
    if (!pending) return;
    this.pending.delete(requestId);
    if (!ok) {
      pending.reject(new HostCommandError(error ?? 'the command failed'));
      return;
    }
    const checked = ResultSchemas[pending.type].safeParse(result);
    if (checked.success) {
      if (pending.type === 'train' || pending.type === 'resume')
        this.runInFlight = (checked.data as ResultOf<'train'>).runId;
      this.remember(pending.type, checked.data);
      pending.resolve(checked.data);
    } else
      pending.reject(
        new HostCommandError(
          `the worker sent an invalid ${pending.type} result: ${describeZodError(checked.error)}`,
        ),
      );
  }

  private remember(type: CommandType, result: unknown): void {
    const before = this.restoredCheckpoint;
    if (type === 'restore') this.restoredCheckpoint = result as ResultOf<'restore'>;
    if (type === 'deleteRun' && this.restoredCheckpoint) {
      const deleted = result as ResultOf<'deleteRun'>;
      const r = this.restoredCheckpoint;
      if (deleted.runId === r.runId && (deleted.epoch === null || deleted.epoch === r.epoch))
        this.restoredCheckpoint = null;
    }
    if (this.restoredCheckpoint !== before)
      saveRestored(this.options.checkpointsDir, this.restoredCheckpoint);
  }

  private exited(exit: WorkerExit): void {
    this.worker = null;
    const runId = this.activeRun?.runId ?? this.runInFlight;
    this.activeRun = null;
    const reason = `the training worker ${exit.reason}`;
    if (runId) {
      markRunCrashed(this.options.checkpointsDir, runId, reason);
      removeStaleLock(this.options.checkpointsDir, runId);
    }
    for (const [, pending] of this.pending) pending.reject(new HostCommandError(reason));
    this.pending.clear();
    if (!this.disposed)
      this.options.onEvent({ type: 'error', message: reason, runId, fatal: true });
    // Whatever was training has ended with the process.
    this.runInFlight = null;
    for (const listener of this.runEndListeners.splice(0)) listener();
    for (const listener of this.exitListeners.splice(0)) listener();
  }
}

/**
 * The restored checkpoint is a choice the user made, so it outlives the app: kept beside the runs
 * (a dot-name, never listed as a run). Only a pointer: the renderer falls back to the latest
 * finished run when it no longer exists.
 */
const RESTORED_FILE = '.restored.json';

function readRestored(dir: string): ResultOf<'restore'> | null {
  try {
    const file = path.join(dir, RESTORED_FILE);
    if (!existsSync(file)) return null;
    const parsed = RestoredSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function saveRestored(dir: string, restored: ResultOf<'restore'> | null): void {
  try {
    const file = path.join(dir, RESTORED_FILE);
    if (restored === null) rmSync(file, { force: true });
    else {
      mkdirSync(dir, { recursive: true });
      writeFileAtomic(file, JSON.stringify(restored, null, 2));
    }
  } catch (error) {
    // Remembering is a convenience: the restore itself worked, so say why and carry on.
    console.warn(`could not remember the restored checkpoint: ${(error as Error).message}`);
  }
}
