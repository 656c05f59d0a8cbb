import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import {
  MAX_THREADS,
  type BackendName,
  type ModelPreset,
  type TrainConfig,
} from '../../contract/config';
import { DEFAULT_TUNING, type AccelTuning } from '../accel/tuning';
import type { BackendWasm } from '../accel/wasm-backend';
import { planDenseStack, type DenseStackPlan } from '../fused/dense-stack';
import { FusedDenseStep } from '../fused/dense-step';
import { DataParallel } from '../parallel/data-parallel';
import { DataParallelTraining } from './data-parallel';
import { FusedDenseTraining } from './fused-dense';
import { TfjsOpsStep } from './tfjs-ops';
import type { ImageShape, TrainingStep } from './training-step';

/**
 * Which engine trains a run, on how many threads: the one place that decides.
 *
 *   - A plain Dense stack on wasm: the fused step (fused/dense-step.ts), which on one thread
 *     beats two threads of tfjs ops at every batch size, so 'auto' threads means 1 for it.
 *   - Otherwise, more than one thread (resolveThreads below): data-parallel threads.
 *   - Otherwise tfjs ops, which run every model on every backend.
 *
 * Each faster engine falls back to the next when it cannot start here, because they all compute
 * the same step: threads chosen automatically fall back to one (threads asked for explicitly
 * must start), and a fused step that cannot get the backend's memory falls back to tfjs ops.
 */

export interface StepRequest {
  model: tf.LayersModel;
  /** The model's trainable weights (BatchNorm's moving statistics are updated by the layer). */
  variables: tf.Variable[];
  config: Pick<TrainConfig, 'threads' | 'model' | 'batchSize' | 'labelSmoothing'>;
  backend: BackendName;
  shape: ImageShape;
  /** false: tfjs ops even where the fused step could run (tests and the benchmark compare). */
  fusedStep?: boolean;
  /** The tuning the backend's kernels were registered with, for the gradient threads' own. */
  tuning?: AccelTuning;
  /** Entry module of the gradient threads (default: the TypeScript source next to pool.ts). */
  threadEntry?: string | URL;
  /** Called with the data-parallel driver once its threads run (tests break one through it). */
  onParallel?: (parallel: DataParallel) => void;
}

export async function chooseTrainingStep(request: StepRequest): Promise<TrainingStep> {
  const { model, variables, config, backend, shape } = request;
  const smoothing = config.labelSmoothing ?? 0;
  const plan = request.fusedStep === false ? 'disabled by the caller' : fusedPlan(model, backend);
  const auto = config.threads === null || config.threads === undefined;
  const threads = typeof plan !== 'string' && auto ? 1 : resolveThreads(config, backend);
  if (threads > 1) {
    try {
      const parallel = await DataParallel.start(model, variables, {
        threads,
        backend,
        tuning: request.tuning ?? DEFAULT_TUNING,
        threadEntry: request.threadEntry,
        labelSmoothing: smoothing,
      });
      request.onParallel?.(parallel);
      return new DataParallelTraining(parallel, shape);
    } catch (error) {
      // Threads chosen automatically are only an optimisation: without them the run still
      // trains, on this thread ('started' says so). Threads asked for explicitly must start.
      if (!auto) throw error;
      console.warn(`training on 1 thread, the gradient threads did not start: ${reason(error)}`);
    }
  }
  if (typeof plan !== 'string') {
    try {
      const fused = new FusedDenseStep(
        plan,
        model.optimizer,
        tf.backend() as BackendWasm,
        config.batchSize,
        smoothing,
      );
      return new FusedDenseTraining(fused);
    } catch (error) {
      console.warn(`training without the fused Dense step: ${reason(error)}`);
    }
  }
  return new TfjsOpsStep(model, variables, shape, smoothing);
}

/** The plan when a model can train with the fused step on this backend, else why not. */
export function fusedPlan(model: tf.LayersModel, backend: BackendName): DenseStackPlan | string {
  if (backend !== 'wasm' || tf.getBackend() !== 'wasm')
    return 'the fused step needs the wasm backend';
  return planDenseStack(model);
}

const reason = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * How many threads a run trains on: config.threads, or when that is null (auto) one per core,
 * as long as every thread gets at least MIN_IMAGES_PER_THREAD images of the batch.
 *
 * Native TensorFlow already uses every core inside each op: always 1 there. On wasm (and the
 * JavaScript cpu backend) one TensorFlow.js instance runs on one thread; another one computing
 * a share of each batch wins once the share's work outweighs what data parallelism adds per
 * step: handing the share over, two messages each way, and loading the new weights. Adding the
 * gradients and Adam's update are split over the threads (parallel/shard-update.ts); the measurements
 * below were taken when they ran on the leader alone (~1 ms for the MLP's 102k weights on wasm,
 * ~30 ms on cpu), so they include that serial cost.
 *
 * Measured on 2 cores (ms per step, 1 thread → 2 threads; runs alternated, others idle):
 *   wasm  mlp         b32    4.7 →   4.8  (0.92–1.01x)   cpu  mlp  b32    47 →   43  (1.06–1.11x)
 *         mlp         b64    8.3 →   7.1  (1.17–1.26x)        mlp  b128   98 →   72  (1.36x)
 *         mlp         b128  13.0 →   9.8  (1.29–1.35x)        cnn  b32 10230 → 5460 (1.65–1.98x)
 *         mlp         b256  26.4 →  17.4  (1.48–1.51x)
 *         cnn         b16   17.0 →  12.3  (1.38–1.49x)
 *         cnn         b32   34.3 →  23.1  (1.48x)
 *         cnn         b64   74   →  43    (1.63–1.84x)
 *         cnn         b128 136   →  88    (1.46–1.93x)
 *         cnn-strong  b128 1002  → 548    (1.79–2.10x)
 * The smallest batch where 2 threads won, halved, is the minimum share: wasm mlp 64 → 32 images
 * a thread (at 16 a thread, b32, it lost), the CNNs 16 → 8 (smaller batches were not measured),
 * cpu mlp 32 → 16, cpu CNNs 8 (their steps are 300x the wasm CNN's: any share pays). A thread's
 * overhead is per step, not per image, so a share that paid on 2 cores pays on more: at batch
 * 128 the cnn gets 8 threads on 8 cores, 16 on 16. Only 2 cores were measured (docs/benchmark.md,
 * "Threads and cores" models the rest). The wasm mlp rows were measured with tfjs ops; a Dense
 * stack on wasm now trains with the fused step (fused/dense-step.ts, ~0.7 ms a step at batch
 * 32), which the trainer runs on one thread when threads are auto.
 */
export function resolveThreads(
  config: Pick<TrainConfig, 'threads' | 'model' | 'batchSize'>,
  backend: BackendName,
  cores: number = os.availableParallelism(),
): number {
  // The gradient threads run tfjs on wasm/cpu; a GPU backend already spreads each op itself.
  if (backend === 'tensorflow' || backend === 'tensorflow-gpu' || backend === 'webgpu') return 1;
  if (config.threads !== null && config.threads !== undefined) return config.threads;
  const affordable = Math.floor(config.batchSize / MIN_IMAGES_PER_THREAD[backend][config.model]);
  return Math.max(1, Math.min(cores, affordable, MAX_THREADS));
}

/** Images of a batch each thread needs for the thread to pay off (see above). */
export const MIN_IMAGES_PER_THREAD: Record<'wasm' | 'cpu', Record<ModelPreset, number>> = {
  wasm: { mlp: 32, cnn: 8, 'cnn-fast': 8, 'cnn-strong': 8 },
  cpu: { mlp: 16, cnn: 8, 'cnn-fast': 8, 'cnn-strong': 8 },
};
