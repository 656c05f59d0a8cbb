import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { TrialHandle, TrialLauncher, TrialListener } from '../runner';
import { bullConnection, checkRedis, type QueueTarget } from './connection';
import {
  CAPACITY_RENEW_MS,
  CAPACITY_TTL_S,
  capacityKey,
  QUEUE_NAME,
  QUEUE_PREFIX,
  stopKey,
  TrialJobDataSchema,
  type EpochReport,
  type TrialResult,
} from './protocol';
import { packRun } from './run-files';

/**
 * The machine side of a queued sweep: takes trial jobs from BullMQ, trains each as an ordinary
 * local run through a TrialLauncher (the CLI passes the one that forks training workers, so a
 * trial here is the same run it would be in a local sweep), reports every epoch as the job's
 * progress, stops the run when the sweep sets the job's stop key, and returns the run's files.
 *
 * A worker that dies mid-trial stops renewing its job's lock; after `lockMs` BullMQ's stalled
 * check (run by every other worker every `stalledIntervalMs`) puts the job back in the queue and
 * another worker trains it from the start. The dead worker's late reports count for nothing:
 * BullMQ refuses to complete a job whose lock it no longer holds, and the sweep ignores progress
 * of an older attempt.
 */

export type QueueWorkerEvent =
  | { type: 'worker-ready'; queue: string; worker: string; concurrency: number }
  | {
      type: 'job-started';
      jobId: string;
      sweepId: string;
      trial: number;
      attempt: number;
      runId: string;
    }
  | {
      type: 'job-epoch';
      jobId: string;
      epoch: number;
      valAccuracy: number | null;
    }
  | {
      type: 'job-done';
      jobId: string;
      outcome: TrialResult['outcome']['type'];
      runId: string | null;
      bytes: number;
      note: string | null;
    }
  | { type: 'job-stopping'; jobId: string; reason: string }
  | { type: 'worker-error'; message: string };

export interface QueueWorkerOptions {
  target: QueueTarget;
  /** This machine's checkpoints folder, where its trials' runs are trained and kept. */
  root: string;
  launcher: TrialLauncher;
  /** Trials trained at once (each in its own training process). */
  concurrency: number;
  /** Names this worker in progress reports and logs (default host:pid). */
  name: string;
  /** How long a job stays ours without a lock renewal (BullMQ renews at half of it). */
  lockMs?: number;
  /** How often this worker looks for other workers' stalled jobs; default lockMs / 2. */
  stalledIntervalMs?: number;
  /** How often a running trial's stop key is read. */
  stopPollMs?: number;
  onEvent: (event: QueueWorkerEvent) => void;
}

/**
 * 30 s: a training process is separate from this one, so a lock renewal is never stuck behind a
 * batch; the margin is for a loaded machine or network. Tests pass a few seconds.
 */
export const DEFAULT_LOCK_MS = 30_000;
const STOP_POLL_MS = 500;
/**
 * Stalls a job may have before it fails for good: a trial whose training kills its worker's
 * machine (out of memory) must not take down every worker in turn.
 */
const MAX_STALLED = 2;

export class QueueWorker {
  private readonly worker: Worker;
  private readonly redis: Redis;
  /** Set by kill: results of trials it ends are never sent, so their jobs stall and move on. */
  private dying = false;
  private announcer: NodeJS.Timeout | null = null;

  private constructor(private readonly options: QueueWorkerOptions) {
    const connection = bullConnection(options.target);
    this.redis = new Redis({ ...connection, maxRetriesPerRequest: 3 });
    this.redis.on('error', () => undefined);
    const lockMs = options.lockMs ?? DEFAULT_LOCK_MS;
    this.worker = new Worker(QUEUE_NAME, (job) => this.process(job), {
      connection,
      prefix: QUEUE_PREFIX,
      concurrency: options.concurrency,
      name: options.name,
      lockDuration: lockMs,
      stalledInterval: options.stalledIntervalMs ?? Math.max(1_000, Math.floor(lockMs / 2)),
      maxStalledCount: MAX_STALLED,
      autorun: false,
    });
    let lastError = '';
    this.worker.on('error', (error) => {
      // A Redis that is away is reported on every reconnect; once per cause is enough.
      if (error.message === lastError) return;
      lastError = error.message;
      this.emit({ type: 'worker-error', message: error.message });
    });
    // A job whose processor threw (its run's files could not be read): BullMQ retries it once.
    this.worker.on('failed', (job, error) =>
      this.emit({ type: 'worker-error', message: `job ${job?.id ?? '?'}: ${error.message}` }),
    );
  }

  /** Checks that Redis answers (a clear error otherwise), then starts taking jobs. */
  static async open(options: QueueWorkerOptions): Promise<QueueWorker> {
    await checkRedis(options.target);
    const worker = new QueueWorker(options);
    await worker.worker.waitUntilReady();
    await worker.announce();
    worker.announcer = setInterval(() => void worker.announce(), CAPACITY_RENEW_MS);
    worker.announcer.unref();
    void worker.worker
      .run()
      .catch((error: unknown) => worker.emit({ type: 'worker-error', message: String(error) }));
    worker.emit({
      type: 'worker-ready',
      queue: options.target.display,
      worker: options.name,
      concurrency: options.concurrency,
    });
    return worker;
  }

  /** Tells sweeps with `--parallel auto` how many trials this worker takes (protocol.ts). */
  private async announce(): Promise<void> {
    await this.redis
      .set(capacityKey(this.options.name), String(this.options.concurrency), 'EX', CAPACITY_TTL_S)
      .catch(() => undefined);
  }

  /** Takes no new job, lets the trials in hand finish, then disconnects. */
  async close(): Promise<void> {
    // Sweeps stop counting on this worker at once, not when its announcement expires.
    if (this.announcer) clearInterval(this.announcer);
    await this.redis.del(capacityKey(this.options.name)).catch(() => undefined);
    await this.worker.close();
    await this.redis.quit().catch(() => undefined);
  }

  /** Ends the trials in hand now: their jobs stall and go to other workers. */
  async kill(): Promise<void> {
    this.dying = true;
    await this.options.launcher.kill?.();
  }

  private emit(event: QueueWorkerEvent): void {
    this.options.onEvent(event);
  }

  private async process(job: Job<unknown>): Promise<TrialResult> {
    const jobId = job.id ?? '?';
    const parsed = TrialJobDataSchema.safeParse(job.data);
    // A job this version cannot read would fail the same way on every retry.
    if (!parsed.success)
      throw new UnrecoverableError(
        `job ${jobId} is not a trial this worker can train: ${parsed.error.issues[0]?.message}`,
      );
    const data = parsed.data;
    const attempt = Math.max(1, job.attemptsStarted);
    const worker = this.options.name;
    const epochs: EpochReport[] = [];
    /** The job's return value, with the run's files packed; reported on this worker's output. */
    const done = (outcome: TrialResult['outcome'], runId: string | null): TrialResult => {
      const packed = runId === null ? null : packRun(this.options.root, runId);
      this.emit({
        type: 'job-done',
        jobId,
        outcome: outcome.type,
        runId,
        bytes: packed?.bytes ?? 0,
        note: packed?.note ?? null,
      });
      return {
        version: 1,
        attempt,
        worker,
        workerRunId: runId,
        outcome,
        epochs,
        checkpointEpoch: packed?.checkpointEpoch ?? null,
        note: packed?.note ?? null,
        files: packed?.files ?? [],
      };
    };

    // Stopped (pruned, or the sweep stopped) while it waited for a worker.
    const early = await this.redis.get(stopKey(jobId));
    if (early !== null) return done({ type: 'stopped', epoch: 0 }, null);

    let ended!: (outcome: TrialResult['outcome']) => void;
    const end = new Promise<TrialResult['outcome']>((resolve) => (ended = resolve));
    const listener: TrialListener = (event) => {
      switch (event.type) {
        case 'epoch':
          epochs.push({
            epoch: event.epoch,
            valAccuracy: event.valAccuracy,
            seconds: event.seconds,
          });
          this.emit({
            type: 'job-epoch',
            jobId,
            epoch: event.epoch,
            valAccuracy: event.valAccuracy,
          });
          // A lost report is made good by the next one, which carries every epoch so far.
          void job.updateProgress({ attempt, worker, epochs: [...epochs] }).catch(() => undefined);
          return;
        case 'finished':
          return ended({ type: 'finished', epochs: event.epochs });
        case 'stopped':
          return ended({ type: 'stopped', epoch: event.epoch });
        case 'error':
          return ended({ type: 'error', message: event.message.slice(0, 2000) });
      }
    };
    let handle: TrialHandle;
    try {
      handle = await this.options.launcher.start(data.config, data.tag, listener);
    } catch (error) {
      return done({ type: 'error', message: `the run did not start: ${String(error)}` }, null);
    }
    this.emit({
      type: 'job-started',
      jobId,
      sweepId: data.tag.id,
      trial: data.tag.trial,
      attempt,
      runId: handle.runId,
    });
    // Tells the sweep which worker has the trial before its first epoch ends.
    void job.updateProgress({ attempt, worker, epochs: [] }).catch(() => undefined);

    let stopping = false;
    const poll = setInterval(() => {
      if (stopping) return;
      void this.redis
        .get(stopKey(jobId))
        .then((reason) => {
          if (reason === null || stopping) return;
          stopping = true;
          this.emit({ type: 'job-stopping', jobId, reason });
          handle.stop(reason.slice(0, 200));
        })
        .catch(() => undefined);
    }, this.options.stopPollMs ?? STOP_POLL_MS);
    try {
      const outcome = await end;
      if (this.dying) return new Promise<never>(() => undefined);
      return done(outcome, handle.runId);
    } finally {
      clearInterval(poll);
    }
  }
}
