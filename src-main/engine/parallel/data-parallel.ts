import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../../contract/config';
import { GradientPool, type StepResult } from './pool';
import { batchViews, layout } from './protocol';
import { peekFloat32, shareGradients, tensorFromShared } from './share';

/**
 * Data-parallel training steps over several TensorFlow.js instances (WASM runs on one thread
 * each). Every step the leader — the thread running the training loop, which owns the model and
 * the optimizer — splits the batch into shares, hands each follower its share (and the current
 * weights, through shared memory: see protocol.ts), computes its own share's gradients
 * meanwhile, adds the followers' gradients to its own and applies the sum with the model's
 * optimizer.
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
  threadEntry?: string | URL;
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
  /** Adding the gradients up and applying them with the optimizer. */
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
  private readonly slots: { sizes: number[]; offsets: number[] };

  private constructor(
    private readonly model: tf.LayersModel,
    private readonly variables: tf.Variable[],
    private readonly pool: GradientPool,
    private readonly weights: Float32Array,
    private readonly followers: FollowerBuffers[],
  ) {
    this.slots = layout(variables.map((v) => v.shape));
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
    const grads = Array.from(
      { length: options.threads - 1 },
      () => new SharedArrayBuffer(total * 4),
    );
    const topology = model.toJSON(null, false);
    const pool = await GradientPool.start({
      count: options.threads - 1,
      threadEntry: options.threadEntry,
      init: (index) => ({
        backend: options.backend,
        topology,
        weightShapes,
        index,
        weights,
        grads: grads[index - 1]!,
      }),
    });
    return new DataParallel(
      model,
      variables,
      pool,
      new Float32Array(weights),
      grads.map((g) => ({ grads: new Float32Array(g), batch: null, version: -1 })),
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

    const own = shareGradients(this.model, this.variables, xs, ys, { ...shape, n: sizes[0]! }, n);
    t = this.lap('leaderMs', t);
    let results: StepResult[];
    try {
      results = await Promise.all(requests);
    } catch (error) {
      tf.dispose([...own.grads.filter(isTensor), own.loss, own.correct]);
      throw error;
    }
    t = this.lap('waitMs', t);

    let followerLoss = 0;
    let followerCorrect = 0;
    results.forEach((r, k) => {
      followerLoss += r.lossSum;
      followerCorrect += r.correct;
      this.stats.followerMs += r.ms;
      this.stats.followerTensors[k] = r.tensors;
    });
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
      const lossSum = tf.add(tf.mul(own.loss, n), followerLoss) as tf.Scalar;
      const correct = tf.add(own.correct, followerCorrect) as tf.Scalar;
      return { grads, lossSum, correct };
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

  /**
   * Applies gradients with the model's optimizer and disposes them; the followers get the new
   * weights with their next share.
   */
  apply(grads: tf.NamedTensorMap): void {
    const t = performance.now();
    try {
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
    const { grads, lossSum, correct } = await this.gradients(xs, ys, shape);
    try {
      this.apply(grads);
    } catch (error) {
      tf.dispose([lossSum, correct]);
      throw error;
    }
    this.stats.steps++;
    return [lossSum, correct];
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
