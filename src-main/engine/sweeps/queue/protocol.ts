import { z } from 'zod';
import { TrainConfigSchema } from '../../../contract/config';
import { RunIdSchema, SweepTagSchema } from '../../../contract/messages';

/**
 * What travels through BullMQ between a sweep (queue/launcher.ts) and the workers that train its
 * trials (queue/worker.ts), possibly on other machines and other versions of the app: every
 * payload is parsed with these schemas on the side that receives it, never trusted as typed.
 */

/** One queue for every sweep: a worker serves whichever sweep has trials waiting. */
export const QUEUE_NAME = 'trials';
/** BullMQ's key prefix, so our keys are told apart from other users of the same Redis. */
export const QUEUE_PREFIX = 'mnist-studio';
/** The job name BullMQ shows (bull-board, redis-cli); every job is a trial. */
export const JOB_NAME = 'trial';

/**
 * BullMQ refuses custom job ids that are integers or hold ':' (its key separator). Sweep ids are
 * letters, digits, '-' and '_', so this id is always accepted, and the same trial attempt gets
 * the same id in every session: adding it again (a resumed sweep re-enqueueing a trial whose
 * enqueue it never journaled) returns the job already there instead of training it twice.
 */
export function trialJobId(sweepId: string, trial: number, attempt: number): string {
  return `${sweepId}-t${trial}-a${attempt}`;
}

/** Where a sweep asks the worker running a job to stop it (see QueueWorker's poll). */
export const stopKey = (jobId: string): string => `${QUEUE_PREFIX}:stop:${jobId}`;

/**
 * A live worker's concurrency, which a sweep with `--parallel auto` sums to size how many jobs
 * it keeps in the queue. The worker renews it while it runs and deletes it when it closes; a
 * worker that dies leaves it to expire. (BullMQ lists a queue's workers, but not how many jobs
 * each takes at once.)
 */
export const capacityKey = (worker: string): string => `${QUEUE_PREFIX}:capacity:${worker}`;
export const CAPACITY_PATTERN = `${QUEUE_PREFIX}:capacity:*`;
export const CAPACITY_TTL_S = 30;
export const CAPACITY_RENEW_MS = 10_000;

export const TrialJobDataSchema = z.object({
  /** Bumped when a payload changes meaning, so an old worker refuses a job it would misread. */
  version: z.literal(1),
  tag: SweepTagSchema,
  /** The sweep's attempt number for this trial, part of the job id. */
  attempt: z.number().int().min(1),
  /** The run id the result lands under in the sweep's checkpoints folder. */
  runId: RunIdSchema,
  config: TrainConfigSchema,
});
export type TrialJobData = z.infer<typeof TrialJobDataSchema>;

const EpochReportSchema = z.object({
  epoch: z.number().int().min(1),
  valAccuracy: z.number().min(0).max(1).nullable(),
  seconds: z.number().min(0),
});
export type EpochReport = z.infer<typeof EpochReportSchema>;

/**
 * A job's progress: every epoch of the current attempt so far, not just the latest, so a sweep
 * that attaches late (resumed) or missed an event (a reconnect) still hears each epoch. A few
 * dozen numbers at most. `attempt` is BullMQ's attemptsStarted on the worker: a higher one means
 * the job was retried (its epochs start over), a lower one is a worker that lost the job.
 */
export const TrialProgressSchema = z.object({
  attempt: z.number().int().min(1),
  worker: z.string().min(1).max(200),
  epochs: z.array(EpochReportSchema).max(10_000),
});
export type TrialProgress = z.infer<typeof TrialProgressSchema>;

/** Run-relative paths of at most 3 plain segments: no '..', no absolute path, no dot-files. */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,199}$/;
export const RunFilePathSchema = z
  .string()
  .max(600)
  .refine(
    (p) => {
      const parts = p.split('/');
      return parts.length <= 3 && parts.every((s) => SEGMENT.test(s));
    },
    { error: 'file paths must be relative to the run folder, plain names, at most 3 deep' },
  );

/**
 * The result's files travel base64-encoded in BullMQ's return value (a JSON string in the job's
 * Redis hash). An mlp trial sends about 1.3 MB (its checkpoint holds the Adam moments too), a cnn
 * far less; past this cap a worker sends the run's records without the checkpoint, and says so.
 */
export const MAX_RESULT_BYTES = 32 * 1024 * 1024;

export const ResultFileSchema = z.object({
  path: RunFilePathSchema,
  base64: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, { error: 'not base64' }),
});
export type ResultFile = z.infer<typeof ResultFileSchema>;

export const TrialResultSchema = z.object({
  version: z.literal(1),
  attempt: z.number().int().min(1),
  worker: z.string().min(1).max(200),
  /** The run's id on the worker's own disk (it lands under the job's runId). */
  workerRunId: RunIdSchema.nullable(),
  outcome: z.discriminatedUnion('type', [
    z.object({ type: z.literal('finished'), epochs: z.number().int().min(0) }),
    z.object({ type: z.literal('stopped'), epoch: z.number().int().min(0) }),
    z.object({ type: z.literal('error'), message: z.string().max(2000) }),
  ]),
  epochs: z.array(EpochReportSchema).max(10_000),
  /** The best epoch's checkpoint that was sent, if any. */
  checkpointEpoch: z.number().int().min(1).nullable(),
  /** Why files were left out (the size cap), for the sweep's log. */
  note: z.string().max(500).nullable(),
  files: z.array(ResultFileSchema).max(64),
});
export type TrialResult = z.infer<typeof TrialResultSchema>;

/** A problem with the queue itself (unreachable Redis, a bad URL), not with a trial. */
export class QueueError extends Error {
  override name = 'QueueError';
}
