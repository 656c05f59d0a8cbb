import type { BackendChoice, TrainConfig } from '../contract/config';
import type { SweepTag, WorkerEvent } from '../contract/messages';
import type { TrialHandle, TrialLauncher, TrialListener } from '../engine/sweeps/runner';
import type { SpawnWorker } from './worker-handle';
import { WorkerHost } from './worker-host';

/**
 * Runs sweep trials on this machine, each in its own worker process through the same host the
 * CLI and the app use, so a trial is an ordinary run: checkpoints, metrics.jsonl, TensorBoard
 * events, a lock, and run.json tagged with its sweep and trial. A worker trains one run at a
 * time; an idle one is reused for the next trial (loading tfjs and MNIST again costs seconds).
 */

export interface LocalLauncherOptions {
  spawn: SpawnWorker;
  checkpointsDir: string;
  dataDir: string | null;
  backend: BackendChoice;
  /** Built gradient-thread entry for a bundled app (see InitCommandSchema); default none. */
  threadEntry?: string;
  owner: string;
  /** Every worker event, for a caller that shows more than the sweep's own events. */
  onWorkerEvent?: (event: Exclude<WorkerEvent, { type: 'reply' }>) => void;
  /** How long a resume waits for a run still locked by a worker that is leaving. */
  lockWaitMs?: number;
}

interface Worker {
  host: WorkerHost;
  listener: TrialListener | null;
}

/**
 * A worker whose sweep process was killed stops its run after the current batch and then
 * releases the run's lock (worker/graceful-exit.ts): a resume right after may find the run
 * still locked for that moment, and waits for it rather than rerunning the trial.
 */
const LOCK_WAIT_MS = 35_000;
const LOCKED = /is being trained by/;

export class LocalTrialLauncher implements TrialLauncher {
  private readonly idle: Worker[] = [];
  private readonly workers = new Set<Worker>();

  constructor(private readonly options: LocalLauncherOptions) {}

  async start(config: TrainConfig, tag: SweepTag, listener: TrialListener): Promise<TrialHandle> {
    const worker = this.take(listener);
    try {
      const { runId } = await worker.host.request({ type: 'train', config, sweep: tag });
      return this.handle(worker, runId, 0);
    } catch (error) {
      this.release(worker);
      throw error;
    }
  }

  async resume(runId: string, _tag: SweepTag, listener: TrialListener): Promise<TrialHandle> {
    const worker = this.take(listener);
    const deadline = Date.now() + (this.options.lockWaitMs ?? LOCK_WAIT_MS);
    try {
      for (;;) {
        try {
          // The latest valid checkpoint of the same run: the run keeps its tag and history.
          const result = await worker.host.request({
            type: 'resume',
            runId,
            epoch: null,
            epochs: null,
          });
          return this.handle(worker, result.runId, result.epoch);
        } catch (error) {
          if (!LOCKED.test((error as Error).message) || Date.now() > deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
    } catch (error) {
      this.release(worker);
      throw error;
    }
  }

  async kill(): Promise<void> {
    await Promise.all([...this.workers].map((w) => w.host.kill()));
  }

  close(): Promise<void> {
    for (const worker of this.workers) worker.host.dispose();
    this.workers.clear();
    this.idle.length = 0;
    return Promise.resolve();
  }

  private handle(worker: Worker, runId: string, fromEpoch: number): TrialHandle {
    return {
      runId,
      fromEpoch,
      stop: (reason) => void worker.host.stopRun(reason).catch(() => undefined),
    };
  }

  private take(listener: TrialListener): Worker {
    const worker = this.idle.pop() ?? this.spawn();
    worker.listener = listener;
    return worker;
  }

  /** Called by the run's end event and by a failed start, in either order: idle once. */
  private release(worker: Worker): void {
    worker.listener = null;
    if (this.workers.has(worker) && !this.idle.includes(worker)) this.idle.push(worker);
  }

  private spawn(): Worker {
    const route: { listener: TrialListener | null } = { listener: null };
    const host = new WorkerHost({
      spawn: this.options.spawn,
      checkpointsDir: this.options.checkpointsDir,
      dataDir: this.options.dataDir,
      backend: this.options.backend,
      threadEntry: this.options.threadEntry,
      owner: this.options.owner,
      onEvent: (event) => {
        this.options.onWorkerEvent?.(event);
        const listener = route.listener;
        if (!listener) return;
        switch (event.type) {
          case 'epoch':
            return listener({
              type: 'epoch',
              epoch: event.epoch,
              valAccuracy: event.valAccuracy,
              seconds: event.seconds,
            });
          case 'finished':
            this.release(worker);
            return listener({ type: 'finished', epochs: event.epochs });
          case 'stopped':
            this.release(worker);
            return listener({ type: 'stopped', epoch: event.epoch });
          case 'error':
            // A fatal error is the worker's death, which ends whatever it trained; a run's own
            // error ends that run. Other errors (a bad message) leave the trial running.
            if (!event.fatal && event.runId === null) return;
            this.release(worker);
            return listener({ type: 'error', message: event.message });
        }
      },
    });
    const worker: Worker = Object.assign(route, { host });
    this.workers.add(worker);
    return worker;
  }
}
