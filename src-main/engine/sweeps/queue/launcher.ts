import { Queue, QueueEvents, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { TrainConfig } from '../../../contract/config';
import type { SweepTag } from '../../../contract/messages';
import { newRunId } from '../../runs';
import { readSweepJournal } from '../journal';
import type { TrialHandle, TrialLauncher, TrialListener } from '../runner';
import { bullConnection, checkRedis, type QueueTarget } from './connection';
import {
  CAPACITY_PATTERN,
  JOB_NAME,
  QUEUE_NAME,
  QUEUE_PREFIX,
  QueueError,
  stopKey,
  TrialJobDataSchema,
  TrialProgressSchema,
  TrialResultSchema,
  trialJobId,
  type EpochReport,
  type TrialJobData,
  type TrialProgress,
} from './protocol';
import { landRun } from './run-files';

/**
 * Runs a sweep's trials on whichever machines run `npm run cli -- worker --queue …`: each trial
 * is a BullMQ job, its epochs come back as the job's progress (QueueEvents), a stop is a key in
 * Redis the worker polls, and the finished job's return value carries the run's files, which land
 * in the sweep's checkpoints folder before the runner hears that the trial ended.
 *
 * What a trial's job is for the runner:
 * - start: a new job `<sweep>-t<trial>-a<attempt>`; the attempt follows the journal's count, so
 *   re-adding a job a killed session had already added finds that job (BullMQ keeps one per id).
 * - resume: the trial's last job, if it is still queued, training, or finished with its result
 *   not yet landed (the sweep's process died meanwhile): the sweep attaches to it again. A job
 *   that was stopped or failed cannot be continued elsewhere (its checkpoints are on a worker),
 *   so resume refuses and the runner reruns the trial as a new job.
 * - kill: the sweep lets go of its jobs; they train on, and a `sweep resume` attaches to them.
 */

export interface QueueLauncherOptions {
  target: QueueTarget;
  /** The sweep's checkpoints folder: the journal is read here and results land here. */
  root: string;
  /** How often every job in flight is read back, in case an event was missed (a reconnect). */
  reconcileMs?: number;
  /** Lines worth telling the user (a retried job, files left on a worker). */
  log?: (line: string) => void;
}

/**
 * Completed jobs are kept a day (the dedup of a resumed sweep needs them, and so does a sweep
 * that lands a result after a restart); their payload is ~1.3 MB per mlp trial of Redis memory.
 * Failed ones a week, for `redis-cli` post-mortems.
 */
const KEEP_COMPLETED_S = 24 * 3600;
const KEEP_FAILED_S = 7 * 24 * 3600;
/** A stop outlives any trial that might still read it, then Redis forgets it. */
const STOP_KEY_TTL_S = 7 * 24 * 3600;
const RECONCILE_MS = 5_000;
/** States a job can still be taken from or trained in. */
const LIVE = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);
const NOT_STARTED = new Set(['waiting', 'delayed', 'prioritized']);

interface Attached {
  jobId: string;
  runId: string;
  tag: SweepTag;
  listener: TrialListener;
  /** The highest worker attempt heard from, and how many of its epochs were passed on. */
  attempt: number;
  forwarded: number;
  settled: boolean;
  /** Reads of this job run one after another: two at once could land its result twice. */
  chain: Promise<void>;
}

/** Connects (failing fast with a clear message when Redis is not there) and opens the queue. */
export async function openQueueLauncher(options: QueueLauncherOptions): Promise<QueueLauncher> {
  await checkRedis(options.target);
  const launcher = new QueueLauncher(options);
  await launcher.ready();
  return launcher;
}

export class QueueLauncher implements TrialLauncher {
  private readonly queue: Queue;
  private readonly events: QueueEvents;
  private readonly redis: Redis;
  private readonly attached = new Map<string, Attached>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private workersCapacity = 0;

  constructor(private readonly options: QueueLauncherOptions) {
    const connection = bullConnection(options.target);
    // A command to a Redis gone mid-sweep fails after a few reconnects instead of waiting for
    // ever: the trial it was for is recorded failed, and the sweep goes on or ends.
    const commands = { ...connection, maxRetriesPerRequest: 3 };
    this.queue = new Queue(QUEUE_NAME, { connection: commands, prefix: QUEUE_PREFIX });
    this.events = new QueueEvents(QUEUE_NAME, { connection, prefix: QUEUE_PREFIX });
    this.redis = new Redis(commands);
    // While Redis is away every connection reports each reconnect: one line per cause is enough.
    let lastError = '';
    const onError = (error: Error) => {
      if (error.message === lastError) return;
      lastError = error.message;
      this.log(`queue connection: ${error.message}`);
    };
    this.queue.on('error', onError);
    this.events.on('error', onError);
    this.redis.on('error', onError);
    this.events.on('progress', ({ jobId, data }) => {
      const att = this.attached.get(jobId);
      if (att) this.onProgress(att, data);
    });
    this.events.on('completed', ({ jobId }) => this.refresh(jobId));
    this.events.on('failed', ({ jobId }) => this.refresh(jobId));
    this.events.on('stalled', ({ jobId }) => {
      const att = this.attached.get(jobId);
      if (att)
        this.log(
          `trial ${att.tag.trial}: its worker stopped answering; BullMQ gives the job to another worker`,
        );
    });
    this.timer = setInterval(() => {
      for (const jobId of this.attached.keys()) this.refresh(jobId);
      void this.readCapacity();
    }, options.reconcileMs ?? RECONCILE_MS);
    this.timer.unref();
  }

  async ready(): Promise<void> {
    await Promise.all([this.queue.waitUntilReady(), this.events.waitUntilReady()]);
    await this.readCapacity();
  }

  /**
   * The live workers' total concurrency, as they announce it (protocol.ts capacityKey), read
   * every reconcile tick: what `--parallel auto` keeps in flight. 0 while no worker is up.
   */
  capacity(): number {
    return this.workersCapacity;
  }

  private async readCapacity(): Promise<void> {
    try {
      let total = 0;
      let cursor = '0';
      do {
        const [next, keys] = await this.redis.scan(cursor, 'MATCH', CAPACITY_PATTERN, 'COUNT', 100);
        cursor = next;
        if (keys.length === 0) continue;
        for (const value of await this.redis.mget(...keys)) {
          const n = Number(value);
          if (Number.isSafeInteger(n) && n > 0) total += n;
        }
      } while (cursor !== '0');
      this.workersCapacity = total;
    } catch {
      // Redis away: the last count stands until the next tick.
    }
  }

  async start(config: TrainConfig, tag: SweepTag, listener: TrialListener): Promise<TrialHandle> {
    const attempt = this.attemptsSoFar(tag) + 1;
    const jobId = trialJobId(tag.id, tag.trial, attempt);
    const data: TrialJobData = {
      version: 1,
      tag,
      attempt,
      runId: newRunId(config.model),
      config,
    };
    await this.queue.add(JOB_NAME, data, {
      jobId,
      // A stalled job goes back to the queue without spending an attempt (the worker's
      // maxStalledCount bounds those); attempts are for a worker whose processor threw.
      attempts: 2,
      backoff: { type: 'fixed', delay: 1_000 },
      removeOnComplete: { age: KEEP_COMPLETED_S },
      removeOnFail: { age: KEEP_FAILED_S },
    });
    // The job kept under this id: ours, or one a killed session added with its own run id.
    const job = await this.job(jobId);
    if (!job) throw new QueueError(`job ${jobId} vanished from the queue as it was added`);
    return this.attach(job, tag, listener);
  }

  async resume(runId: string, tag: SweepTag, listener: TrialListener): Promise<TrialHandle> {
    for (let attempt = this.attemptsSoFar(tag); attempt >= 1; attempt--) {
      const job = await this.job(trialJobId(tag.id, tag.trial, attempt));
      if (!job || job.data.runId !== runId) continue;
      const state = await job.getState();
      const result = TrialResultSchema.safeParse(job.returnvalue);
      const landable =
        state === 'completed' && result.success && result.data.outcome.type === 'finished';
      if (LIVE.has(state) || landable) return this.attach(job, tag, listener);
      break;
    }
    throw new QueueError(
      `trial ${tag.trial} has no job left to continue in the queue; it is trained again`,
    );
  }

  kill(): Promise<void> {
    for (const att of [...this.attached.values()]) {
      this.settle(att);
      att.listener({
        type: 'error',
        message: 'the sweep was killed; its job trains on in the queue for a `sweep resume`',
      });
    }
    return Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await Promise.all([...this.attached.values()].map((a) => a.chain));
    this.attached.clear();
    await Promise.allSettled([this.events.close(), this.queue.close(), this.redis.quit()]);
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  private attemptsSoFar(tag: SweepTag): number {
    return readSweepJournal(this.options.root, tag.id).trials[tag.trial - 1]?.attempts ?? 0;
  }

  private async job(jobId: string): Promise<Job<TrialJobData> | null> {
    const job = (await this.queue.getJob(jobId)) as Job<unknown> | undefined;
    if (!job) return null;
    const data = TrialJobDataSchema.safeParse(job.data);
    if (!data.success)
      throw new QueueError(`job ${jobId} in the queue is not one of our trials' jobs`);
    return Object.assign(job, { data: data.data });
  }

  private attach(job: Job<TrialJobData>, tag: SweepTag, listener: TrialListener): TrialHandle {
    const jobId = job.id!;
    const att: Attached = {
      jobId,
      runId: job.data.runId,
      tag,
      listener,
      attempt: 0,
      forwarded: 0,
      settled: false,
      chain: Promise.resolve(),
    };
    this.attached.set(jobId, att);
    // What happened before we listened (a resumed job's epochs, a quick completion).
    this.refresh(jobId);
    return {
      runId: att.runId,
      fromEpoch: 0,
      stop: (reason) => void this.stop(att, reason),
    };
  }

  /**
   * The worker polls the key between batches and stops the run as a Stop button would (its
   * checkpoints stay, the result comes back). BullMQ 5's Worker.cancelJob aborts only inside the
   * process holding the job, which the sweep is not, so Redis carries the request. A job no
   * worker took yet is removed instead, so a stop never waits for a worker to come.
   */
  private async stop(att: Attached, reason: string): Promise<void> {
    try {
      await this.redis.set(stopKey(att.jobId), reason, 'EX', STOP_KEY_TTL_S);
      if (NOT_STARTED.has(await this.queue.getJobState(att.jobId))) {
        if ((await this.queue.remove(att.jobId)) === 1 && !att.settled) {
          this.settle(att);
          att.listener({ type: 'stopped', epoch: 0 });
        }
      }
    } catch (error) {
      this.log(`trial ${att.tag.trial}: could not ask its worker to stop: ${String(error)}`);
    }
  }

  private refresh(jobId: string): void {
    const att = this.attached.get(jobId);
    if (!att || att.settled) return;
    // A failed read (Redis restarting) is tried again by the next event or the timer.
    att.chain = att.chain
      .then(() => this.reconcile(att))
      .catch((error: unknown) =>
        this.log(`trial ${att.tag.trial}: reading its job: ${String(error)}`),
      );
  }

  private async reconcile(att: Attached): Promise<void> {
    if (att.settled || this.closed) return;
    const job = await this.job(att.jobId);
    if (!job) {
      this.settle(att);
      att.listener({ type: 'error', message: `its job ${att.jobId} is gone from the queue` });
      return;
    }
    if (job.progress !== 0) this.onProgress(att, job.progress);
    const state = await job.getState();
    if (state === 'completed') await this.completed(att, job.returnvalue);
    else if (state === 'failed') {
      this.settle(att);
      att.listener({
        type: 'error',
        message: `its job failed on the queue: ${job.failedReason || 'no reason given'}`,
      });
    }
  }

  private onProgress(att: Attached, raw: unknown): void {
    const parsed = TrialProgressSchema.safeParse(raw);
    if (!parsed.success) {
      this.log(`trial ${att.tag.trial}: ignored a malformed progress report`);
      return;
    }
    this.forward(att, parsed.data);
  }

  /** Epochs of the newest attempt only: a worker that lost the job may still be reporting. */
  private forward(att: Attached, report: Pick<TrialProgress, 'attempt' | 'worker' | 'epochs'>) {
    if (att.settled || report.attempt < att.attempt) return;
    if (report.attempt > att.attempt) {
      // Attempt 1's report may never have come (its worker died first): say it from 2 on.
      if (report.attempt > 1)
        this.log(
          `trial ${att.tag.trial}: retried on ${report.worker} (attempt ${report.attempt}); its epochs start over`,
        );
      att.attempt = report.attempt;
      att.forwarded = 0;
    }
    const fresh: EpochReport[] = report.epochs.slice(att.forwarded);
    att.forwarded = report.epochs.length;
    for (const e of fresh) att.listener({ type: 'epoch', ...e });
  }

  private async completed(att: Attached, raw: unknown): Promise<void> {
    const parsed = TrialResultSchema.safeParse(raw);
    if (!parsed.success) {
      this.settle(att);
      att.listener({ type: 'error', message: 'its worker returned a malformed result' });
      return;
    }
    const result = parsed.data;
    this.forward(att, result);
    if (result.note) this.log(`trial ${att.tag.trial}: ${result.note}`);
    this.settle(att);
    try {
      if (result.files.length > 0) landRun(this.options.root, att.runId, result.files);
    } catch (error) {
      att.listener({
        type: 'error',
        message: `its result from ${result.worker} could not be saved: ${(error as Error).message}`,
      });
      return;
    }
    void this.redis.del(stopKey(att.jobId)).catch(() => undefined);
    const outcome = result.outcome;
    att.listener(
      outcome.type === 'finished'
        ? { type: 'finished', epochs: outcome.epochs }
        : outcome.type === 'stopped'
          ? { type: 'stopped', epoch: outcome.epoch }
          : { type: 'error', message: `on ${result.worker}: ${outcome.message}` },
    );
  }

  private settle(att: Attached): void {
    att.settled = true;
    this.attached.delete(att.jobId);
  }
}
