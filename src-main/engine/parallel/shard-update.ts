/**
 * The reduction and Adam's update of one slice of the weights, run by every data-parallel thread
 * on its own slice (the leader included), so neither grows serial with the thread count.
 *
 * All arrays hold every trainable weight in a row (protocol.ts `layout`): `grads[t]` is thread
 * t's share of the gradient (the shares add up to the batch's), and weights, m and v are shared
 * by all threads; a thread touches only its ranges. Weights the loss does not depend on are left
 * out of the ranges, as tfjs' Adam skips a variable without a gradient. The update is tfjs' AdamOptimizer's
 * (tfjs-core adam_optimizer.js), written out per element:
 *   m ← β1·m + (1 − β1)·g,  v ← β2·v + (1 − β2)·g²,
 *   w ← w − lr · (m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε)
 * with β1ᵗ, β2ᵗ the optimizer's accBeta1/accBeta2 before this step. JavaScript computes in
 * float64 and stores float32, tfjs in float32: the results differ by float rounding only.
 */

export interface AdamStep {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** β1ᵗ and β2ᵗ: the optimizer's accBeta1 and accBeta2 before the step. */
  accBeta1: number;
  accBeta2: number;
}

export function reduceAndUpdate(
  grads: readonly Float32Array[],
  weights: Float32Array,
  m: Float32Array,
  v: Float32Array,
  ranges: readonly [number, number][],
  adam: AdamStep,
): void {
  const { learningRate: lr, beta1, beta2, epsilon } = adam;
  const c1 = 1 - adam.accBeta1;
  const c2 = 1 - adam.accBeta2;
  const first = grads[0]!;
  for (const [from, to] of ranges) {
    for (let j = from; j < to; j++) {
      let g = first[j]!;
      for (let t = 1; t < grads.length; t++) g += grads[t]![j]!;
      const mj = beta1 * m[j]! + (1 - beta1) * g;
      const vj = beta2 * v[j]! + (1 - beta2) * g * g;
      m[j] = mj;
      v[j] = vj;
      weights[j] = weights[j]! - lr * (mj / c1 / (Math.sqrt(vj / c2) + epsilon));
    }
  }
}

/** Splits [0, total) into `parts` contiguous slices, as even as possible: [from, to) each. */
export function slices(total: number, parts: number): [number, number][] {
  const base = Math.floor(total / parts);
  const extra = total % parts;
  const out: [number, number][] = [];
  for (let i = 0, from = 0; i < parts; i++) {
    const to = from + base + (i < extra ? 1 : 0);
    out.push([from, to]);
    from = to;
  }
  return out;
}

/**
 * The ranges of `slice` that hold weights with a gradient: variable i spans
 * [offsets[i], offsets[i] + sizes[i]) and has one where hasGrad[i].
 */
export function rangesWithGradients(
  slice: [number, number],
  layout: { offsets: readonly number[]; sizes: readonly number[] },
  hasGrad: readonly boolean[],
): [number, number][] {
  const out: [number, number][] = [];
  layout.offsets.forEach((offset, i) => {
    if (!hasGrad[i]) return;
    const from = Math.max(slice[0], offset);
    const to = Math.min(slice[1], offset + layout.sizes[i]!);
    if (from >= to) return;
    const last = out[out.length - 1];
    if (last && last[1] === from) last[1] = to;
    else out.push([from, to]);
  });
  return out;
}
