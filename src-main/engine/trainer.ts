import * as tf from '@tensorflow/tfjs';
import { rmdirSync } from 'node:fs';
import type { TrainConfig } from '../contract/config';
import type {
  BackendInfo,
  EpochMetrics,
  EventOfType,
  SweepTag,
  WorkerEvent,
} from '../contract/messages';
import { randomShift, shiftImage } from './augment';
import { removeStaleTempDirs, saveCheckpoint } from './checkpoints';
import { appendMetricsLog, createRun, readRun, recordRunEnd, runDir, updateRun } from './runs';
import type { AccelTuning } from './accel/tuning';
import { acquireRunLock, type RunLock } from './run-lock';
import { StorageError, writing, writingAsync } from './storage';
import { splitTrainValidation, type Dataset, type ImageSet } from './data';
import { evaluateSet } from './evaluate';
import { learningRateAt } from './schedule';
import { buildModel, compileModel } from './models';
import type { DataParallel } from './parallel/data-parallel';
import { mulberry32, shuffledIndices } from './random';
import { chooseTrainingStep } from './steps/choose';
import type { TrainingStep } from './steps/training-step';
import { writeEpochScalars } from './tensorboard';

/**
 * The training loop: epochs × batches with a stop check between batches, one checkpoint per
 * epoch. It reads values back from the backend only when someone will see them (a throttled
 * batch event, the epoch's end), so fast backends are not forced to sync every step.
 */

type Emit = (event: WorkerEvent) => void;

export interface StopSignal {
  stopRequested: boolean;
  /** Why, when it is not the user's Stop ("the app was quitting"); recorded in run.json. */
  reason?: string;
}

export interface TrainJob {
  root: string;
  dataset: Dataset;
  config: TrainConfig;
  backend: BackendInfo;
  runId: string;
  emit: Emit;
  signal: StopSignal;
  /** The sweep trial a new run is, written into its run.json (a resumed run keeps its own). */
  sweep?: SweepTag;
  /** Continue an existing run from this checkpoint (model carries Adam's state); the trainer disposes it. */
  resume?: { model: tf.LayersModel; epoch: number };
  /**
   * The run's lock, when the caller took it already (to refuse a locked run before answering);
   * otherwise the trainer takes it. Either way the trainer releases it when the run ends.
   */
  lock?: RunLock;
  /** Names this process in the run's lock, for other processes' messages. */
  owner?: string;
  /** Minimum milliseconds between batch events (≈10 a second by default). */
  batchEventInterval?: number;
  /**
   * Entry module of the gradient threads when training on more than one thread (default: the
   * TypeScript source next to parallel/pool.ts; a bundled build passes its compiled .js).
   */
  threadEntry?: string | URL;
  /** Called with the data-parallel driver once its threads run (tests break one through it). */
  onParallel?: (parallel: DataParallel) => void;
  /**
   * false: train a Dense stack with tfjs' own gradients even where the fused step could run
   * (tests and the benchmark compare the two).
   */
  fusedStep?: boolean;
  /**
   * The tuning the backend's kernels were registered with (selectBackend's loaders; default
   * DEFAULT_TUNING), for the gradient threads, which register their own.
   */
  tuning?: AccelTuning;
}

export type TrainOutcome = { status: 'finished' | 'stopped'; epochsDone: number };

const MAX_SHIFT = 2;

export class TrainingDivergedError extends Error {
  override name = 'TrainingDivergedError';
}

const divergedError = (epoch: number, loss: number) =>
  new TrainingDivergedError(
    `training diverged in epoch ${epoch} (loss is ${loss}); try a lower learning rate`,
  );

export async function runTraining(job: TrainJob): Promise<TrainOutcome> {
  let lock: RunLock;
  try {
    lock = job.lock ?? acquireRunLock(job.root, job.runId, job.owner ?? 'MNIST Studio');
  } catch (error) {
    job.resume?.model.optimizer?.dispose();
    job.resume?.model.dispose();
    throw error;
  }
  let outcome: TrainOutcome & { end: EventOfType<'finished' | 'stopped'> };
  try {
    outcome = await trainUnderLock(job, lock);
  } finally {
    lock.release();
    // A new run that failed before its run.json was written leaves only an empty folder.
    if (!job.resume) removeIfEmpty(runDir(job.root, job.runId));
  }
  // Said only once the lock is gone: whoever hears it may resume or delete the run at once (the
  // CLI exits on it, and a worker killed before its release would have left a stale lock).
  const { end, ...result } = outcome;
  job.emit(end);
  return result;
}

async function trainUnderLock(
  job: TrainJob,
  lock: RunLock,
): Promise<TrainOutcome & { end: EventOfType<'finished' | 'stopped'> }> {
  const { root, config, runId, emit, signal } = job;
  /** Records the stop (and why) and ends the run with `stopped`; `when`: "during epoch 3". */
  const stopRun = (when: string, epochsDone: number, batch: number) => {
    writing('recording that the run stopped', root, () =>
      updateRun(root, runId, {
        status: 'stopped',
        reason: `stopped ${signal.reason ? `(${signal.reason})` : 'by the user'} ${when}`,
        pid: null,
      }),
    );
    return {
      status: 'stopped' as const,
      epochsDone,
      end: { type: 'stopped' as const, runId, epoch: epochsDone, batch },
    };
  };
  const split = splitTrainValidation(job.dataset.train, config.validationSize, config.limit);
  const batchesPerEpoch = Math.ceil(split.train.count / config.batchSize);
  const startEpoch = job.resume ? job.resume.epoch + 1 : 1;

  writing('starting the run', root, () => {
    if (job.resume) {
      removeStaleTempDirs(root, runId);
      updateRun(root, runId, {
        status: 'running',
        reason: null,
        pid: process.pid,
        config,
        backend: job.backend.name,
      });
    } else {
      createRun(root, runId, config, job.backend.name, null, job.sweep);
    }
  });
  const model = job.resume?.model ?? buildModel(config);
  if (!job.resume) compileModel(model, config.learningRate);
  // Trainable weights only: BatchNorm's moving statistics are updated by the layer itself.
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  // The rate is set per batch (trainEpoch); tfjs keeps it protected, but every engine reads it.
  const optimizer = model.optimizer as unknown as { learningRate: number };

  let lastEpochDone = startEpoch - 1;
  let step: TrainingStep | null = null;
  try {
    // The engine (tfjs ops, the fused Dense step, data-parallel threads) and its thread count.
    step = await chooseTrainingStep({
      model,
      variables,
      config,
      backend: job.backend.name,
      shape: { rows: split.train.rows, cols: split.train.cols },
      fusedStep: job.fusedStep,
      tuning: job.tuning,
      threadEntry: job.threadEntry,
      onParallel: job.onParallel,
    });
    emit({
      type: 'started',
      runId,
      config,
      backend: job.backend,
      startEpoch,
      trainSize: split.train.count,
      validationSize: split.validation.count,
      batchesPerEpoch,
      threads: step.threads,
      notices: lock.takeover ? [lock.takeover] : [],
      at: Date.now(),
    });

    for (let epoch = startEpoch; epoch <= config.epochs; epoch++) {
      const started = performance.now();
      const result = await trainEpoch(job, step, optimizer, split.train, epoch, batchesPerEpoch);
      if (result.stoppedAtBatch !== null)
        return stopRun(`during epoch ${epoch}`, lastEpochDone, result.stoppedAtBatch);
      if (!Number.isFinite(result.loss)) {
        throw divergedError(epoch, result.loss);
      }
      const val =
        split.validation.count > 0
          ? await evaluateSet(model, split.validation, { yieldEvery: true })
          : null;
      const metrics: EpochMetrics = {
        epoch,
        loss: result.loss,
        accuracy: result.accuracy,
        valLoss: val ? val.loss : null,
        valAccuracy: val ? val.accuracy : null,
        seconds: (performance.now() - started) / 1000,
        backend: job.backend.name,
      };
      const dir = await writingAsync(`saving the checkpoint of epoch ${epoch}`, root, () =>
        saveCheckpoint(root, runId, epoch, model, metrics),
      );
      writing(`appending epoch ${epoch} to metrics.jsonl`, root, () =>
        appendMetricsLog(root, runId, metrics),
      );
      writing(`writing epoch ${epoch}'s TensorBoard events`, root, () =>
        writeEpochScalars(runDir(root, runId), epoch, {
          loss: metrics.loss,
          accuracy: metrics.accuracy,
          valLoss: metrics.valLoss ?? undefined,
          valAccuracy: metrics.valAccuracy ?? undefined,
        }),
      );
      writing(`updating run.json after epoch ${epoch}`, root, () => updateRun(root, runId, {}));
      lastEpochDone = epoch;
      emit({ type: 'epoch', runId, ...metrics });
      emit({ type: 'checkpoint', runId, epoch, path: dir });
      if (signal.stopRequested) return stopRun(`after epoch ${epoch}`, epoch, batchesPerEpoch);
    }
    writing('recording that the run finished', root, () =>
      updateRun(root, runId, { status: 'finished', reason: null, pid: null }),
    );
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    try {
      // Space first: on a full disk, run.json needs the room the failed checkpoint took.
      removeStaleTempDirs(root, runId);
    } catch {
      // A read-only folder keeps them; listings ignore them and a resume removes them.
    }
    try {
      if (readRun(root, runId).status === 'running')
        recordRunEnd(root, runId, {
          status: error instanceof StorageError ? 'failed' : 'crashed',
          reason,
        });
    } catch {
      // The run folder itself is unusable (read-only, deleted): the error below still reports it.
    }
    throw error;
  } finally {
    await step?.dispose();
    // The trainer owns the model, resumed or new; Adam's moments are not freed by model.dispose().
    model.optimizer?.dispose();
    model.dispose();
  }
  return {
    status: 'finished',
    epochsDone: config.epochs,
    end: { type: 'finished', runId, epochs: config.epochs },
  };
}

interface WindowSums {
  seen: number;
  lossSum: number;
  correct: number;
}

/**
 * Mean loss and accuracy over the images between two readings of an epoch's running sums.
 * Sums kept in float32 on the backend can lose a little to the subtraction: the means are
 * clamped to where they can be.
 */
export function windowMeans(
  before: WindowSums,
  after: WindowSums,
): { loss: number; accuracy: number } {
  const n = after.seen - before.seen;
  if (n <= 0) return { loss: after.lossSum / after.seen, accuracy: after.correct / after.seen };
  const loss = Math.max(0, (after.lossSum - before.lossSum) / n);
  const accuracy = Math.min(1, Math.max(0, (after.correct - before.correct) / n));
  return { loss, accuracy };
}

function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    /* not empty (the run's files are there), or already gone */
  }
}

interface EpochResult {
  loss: number;
  accuracy: number;
  stoppedAtBatch: number | null;
}

async function trainEpoch(
  job: TrainJob,
  step: TrainingStep,
  optimizer: { learningRate: number },
  set: ImageSet,
  epoch: number,
  batches: number,
): Promise<EpochResult> {
  const { config, emit, runId, signal } = job;
  const px = set.rows * set.cols;
  // Seeded per epoch, so a resumed run sees the same order it would have seen uninterrupted.
  const random = mulberry32(config.seed * 1009 + epoch);
  const order = shuffledIndices(set.count, random);
  const xsBuf = new Float32Array(config.batchSize * px);
  const ysBuf = new Int32Array(config.batchSize);
  const interval = job.batchEventInterval ?? 100;

  // The model is the source of truth between epochs (validation, checkpoint, resume): an engine
  // with its own copy of the weights and Adam's state takes them here and gives them back at the
  // end. Its dropout has its own stream, so it does not shift the shuffle or augmentation draws.
  step.begin((config.seed * 1009 + epoch) ^ 0x5bd1e995);

  // The step keeps the running sums (on the backend where it can); they are read only when a
  // batch event is due. The sums at the previous event turn them into the mean over the images
  // since then, which moves with the model, where the running mean flattens every epoch.
  let seen = 0;
  let reported: WindowSums = { seen: 0, lossSum: 0, correct: 0 };
  let lastEvent = performance.now();
  const readSums = async (): Promise<[number, number]> => {
    const { lossSum, correct } = await step.totals();
    return [lossSum / seen, correct / seen];
  };

  try {
    for (let b = 0; b < batches; b++) {
      if (signal.stopRequested) return { loss: NaN, accuracy: NaN, stoppedAtBatch: b };
      const start = b * config.batchSize;
      const n = Math.min(config.batchSize, set.count - start);
      for (let i = 0; i < n; i++) {
        const idx = order[start + i]!;
        const src = set.images.subarray(idx * px, (idx + 1) * px);
        const dst = xsBuf.subarray(i * px, (i + 1) * px);
        if (config.augment)
          shiftImage(
            src,
            dst,
            set.rows,
            randomShift(MAX_SHIFT, random),
            randomShift(MAX_SHIFT, random),
          );
        else dst.set(src);
        ysBuf[i] = set.labels[idx]!;
      }
      // Every engine reads the rate from the optimizer at each step, set per batch from the
      // config so a resumed run follows the same schedule.
      optimizer.learningRate = learningRateAt(config, epoch, b, batches);
      await step.step(xsBuf, ysBuf, n);
      seen += n;

      const now = performance.now();
      if (now - lastEvent >= interval || b === batches - 1) {
        lastEvent = now;
        const totals = { seen, ...(await step.totals()) };
        const loss = totals.lossSum / seen;
        const accuracy = totals.correct / seen;
        // Fail fast: every later batch would only spread the NaN through the weights.
        if (!Number.isFinite(loss)) throw divergedError(epoch, loss);
        const recent = windowMeans(reported, totals);
        reported = totals;
        emit({
          type: 'batch',
          runId,
          epoch,
          batch: b + 1,
          batches,
          loss,
          accuracy,
          recentLoss: recent.loss,
          recentAccuracy: recent.accuracy,
        });
      }
      // One macrotask turn per batch: this is where a stop request gets through.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const [loss, accuracy] = await readSums();
    return { loss, accuracy, stoppedAtBatch: null };
  } finally {
    // Weights and Adam's state back to the model, where checkpoints read them.
    step.end();
  }
}
