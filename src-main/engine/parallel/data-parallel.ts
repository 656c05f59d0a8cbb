import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../../contract/config';
import { DEFAULT_TUNING, type AccelTuning } from '../accel/tuning';
import { storeAdamCounters, storeAdamMoments, type AdamInternals } from '../fused/dense-step';
import type { ImageSet } from '../data';
import { combineSetMetrics, evaluateSet, type SetMetrics } from '../evaluate';
import { GradientPool, type EvaluateResult, type StepResult } from './pool';
import { batchViews, layout } from './protocol';
import { rangesWithGradients, reduceAndUpdate, slices, type AdamStep } from './shard-update';
import { peekFloat32, shareGradients, tensorFromShared, type ShareGradients } from './share';

/**
 * Data-parallel training steps over several TensorFlow.js instances (WASM runs on one thread
 * each). Every step the leader — the thread running the training loop, which owns the model and
 * the optimizer — splits the batch into shares, hands each follower its share (and the current
 * weights, through shared memory: see protocol.ts), computes its own share's gradients
 * meanwhile and writes them to shared memory too. Then every thread adds up the gradients of its
 * own slice of the weights and applies Adam's update to that slice (shard-update.ts), so the
 * reduction and the update are split over the threads like the batch. Adam's moments live in
 * shared memory from the first `step` to `store()`, which gives them back to the model's
 * optimizer (for checkpoints); `gradients` + `apply` is the unsharded path (tests, and any
 * optimizer state read in between).
 *
 * Every share differentiates (sum of its losses) / (whole batch size), so the gradients add up
 * to exactly the full batch's gradient of the mean loss (the sample-count-weighted mean of the
 * shares' mean-loss gradients), up to float rounding.
 *
 * BatchNorm: each replica normalises with its own share's batch statistics (standard data
 * parallelism, as with PyTorch's DataParallel without SyncBatchNorm), so with BatchNorm a step
 * differs slightly from a single-thread step on the whole batch. Only the leader's moving
 * statistics are updated and kept (they are what checkpoints save); they are estimated from the
 * leader's share of each batch. Dropout masks are drawn per replica, for its share's shape (a
 * Dropout layer built with a seed, as models.ts builds them, draws the same mask at every call:
 * that is tfjs's behaviour, with one thread or several).
 */

export interface DataParallelOptions {
  /** Threads in all, the leader included (≥ 2). */
  threads: number;
  /** The leader's backend; the followers start the same one. */
  backend: BackendName;
  /** The tuning the leader's kernels were registered with (default DEFAULT_TUNING); the followers register theirs alike. */
  tuning?: AccelTuning;
  threadEntry?: string | URL;
  /** Label smoothing of the training loss (crossEntropySum); absent = 0. */
  labelSmoothing?: number;
}

export interface BatchShape {
  n: number;
  rows: number;
  cols: number;
}

/** Cumulative timings of the leader's steps, in milliseconds. */
export interface DataParallelStats {
  steps: number;
  /** Reading the weights and posting the followers' shares. */
  sendMs: number;
  /** The leader's own share. */
  leaderMs: number;
  /** Waiting for the followers after the leader's share was done. */
  waitMs: number;
  /** Adding the gradients up and applying them with the optimizer (all threads' slices). */
  applyMs: number;
  /** The followers' own time per request (summed over followers). */
  followerMs: number;
  /** Tensors alive in each follower after its last step (a leak check). */
  followerTensors: number[];
}

export interface CombinedGradients {
  /** Keyed by variable name, in the variables' order (Adam keeps its moments by position). */
  grads: tf.NamedTensorMap;
  /** Sum of the batch's cross-entropy and its number of correct predictions. */
  lossSum: tf.Scalar;
  correct: tf.Scalar;
}

/** Splits n rows into `parts` shares as evenly as possible, larger first (the leader's is ≥ 1). */
export function splitBatch(n: number, parts: number): number[] {
  const base = Math.floor(n / parts);
  const extra = n % parts;
  return Array.from({ length: parts }, (_, i) => base + (i < extra ? 1 : 0));
}

const isTensor = (g: tf.Tensor | null | undefined): g is tf.Tensor => g !== null && g !== undefined;

/** The leader's side of one follower's shared buffers. */
interface FollowerBuffers {
  grads: Float32Array;
  batch: { buffer: SharedArrayBuffer; capacity: number; px: number } | null;
  /** Its share of a validation set (images, then int32 labels), kept for the next epoch. */
  validation: SharedArrayBuffer | null;
  /** Version of the weights this follower last loaded. */
  version: number;
}

export class DataParallel {
  readonly stats: DataParallelStats;
  /** Bumped after every update. */
  private version = 0;
  /** Version of the weights in the shared buffer. */
  private written = -1;
  private nextId = 1;
  private readonly slots: { sizes: number[]; offsets: number[]; total: number };
  /** Adam's moments are in `moments` (not the optimizer) from the first step to `store()`. */
  private loaded = false;
  private accBeta1 = 0;
  private accBeta2 = 0;
  private iterations = 0;
  private readonly allGrads: Float32Array[];
  private readonly m: Float32Array;
  private readonly v: Float32Array;

  private constructor(
    private readonly model: tf.LayersModel,
    private readonly variables: tf.Variable[],
    private readonly pool: GradientPool,
    private readonly weights: Float32Array,
    private readonly followers: FollowerBuffers[],
    private readonly leaderGrads: Float32Array,
    moments: SharedArrayBuffer,
    private readonly labelSmoothing: number,
  ) {
    this.slots = layout(variables.map((v) => v.shape));
    const { total } = this.slots;
    this.allGrads = [leaderGrads, ...followers.map((f) => f.grads)];
    this.m = new Float32Array(moments, 0, total);
    this.v = new Float32Array(moments, total * 4, total);
    this.stats = {
      steps: 0,
      sendMs: 0,
      leaderMs: 0,
      waitMs: 0,
      applyMs: 0,
      followerMs: 0,
      followerTensors: new Array<number>(pool.size).fill(0),
    };
  }

  /** Starts threads − 1 followers with replicas of `model`; resolves once all are ready. */
  static async start(
    model: tf.LayersModel,
    variables: tf.Variable[],
    options: DataParallelOptions,
  ): Promise<DataParallel> {
    if (!Number.isInteger(options.threads) || options.threads < 2) {
      throw new Error(`data-parallel training needs 2 or more threads, got ${options.threads}`);
    }
    const weightShapes = variables.map((v) => [...v.shape]);
    const { total } = layout(weightShapes);
    const weights = new SharedArrayBuffer(total * 4);
    // Index 0 is the leader's; 1… the followers'.
    const allGrads = Array.from(
      { length: options.threads },
      () => new SharedArrayBuffer(total * 4),
    );
    const grads = allGrads.slice(1);
    const moments = new SharedArrayBuffer(total * 2 * 4);
    const topology = model.toJSON(null, false);
    const pool = await GradientPool.start({
      count: options.threads - 1,
      threadEntry: options.threadEntry,
      init: (index) => ({
        backend: options.backend,
        tuning: options.tuning ?? DEFAULT_TUNING,
        topology,
        weightShapes,
        index,
        weights,
        grads: grads[index - 1]!,
        allGrads,
        moments,
        labelSmoothing: options.labelSmoothing ?? 0,
      }),
    });
    return new DataParallel(
      model,
      variables,
      pool,
      new Float32Array(weights),
      grads.map((g) => ({
        grads: new Float32Array(g),
        batch: null,
        validation: null,
        version: -1,
      })),
      new Float32Array(allGrads[0]!),
      moments,
      options.labelSmoothing ?? 0,
    );
  }

  get threads(): number {
    return this.pool.size + 1;
  }

  /** The follower threads, for tests that need to break one. */
  get workers() {
    return this.pool.workers;
  }

  /**
   * The full batch's gradients of the mean loss over xs[0, n), computed in parallel. The caller
   * owns (and disposes) every tensor returned.
   */
  async gradients(xs: Float32Array, ys: Int32Array, shape: BatchShape): Promise<CombinedGradients> {
    this.store();
    const { n } = shape;
    const { own, results } = await this.shares(xs, ys, shape);
    const t = performance.now();
    const combined = tf.tidy(() => {
      const grads: tf.NamedTensorMap = {};
      this.variables.forEach((v, i) => {
        let g = own.grads[i] ?? null;
        results.forEach((r, k) => {
          if (!r.hasGrad[i]) return;
          const theirs = tensorFromShared(this.slot(this.followers[k]!.grads, i), v.shape);
          g = g === null ? theirs : tf.add(g, theirs);
        });
        if (g !== null) grads[v.name] = g;
      });
      return { grads, ...this.totals(own, results, n) };
    });
    // With no follower share the leader's own gradients are returned as they are: keep them.
    const returned = new Set(Object.values(combined.grads));
    tf.dispose([
      ...own.grads.filter((g): g is tf.Tensor => isTensor(g) && !returned.has(g)),
      own.loss,
      own.correct,
    ]);
    this.lap('applyMs', t);
    return combined;
  }

  /** The batch's summed loss and correct count from the leader's share and the followers'. */
  private totals(own: ShareGradients, results: StepResult[], n: number) {
    let followerLoss = 0;
    let followerCorrect = 0;
    results.forEach((r, k) => {
      followerLoss += r.lossSum;
      followerCorrect += r.correct;
      this.stats.followerMs += r.ms;
      this.stats.followerTensors[k] = r.tensors;
    });
    return tf.tidy(() => ({
      lossSum: tf.add(tf.mul(own.loss, n), followerLoss) as tf.Scalar,
      correct: tf.add(own.correct, followerCorrect) as tf.Scalar,
    }));
  }

  /**
   * Every thread's share of the gradients: the leader's as tensors (the caller disposes them),
   * the followers' in their shared buffers.
   */
  private async shares(
    xs: Float32Array,
    ys: Int32Array,
    shape: BatchShape,
  ): Promise<{ own: ShareGradients; results: StepResult[] }> {
    const { n, rows, cols } = shape;
    const px = rows * cols;
    const sizes = splitBatch(n, this.threads);
    let t = performance.now();

    // The followers' shares first, so they work while the leader does its own.
    const requests: Promise<StepResult>[] = [];
    for (let k = 0, offset = sizes[0]!; k < this.followers.length; offset += sizes[k + 1]!, k++) {
      const m = sizes[k + 1]!;
      if (m === 0) break; // shares only get smaller
      const f = this.followers[k]!;
      const weightsChanged = f.version !== this.version;
      if (weightsChanged && this.written !== this.version) {
        this.variables.forEach((v, i) => this.slot(this.weights, i).set(peekFloat32(v)));
        this.written = this.version;
      }
      let grown: { buffer: SharedArrayBuffer; capacity: number } | undefined;
      if (f.batch === null || f.batch.capacity < m || f.batch.px !== px) {
        const capacity = Math.max(m, f.batch?.px === px ? f.batch.capacity : 0);
        grown = { buffer: new SharedArrayBuffer(capacity * (px + 1) * 4), capacity };
        f.batch = { ...grown, px };
      }
      const views = batchViews(f.batch.buffer, f.batch.capacity, px);
      views.xs.set(xs.subarray(offset * px, (offset + m) * px));
      views.ys.set(ys.subarray(offset, offset + m));
      f.version = this.version;
      const id = this.nextId++;
      requests.push(
        this.pool.request(k, {
          type: 'step',
          id,
          weightsChanged,
          ...(grown ? { batch: grown } : {}),
          n: m,
          rows,
          cols,
          divisor: n,
        }),
      );
    }
    // A failed request is reported by Promise.all below; until then it must not count as unhandled.
    for (const r of requests) r.catch(() => {});
    t = this.lap('sendMs', t);

    const own = shareGradients(
      this.model,
      this.variables,
      xs,
      ys,
      { ...shape, n: sizes[0]! },
      n,
      this.labelSmoothing,
    );
    t = this.lap('leaderMs', t);
    let results: StepResult[];
    try {
      results = await Promise.all(requests);
    } catch (error) {
      tf.dispose([...own.grads.filter(isTensor), own.loss, own.correct]);
      throw error;
    }
    this.lap('waitMs', t);
    return { own, results };
  }

  /**
   * Applies gradients with the model's optimizer and disposes them; the followers get the new
   * weights with their next share.
   */
  apply(grads: tf.NamedTensorMap): void {
    const t = performance.now();
    try {
      this.store();
      this.model.optimizer.applyGradients(grads);
    } finally {
      tf.dispose(Object.values(grads));
      this.version++;
    }
    this.lap('applyMs', t);
  }

  /**
   * One training step on xs[0, n): `gradients`, then `apply`. Returns the batch's summed loss
   * and correct count (the caller disposes them).
   */
  async step(xs: Float32Array, ys: Int32Array, shape: BatchShape): Promise<[tf.Scalar, tf.Scalar]> {
    this.load();
    const { own, results } = await this.shares(xs, ys, shape);
    const t = performance.now();
    let totals: { lossSum: tf.Scalar; correct: tf.Scalar };
    // A follower with no share this step (m = 0) left its buffer as it was: only the leader and
    // the followers that answered (a prefix: shares only get smaller) are added up.
    const hasGrad = own.grads.map(isTensor);
    try {
      own.grads.forEach((g, i) => g !== null && this.slot(this.leaderGrads, i).set(peekFloat32(g)));
      totals = this.totals(own, results, shape.n);
    } finally {
      tf.dispose([...own.grads.filter(isTensor), own.loss, own.correct]);
    }
    try {
      await this.update(results.length + 1, hasGrad);
    } catch (error) {
      tf.dispose([totals.lossSum, totals.correct]);
      throw error;
    }
    this.lap('applyMs', t);
    this.stats.steps++;
    return [totals.lossSum, totals.correct];
  }

  /**
   * Every thread adds up the first `contributors` threads' gradients over its slice of the
   * weights and applies Adam there; then the leader's variables take the new weights.
   */
  private async update(contributors: number, hasGrad: boolean[]): Promise<void> {
    const adam = this.model.optimizer as unknown as AdamInternals;
    const step: AdamStep = {
      learningRate: adam.learningRate,
      beta1: adam.beta1,
      beta2: adam.beta2,
      epsilon: adam.epsilon,
      accBeta1: this.accBeta1,
      accBeta2: this.accBeta2,
    };
    const parts = slices(this.slots.total, this.threads);
    const rangesOf = (k: number) => rangesWithGradients(parts[k]!, this.slots, hasGrad);
    const grads = this.allGrads.slice(0, contributors);
    const requests = this.followers.map((_, k) =>
      this.pool.request(k, {
        type: 'update',
        id: this.nextId++,
        ranges: rangesOf(k + 1),
        contributors,
        adam: step,
      }),
    );
    for (const r of requests) r.catch(() => {});
    reduceAndUpdate(grads, this.weights, this.m, this.v, rangesOf(0), step);
    await Promise.all(requests);
    // Float32 products, as tfjs' Adam keeps them and a checkpoint stores them: in float64 a
    // resumed run (which reads them back in float32) drifted from the uninterrupted one.
    this.accBeta1 = Math.fround(this.accBeta1 * Math.fround(step.beta1));
    this.accBeta2 = Math.fround(this.accBeta2 * Math.fround(step.beta2));
    this.iterations++;
    tf.tidy(() =>
      this.variables.forEach((v, i) =>
        v.assign(tensorFromShared(this.slot(this.weights, i), v.shape)),
      ),
    );
    this.version++;
    this.written = this.version; // every thread wrote its slice of the new weights
  }

  /**
   * Scores `set` on the model as it is now (its weights and the leader's BatchNorm statistics),
   * split over the threads like a batch: evaluateSet on the leader alone, up to the order the
   * loss is summed in.
   */
  async evaluate(set: ImageSet): Promise<SetMetrics> {
    const { rows, cols } = set;
    const px = rows * cols;
    if (this.written !== this.version) {
      this.variables.forEach((v, i) => this.slot(this.weights, i).set(peekFloat32(v)));
      this.written = this.version;
    }
    const nonTrainable = this.model.nonTrainableWeights.map((w) => peekFloat32(w.read()).slice());
    const sizes = splitBatch(set.count, this.threads);
    const requests: Promise<EvaluateResult>[] = [];
    for (let k = 0, offset = sizes[0]!; k < this.followers.length; offset += sizes[k + 1]!, k++) {
      const n = sizes[k + 1]!;
      if (n === 0) break;
      const f = this.followers[k]!;
      const bytes = n * (px + 1) * 4;
      if (f.validation === null || f.validation.byteLength < bytes) {
        f.validation = new SharedArrayBuffer(bytes);
      }
      const views = batchViews(f.validation, n, px);
      views.xs.set(set.images.subarray(offset * px, (offset + n) * px));
      views.ys.set(set.labels.subarray(offset, offset + n));
      requests.push(
        this.pool.request(k, {
          type: 'evaluate',
          id: this.nextId++,
          share: { buffer: f.validation, n },
          rows,
          cols,
          nonTrainable,
        }),
      );
      f.version = this.version;
    }
    for (const r of requests) r.catch(() => {});
    const n0 = sizes[0]!;
    const own = await evaluateSet(
      this.model,
      {
        ...set,
        images: set.images.subarray(0, n0 * px),
        labels: set.labels.subarray(0, n0),
        count: n0,
      },
      { yieldEvery: true },
    );
    const results = await Promise.all(requests);
    return combineSetMetrics([
      { lossSum: n0 > 0 ? own.loss * n0 : 0, confusion: own.confusion },
      ...results,
    ]);
  }

  /** Moves the weights and Adam's state from the model into shared memory, if not there yet. */
  private load(): void {
    if (this.loaded) return;
    if (this.model.optimizer.getClassName() !== 'Adam') {
      throw new Error(
        `data-parallel training shards Adam's update; the optimizer is ${this.model.optimizer.getClassName()}`,
      );
    }
    const adam = this.model.optimizer as unknown as AdamInternals;
    this.variables.forEach((v, i) => {
      this.slot(this.weights, i).set(peekFloat32(v));
      const m = adam.accumulatedFirstMoment[i]?.variable;
      const s = adam.accumulatedSecondMoment[i]?.variable;
      if (m) this.slot(this.m, i).set(peekFloat32(m));
      else this.slot(this.m, i).fill(0);
      if (s) this.slot(this.v, i).set(peekFloat32(s));
      else this.slot(this.v, i).fill(0);
    });
    this.written = this.version;
    this.accBeta1 = adam.accBeta1.dataSync()[0]!;
    this.accBeta2 = adam.accBeta2.dataSync()[0]!;
    this.iterations = adam.iterations_ ?? 0;
    this.loaded = true;
  }

  /**
   * Gives Adam's state back to the model's optimizer (the weights are the model's already), for
   * a checkpoint or anything else that reads it. The next `step` takes it again.
   */
  store(): void {
    if (!this.loaded) return;
    const adam = this.model.optimizer as unknown as AdamInternals;
    tf.tidy(() => {
      this.variables.forEach((variable, i) => {
        const [m, v] = [this.m, this.v].map((buffer) =>
          tensorFromShared(this.slot(buffer, i), variable.shape),
        );
        storeAdamMoments(adam, i, variable.name, m!, v!);
      });
    });
    storeAdamCounters(adam, this.accBeta1, this.accBeta2, this.iterations);
    this.loaded = false;
  }

  /** Terminates the followers. Safe to call more than once. */
  close(): Promise<void> {
    return this.pool.close();
  }

  private slot(view: Float32Array, i: number): Float32Array {
    const offset = this.slots.offsets[i]!;
    return view.subarray(offset, offset + this.slots.sizes[i]!);
  }

  private lap(key: 'sendMs' | 'leaderMs' | 'waitMs' | 'applyMs', since: number): number {
    const now = performance.now();
    this.stats[key] += now - since;
    return now;
  }
}
