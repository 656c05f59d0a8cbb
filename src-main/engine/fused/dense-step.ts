import * as tf from '@tensorflow/tfjs';
import { emscripten, type BackendWasm } from '../accel/wasm-backend';
import type { DenseStackPlan } from './dense-stack';
import { simdKernels, type SimdKernels } from '../accel/native/simd/module';
import { XnnMatMul } from '../accel/native/xnnpack/mat-mul';

/**
 * One training step of a Dense stack (see dense-stack.ts) as a fixed sequence of kernels on the
 * wasm heap: XNNPACK for the matrix products, our SIMD kernels for the rest, Adam over all
 * weights in one pass. It computes what tfjs' optimizer.minimize computes for the same model
 * (softmax cross-entropy with Keras' ε, mean over the batch; inverted dropout; tfjs' Adam with
 * its float32 operation order) without tfjs' per-op engine bookkeeping and gradient tape, which
 * cost more than the arithmetic for a small MLP: the mlp preset's step at batch 32 takes ~0.7 ms
 * here and ~2.8 ms as tfjs ops (`npm run bench -- --models mlp --tfjs-ops`). Where it differs:
 * dropout masks come from a seeded mulberry32 stream (seedDropout) instead of tf.randomUniform,
 * the matrix products sum in another order, and Adam moments below FLT_MIN are flushed to 0.
 *
 * The weights and Adam's moments live here between `load` and `store`; outside that window the
 * model and its optimizer hold them, so checkpoints, evaluation and resume never see this class.
 *
 * Layout: activations are feature-major ([units, batch]) and kernels are stored transposed
 * ([units, inputs]), so XNNPACK, which repacks its second operand on every call, only ever
 * repacks activations (batch × inputs) and never a weight matrix in the big first layer:
 *   forward   Zᵀ = Wᵀ·Xᵀ                         (packs Xᵀ)
 *   kernel ∂  ∂Wᵀ = ∂Zᵀ·X                         (packs X)
 *   input ∂   ∂Xᵀ = W·∂Zᵀ  (layers after the first; packs ∂Zᵀ)
 */

export interface AdamInternals {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  iterations_: number | undefined;
  accumulatedFirstMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  accumulatedSecondMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
}

/**
 * Hands variable i's Adam moments back to tfjs' optimizer, creating them on the first hand-back
 * under the names tfjs gives them (so checkpoints save them as tfjs would). Call inside a tidy.
 */
export function storeAdamMoments(
  adam: AdamInternals,
  i: number,
  variableName: string,
  m: tf.Tensor,
  v: tf.Tensor,
): void {
  const moments = [adam.accumulatedFirstMoment, adam.accumulatedSecondMoment] as const;
  [m, v].forEach((values, which) => {
    const list = moments[which]!;
    const entry = list[i];
    if (entry) entry.variable.assign(values);
    else
      list[i] = {
        originalName: `${variableName}/${which === 0 ? 'm' : 'v'}`,
        variable: tf.keep(values.variable(false)),
      };
  });
}

/** Hands Adam's bias-correction powers and step count back to tfjs' optimizer. */
export function storeAdamCounters(
  adam: AdamInternals,
  accBeta1: number,
  accBeta2: number,
  iterations: number,
): void {
  tf.tidy(() => {
    adam.accBeta1.assign(tf.scalar(accBeta1));
    adam.accBeta2.assign(tf.scalar(accBeta2));
  });
  adam.iterations_ = iterations;
}

interface LayerBuffers {
  inputs: number;
  units: number;
  relu: boolean;
  dropout: number;
  hasBias: boolean;
  /** Float offsets into the block; -1 when absent. */
  wt: number;
  bias: number;
  act: number;
  dz: number;
  mask: number;
  /** Tensor ids the matrix product knows the buffers by. */
  wtId: number;
  gwtId: number;
  actId: number;
  dzId: number;
}

const align4 = (n: number) => (n + 3) & ~3;
const KERAS_EPSILON = 1e-7;

export interface StepResult {
  /** Cross-entropy summed over the batch (not averaged). */
  lossSum: number;
  correct: number;
}

export class FusedDenseStep {
  private readonly k: SimdKernels;
  private readonly xnn: XnnMatMul;
  private readonly ptr: number;
  private readonly layers: LayerBuffers[] = [];
  private readonly paramCount: number;
  /** Float offsets of the parameter, gradient and moment arrays (same layout each). */
  private readonly p: number;
  private readonly g: number;
  private readonly m: number;
  private readonly v: number;
  private readonly x: number;
  private readonly xt: number;
  private readonly tmpA: number;
  private readonly tmpW: number;
  private readonly tmpWId: number;
  private readonly classes: number;
  private readonly probs: Float64Array;
  private accBeta1 = 0;
  private accBeta2 = 0;
  private iterations = 0;
  private dropoutState = 0;
  private disposed = false;

  constructor(
    private readonly plan: DenseStackPlan,
    private readonly optimizer: tf.Optimizer,
    private readonly backend: BackendWasm,
    private readonly maxBatch: number,
    /** Label smoothing s of the training loss (crossEntropySum in evaluate.ts); 0 = off. */
    private readonly smoothing = 0,
  ) {
    this.k = simdKernels(backend);
    this.xnn = new XnnMatMul(backend);
    let floats = 0;
    const take = (n: number) => {
      const at = floats;
      floats += align4(n);
      return at;
    };
    const paramOffsets = plan.layers.map((l) => ({
      wt: take(l.units * l.inputs),
      bias: l.hasBias ? take(l.units) : -1,
    }));
    this.paramCount = floats;
    this.p = 0;
    this.g = take(this.paramCount);
    this.m = take(this.paramCount);
    this.v = take(this.paramCount);
    const B = maxBatch;
    this.x = take(B * plan.inputSize);
    this.xt = take(B * plan.inputSize);
    let widest = 0;
    let biggestW = 0;
    plan.layers.forEach((l, i) => {
      if (i > 0) {
        widest = Math.max(widest, l.inputs);
        biggestW = Math.max(biggestW, l.inputs * l.units);
      }
    });
    this.tmpA = take(B * widest);
    this.tmpW = take(biggestW);
    const acts = plan.layers.map((l) => ({
      act: take(l.units * B),
      dz: take(l.units * B),
      mask: l.dropout > 0 ? take(l.units * B) : -1,
    }));
    const em = emscripten(backend);
    this.ptr = em._malloc(floats * 4 + 16);
    if (!this.ptr) throw new Error('fused step: out of wasm memory');
    em.HEAPF32.fill(0, this.base / 4, this.base / 4 + floats);

    const reg = (off: number, size: number) => this.xnn.register(this.at(off), size);
    plan.layers.forEach((l, i) => {
      const { wt, bias } = paramOffsets[i]!;
      const { act, dz, mask } = acts[i]!;
      this.layers.push({
        inputs: l.inputs,
        units: l.units,
        relu: l.activation === 'relu',
        dropout: l.dropout,
        hasBias: l.hasBias,
        wt,
        bias,
        act,
        dz,
        mask,
        wtId: reg(wt, l.units * l.inputs),
        gwtId: reg(this.g + wt, l.units * l.inputs),
        actId: reg(act, l.units * B),
        dzId: reg(dz, l.units * B),
      });
    });
    this.tmpWId = reg(this.tmpW, Math.max(1, biggestW));
    this.classes = plan.layers.at(-1)!.units;
    this.probs = new Float64Array(this.classes);
  }

  /** 16-byte aligned start of our block. */
  private get base(): number {
    return (this.ptr + 15) & ~15;
  }

  /** Byte address of a float offset. */
  private at(off: number): number {
    return this.base + off * 4;
  }

  /** Re-read on every use: XNNPACK's allocations may grow (and so replace) the heap buffer. */
  private heap(): Float32Array {
    return emscripten(this.backend).HEAPF32;
  }

  private get adam(): AdamInternals {
    return this.optimizer as unknown as AdamInternals;
  }

  /** Copies the model's weights and the optimizer's state in. */
  load(): void {
    const adam = this.adam;
    this.plan.variables.forEach((variable, i) => {
      const { dst, transposed } = this.slot(i);
      const weights = variable.read().dataSync() as Float32Array;
      this.put(this.p + dst, weights, transposed);
      const m = adam.accumulatedFirstMoment[i]?.variable.dataSync() as Float32Array | undefined;
      const v = adam.accumulatedSecondMoment[i]?.variable.dataSync() as Float32Array | undefined;
      this.put(this.m + dst, m ?? new Float32Array(weights.length), transposed);
      this.put(this.v + dst, v ?? new Float32Array(weights.length), transposed);
    });
    this.accBeta1 = adam.accBeta1.dataSync()[0]!;
    this.accBeta2 = adam.accBeta2.dataSync()[0]!;
    this.iterations = adam.iterations_ ?? 0;
  }

  /** Writes the weights and the optimizer's state back, in the layout tfjs' Adam keeps them. */
  store(): void {
    const adam = this.adam;
    tf.tidy(() => {
      this.plan.variables.forEach((variable, i) => {
        const { dst, transposed } = this.slot(i);
        const shape = variable.shape as number[];
        const tfVar = variable.read() as tf.Variable;
        tfVar.assign(tf.tensor(this.get(this.p + dst, shape, transposed), shape));
        const [m, v] = [this.m, this.v].map((base) =>
          tf.tensor(this.get(base + dst, shape, transposed), shape),
        );
        storeAdamMoments(adam, i, tfVar.name, m!, v!);
      });
    });
    storeAdamCounters(adam, this.accBeta1, this.accBeta2, this.iterations);
  }

  /** Where plan.variables[i] lives in the parameter layout, and whether it is stored transposed. */
  private slot(i: number): { dst: number; transposed: [number, number] | null } {
    let k = 0;
    for (const l of this.layers) {
      if (k === i) return { dst: l.wt, transposed: [l.inputs, l.units] };
      k++;
      if (l.hasBias) {
        if (k === i) return { dst: l.bias, transposed: null };
        k++;
      }
    }
    throw new Error(`fused step: no variable ${i}`);
  }

  private put(off: number, values: Float32Array, transposed: [number, number] | null): void {
    const heap = this.heap();
    const base = this.base / 4 + off;
    if (!transposed) {
      heap.set(values, base);
      return;
    }
    const [rows, cols] = transposed;
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) heap[base + c * rows + r] = values[r * cols + c]!;
  }

  private get(off: number, shape: number[], transposed: [number, number] | null): Float32Array {
    const heap = this.heap();
    const base = this.base / 4 + off;
    const size = shape.reduce((a, b) => a * b, 1);
    if (!transposed) return heap.slice(base, base + size);
    const [rows, cols] = transposed;
    const out = new Float32Array(size);
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) out[r * cols + c] = heap[base + c * rows + r]!;
    return out;
  }

  /** Seeds the dropout masks (mulberry32, like random.ts: one draw per masked element). */
  seedDropout(seed: number): void {
    this.dropoutState = seed >>> 0;
  }

  /** Forward, backward and Adam for the first n images of xs ([n, inputSize]) and labels ys. */
  step(xs: Float32Array, ys: Int32Array, n: number): StepResult {
    if (this.disposed) throw new Error('fused step: used after dispose');
    if (n < 1 || n > this.maxBatch) throw new Error(`fused step: batch of ${n}`);
    const { k, xnn, layers } = this;
    const inSize = this.plan.inputSize;
    this.heap().set(xs.subarray(0, n * inSize), this.base / 4 + this.x);
    k.transpose(this.at(this.x), this.at(this.xt), n, inSize);

    let inT = this.xt;
    for (const l of layers) {
      xnn.run(l.wtId, this.at(inT), l.actId, l.units, l.inputs, n);
      const size = l.units * n;
      if (l.hasBias) k.bias_rows(this.at(l.act), this.at(l.bias), l.units, n);
      if (l.relu) k.relu(this.at(l.act), size);
      if (l.dropout > 0) {
        const keep = 1 - l.dropout;
        const scale = Math.fround(1 / keep);
        this.dropoutState = k.dropout_mask(this.at(l.mask), size, this.dropoutState, keep, scale);
        k.mul(this.at(l.act), this.at(l.mask), size);
      }
      inT = l.act;
    }
    const result = this.softmaxCrossEntropy(layers.at(-1)!, ys, n);

    for (let i = layers.length - 1; i >= 0; i--) {
      const l = layers[i]!;
      const prev = layers[i - 1];
      let prevBatchMajor = this.x;
      if (prev) {
        k.transpose(this.at(prev.act), this.at(this.tmpA), prev.units, n);
        prevBatchMajor = this.tmpA;
      }
      xnn.run(l.dzId, this.at(prevBatchMajor), l.gwtId, l.units, n, l.inputs);
      if (l.hasBias) k.row_sums(this.at(l.dz), this.at(this.g + l.bias), l.units, n);
      if (!prev) continue;
      k.transpose(this.at(l.wt), this.at(this.tmpW), l.units, l.inputs);
      xnn.run(this.tmpWId, this.at(l.dz), prev.dzId, l.inputs, l.units, n);
      const size = prev.units * n;
      if (prev.dropout > 0) k.mul(this.at(prev.dz), this.at(prev.mask), size);
      if (prev.relu) k.relu_grad(this.at(prev.dz), this.at(prev.act), size);
    }
    this.applyAdam();
    return result;
  }

  /** Softmax over each column of the output layer, the loss sum and ∂loss/∂logits (mean). */
  private softmaxCrossEntropy(out: LayerBuffers, ys: Int32Array, n: number): StepResult {
    const heap = this.heap();
    const z = this.base / 4 + out.act;
    const dz = this.base / 4 + out.dz;
    const C = this.classes;
    const e = this.probs;
    const s = this.smoothing;
    let lossSum = 0;
    let correct = 0;
    for (let j = 0; j < n; j++) {
      const y = ys[j]!;
      if (!(y >= 0 && y < C)) throw new Error(`fused step: label ${y} outside 0..${C - 1}`);
      let max = -Infinity;
      let arg = 0;
      for (let c = 0; c < C; c++) {
        const v = heap[z + c * n + j]!;
        if (v > max) {
          max = v;
          arg = c;
        }
      }
      let sum = 0;
      for (let c = 0; c < C; c++) {
        const v = Math.exp(heap[z + c * n + j]! - max);
        e[c] = v;
        sum += v;
      }
      const py = e[y]! / sum;
      if (arg === y) correct++;
      if (s === 0) {
        lossSum -= Math.log(py + KERAS_EPSILON);
        // ∂(−log(p_y + ε))/∂z_c = p_y/(p_y + ε) · (p_c − [c = y]), averaged over the batch.
        const r = py / (py + KERAS_EPSILON) / n;
        for (let c = 0; c < C; c++) heap[dz + c * n + j] = r * (e[c]! / sum - (c === y ? 1 : 0));
        continue;
      }
      // Target t_k = (1 − s)[k = y] + s/C; loss −Σ t_k log(p_k + ε), whose gradient is
      // ∂/∂z_c = p_c · Σ_k t_k r_k − t_c r_c with r_k = p_k/(p_k + ε).
      let weighted = 0;
      for (let k = 0; k < C; k++) {
        const pk = e[k]! / sum;
        const t = (k === y ? 1 - s : 0) + s / C;
        lossSum -= t * Math.log(pk + KERAS_EPSILON);
        const r = pk / (pk + KERAS_EPSILON);
        e[k] = pk;
        weighted += t * r;
      }
      for (let c = 0; c < C; c++) {
        const pc = e[c]!;
        const t = (c === y ? 1 - s : 0) + s / C;
        heap[dz + c * n + j] = (pc * weighted - t * (pc / (pc + KERAS_EPSILON))) / n;
      }
    }
    return { lossSum, correct };
  }

  private applyAdam(): void {
    const adam = this.adam;
    const f = Math.fround;
    const b1 = f(adam.beta1);
    const b2 = f(adam.beta2);
    this.k.adam(
      this.at(this.p),
      this.at(this.g),
      this.at(this.m),
      this.at(this.v),
      this.paramCount,
      b1,
      f(1 - adam.beta1),
      b2,
      f(1 - adam.beta2),
      f(1 - this.accBeta1),
      f(1 - this.accBeta2),
      f(-adam.learningRate),
      f(adam.epsilon),
    );
    this.accBeta1 = f(this.accBeta1 * b1);
    this.accBeta2 = f(this.accBeta2 * b2);
    this.iterations++;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.xnn.dispose();
    emscripten(this.backend)._free(this.ptr);
  }
}
