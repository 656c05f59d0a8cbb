import {
  MAX_TRAIN_IMAGES,
  type BackendName,
  type ModelPreset,
  type TrainConfig,
} from '$contract/config';
import { BACKEND_LABELS } from './backend-badge';

/**
 * How long a run will take before it starts, from measured training rates; the running run's
 * own pace replaces them once it has one.
 */

/** Milliseconds of training per image on one thread and on two, at the preset's default batch. */
interface Rate {
  oneThread: number;
  twoThreads: number;
}

/**
 * Measured on this project's 2-core machine (its speed varies by ±20 % from one minute to the
 * next, so these are approximate by nature):
 *   wasm mlp         fused step, one thread: 2.32 s per 54,000-image epoch (docs/benchmark.md,
 *                    speed table). Threads asked for explicitly train with tfjs ops instead:
 *                    4.7 → 4.8 ms a step at batch 32 (engine/steps/choose.ts).
 *   wasm cnn         15.0 s per 54,000 images on two threads (speed table); 63.1 ms a step at
 *                    batch 128 on one (bench/kernels.ts the same hour).
 *   wasm cnn-fast    19.0 s per 54,000 images on two threads (speed table); 66.2 ms a step at
 *                    batch 128 on one (bench/kernels.ts the same hour).
 *   wasm cnn-strong  72.1 s per 54,000 images on two threads (bench, 3,840 images extrapolated);
 *                    231 ms a step at batch 128 on one (bench/kernels.ts the same hour).
 *   cpu  mlp, cnn    choose.ts at batch 32: 47 → 43 ms and 10,230 → 5,460 ms a step.
 * Native TensorFlow and WebGPU have no measurement here (docs/engine.md): no estimate.
 */
const MS_PER_IMAGE: Partial<Record<BackendName, Partial<Record<ModelPreset, Rate>>>> = {
  wasm: {
    mlp: { oneThread: 2320 / 54_000, twoThreads: 4.8 / 32 },
    cnn: { oneThread: 63.1 / 128, twoThreads: 15_000 / 54_000 },
    'cnn-fast': { oneThread: 66.2 / 128, twoThreads: 19_000 / 54_000 },
    'cnn-strong': { oneThread: 231 / 128, twoThreads: 72_100 / 54_000 },
  },
  cpu: {
    mlp: { oneThread: 47 / 32, twoThreads: 43 / 32 },
    cnn: { oneThread: 10_230 / 32, twoThreads: 5_460 / 32 },
  },
};

/** Validation is a forward pass only: about a third of a training step's work per image. */
const VALIDATION_SHARE = 1 / 3;

/**
 * Threads a run will train on, as engine/steps/choose.ts decides: one per core while each gets
 * 8 images of the batch (16 for the cpu's mlp), and the fused wasm mlp step on one when on auto.
 */
export function expectedThreads(
  config: Pick<TrainConfig, 'model' | 'batchSize' | 'threads'>,
  backend: BackendName,
  cores: number,
): number {
  if (backend !== 'wasm' && backend !== 'cpu') return 1;
  if (config.threads !== null && config.threads !== undefined) return config.threads;
  if (config.model === 'mlp' && backend === 'wasm') return 1;
  const share = config.model === 'mlp' ? 16 : 8;
  return Math.max(1, Math.min(cores, Math.floor(config.batchSize / share)));
}

/**
 * Milliseconds per image on `threads` threads. Beyond the two measured, the two-thread speed-up
 * is read as Amdahl's law (the part that did not speed up stays serial), which is optimistic
 * when cores share a memory bus and pessimistic when the serial part also splits.
 */
function msPerImage(rate: Rate, threads: number, fusedMlp: boolean): number {
  if (fusedMlp || threads <= 1) return rate.oneThread;
  if (threads === 2) return rate.twoThreads;
  const speedup = rate.oneThread / rate.twoThreads;
  const parallel = Math.min(1, Math.max(0, 2 * (1 - 1 / speedup)));
  return rate.oneThread * (1 - parallel + parallel / threads);
}

/** Seconds per epoch for a config on a backend, or null where nothing was measured. */
export function secondsPerEpoch(
  config: Pick<TrainConfig, 'model' | 'batchSize' | 'threads' | 'limit' | 'validationSize'>,
  backend: BackendName,
  cores: number,
): number | null {
  const rate = MS_PER_IMAGE[backend]?.[config.model];
  if (!rate) return null;
  const threads = expectedThreads(config, backend, cores);
  const auto = config.threads === null || config.threads === undefined;
  const ms = msPerImage(rate, threads, backend === 'wasm' && config.model === 'mlp' && auto);
  const left = MAX_TRAIN_IMAGES - config.validationSize;
  const train = config.limit === null ? left : Math.min(config.limit, left);
  return ((train + config.validationSize * VALIDATION_SHARE) * ms) / 1000;
}

/** "40 s", "2 min", "1 h 20 min": a rough figure, rounded as roughly as it is known. */
export function roughDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  if (seconds < 0.5) return 'under 1 s';
  if (seconds < 10) return `${Math.round(seconds)} s`;
  if (seconds < 90) return `${Math.round(seconds / 5) * 5} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes} min`;
  const tens = Math.round(minutes / 10) * 10;
  return `${Math.floor(tens / 60)} h${tens % 60 ? ` ${tens % 60} min` : ''}`;
}

const epochsWord = (n: number) => `${n} epoch${n === 1 ? '' : 's'}`;

/** "≈ 40 s", or "under 1 s", which needs no "≈". */
export const approximately = (seconds: number): string =>
  seconds < 0.5 ? roughDuration(seconds) : `≈ ${roughDuration(seconds)}`;

/** "≈ 40 s per epoch, ≈ 2 min for 3 epochs". */
export function describeEstimate(perEpoch: number, epochs: number): string {
  return `${approximately(perEpoch)} per epoch, ${approximately(perEpoch * epochs)} for ${epochsWord(epochs)}`;
}

/** What the Train form's estimate line is computed from. */
export interface RunEstimateInput {
  /** The run's config while one trains, else the form's (null while the form is invalid). */
  config: TrainConfig | null;
  active: boolean;
  /** The engine's backend, for a config that asks for `auto`; null until it reports one. */
  engineBackend: BackendName | null;
  /** First epoch of the run (a resumed run starts later). */
  startEpoch: number;
  /** Seconds each finished epoch of the run took. */
  epochSeconds: readonly number[];
  runFraction: number;
  elapsed: number;
  remaining: number | null;
  cores: number;
}

/** Before Start: the config at measured rates; during a run, the run's own pace. */
export function describeRunEstimate(input: RunEstimateInput): string {
  const { config, active, elapsed, remaining, runFraction } = input;
  if (!config) return '';
  const backend = config.backend === 'auto' ? input.engineBackend : config.backend;
  const epochs = active ? config.epochs - input.startEpoch + 1 : config.epochs;
  if (active) {
    const done = input.epochSeconds;
    const perEpoch = done.length
      ? done.reduce((a, b) => a + b, 0) / done.length
      : runFraction > 0 && elapsed >= 1
        ? elapsed / (runFraction * epochs)
        : null;
    if (perEpoch !== null)
      return `${approximately(perEpoch)} per epoch at this run's pace${remaining === null ? '' : `, ${approximately(remaining)} left`}`;
  }
  const planned = backend ? secondsPerEpoch(config, backend, input.cores) : null;
  if (planned !== null) return describeEstimate(planned, epochs);
  return backend
    ? `No measured rate for ${BACKEND_LABELS[backend]} yet: the estimate comes with the first batches.`
    : '';
}
