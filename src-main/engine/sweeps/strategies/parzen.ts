/**
 * Parzen estimators over the unit interval and over a set of choices, as Optuna's TPE builds
 * them (optuna/samplers/_tpe/parzen_estimator.py, univariate defaults): one kernel per
 * observation plus a prior kernel, each kernel's weight given by the caller.
 */

export interface Density {
  sample(random: () => number): number;
  logDensity(x: number): number;
}

/** Optuna's prior_weight: the prior kernel counts as much as one observation. */
const PRIOR_WEIGHT = 1;

/**
 * A mixture of Gaussians truncated to [0, 1]: one at each observation, one wide prior at 0.5.
 * Bandwidths follow Optuna's "magic clip": each kernel as wide as the larger gap to its sorted
 * neighbours (the outermost ones use their inner gap, as with consider_endpoints off), clipped
 * to [1 / min(100, kernels + 1), 1] so a tight cluster never collapses to a spike. With `bin`,
 * values are discrete and a kernel's density at u is its mass over the bin holding u (an int
 * range's values, space.ts), as Optuna's discrete truncated normal does.
 */
export function numericParzen(
  mus: readonly number[],
  weights: readonly number[],
  bin: ((u: number) => [number, number]) | null,
): Density {
  const kernelMus = [...mus, 0.5];
  const sigmas = [...magicClipSigmas(mus), 1];
  const kernelWeights = normalised([...weights, PRIOR_WEIGHT]);
  const logZ = kernelMus.map((mu, i) => Math.log(normalMass(mu, sigmas[i]!, 0, 1)));
  return {
    sample(random) {
      const i = pick(kernelWeights, random);
      return truncatedNormal(kernelMus[i]!, sigmas[i]!, random);
    },
    logDensity(u) {
      const terms = kernelMus.map((mu, i) => {
        const sigma = sigmas[i]!;
        const logKernel = bin
          ? Math.log(Math.max(normalMass(mu, sigma, ...bin(u)), Number.MIN_VALUE))
          : normalLogPdf(u, mu, sigma);
        return Math.log(kernelWeights[i]!) + logKernel - logZ[i]!;
      });
      return logSumExp(terms);
    },
  };
}

function magicClipSigmas(mus: readonly number[]): number[] {
  const n = mus.length;
  if (n === 0) return [];
  // The prior's centre takes part in the neighbour gaps, as in Optuna.
  const withPrior = [...mus, 0.5];
  const order = withPrior.map((_, i) => i).sort((a, b) => withPrior[a]! - withPrior[b]!);
  const sorted = [0, ...order.map((i) => withPrior[i]!), 1];
  const m = withPrior.length;
  const sortedSigmas = Array.from({ length: m }, (_, j) =>
    Math.max(sorted[j + 1]! - sorted[j]!, sorted[j + 2]! - sorted[j + 1]!),
  );
  if (sorted.length >= 4) {
    sortedSigmas[0] = sorted[2]! - sorted[1]!;
    sortedSigmas[m - 1] = sorted[m]! - sorted[m - 1]!;
  }
  const sigmas = new Array<number>(m);
  order.forEach((original, j) => (sigmas[original] = sortedSigmas[j]!));
  const minSigma = 1 / Math.min(100, 1 + n + 1);
  return sigmas.slice(0, n).map((s) => Math.min(1, Math.max(minSigma, s)));
}

/**
 * Choices as Optuna weighs them: each observation's kernel puts 1 + prior/k on its own choice and
 * prior/k on every other (k kernels), the prior kernel is uniform; the mixture of these
 * categoricals is itself one categorical, which is what is returned.
 */
export function categoricalParzen(
  observed: readonly number[],
  weights: readonly number[],
  choices: number,
): Density {
  const kernels = observed.length + 1;
  const kernelWeights = normalised([...weights, PRIOR_WEIGHT]);
  const floor = PRIOR_WEIGHT / kernels;
  const probabilities = new Array<number>(choices).fill(0);
  observed.forEach((c, i) => {
    const rowSum = floor * choices + 1;
    for (let j = 0; j < choices; j++)
      probabilities[j]! += (kernelWeights[i]! * (floor + (j === c ? 1 : 0))) / rowSum;
  });
  for (let j = 0; j < choices; j++) probabilities[j]! += kernelWeights[observed.length]! / choices;
  return {
    sample: (random) => pick(probabilities, random),
    logDensity: (c) => Math.log(probabilities[c] ?? 0),
  };
}

/** Draws from N(mu, sigma) until the draw lands in [0, 1]; a kernel centred inside keeps ≥ 1/3 there. */
function truncatedNormal(mu: number, sigma: number, random: () => number): number {
  for (let attempt = 0; attempt < 100; attempt++) {
    const x = mu + sigma * standardNormal(random);
    if (x >= 0 && x <= 1) return x;
  }
  return Math.min(1, Math.max(0, mu));
}

function standardNormal(random: () => number): number {
  // Box–Muller; 1 - random() keeps the logarithm's argument in (0, 1].
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function pick(weights: readonly number[], random: () => number): number {
  const total = weights.reduce((a, b) => a + b, 0);
  let r = random() * total;
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i]!;
    if (r < 0) return i;
  }
  return weights.length - 1;
}

const normalised = (w: readonly number[]): number[] => {
  const total = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / total);
};

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const normalLogPdf = (x: number, mu: number, sigma: number) =>
  -0.5 * ((x - mu) / sigma) ** 2 - Math.log(sigma) - LOG_SQRT_2PI;

/**
 * P(a ≤ X ≤ b) for X ~ N(mu, sigma), taken on the tail the interval lies in: a difference of two
 * upper-tail values keeps its precision where 1 − Φ would cancel to zero.
 */
export function normalMass(mu: number, sigma: number, a: number, b: number): number {
  const za = (a - mu) / sigma;
  const zb = (b - mu) / sigma;
  const upper = (z: number) => 0.5 * erfc(z / Math.SQRT2);
  if (za >= 0) return upper(za) - upper(zb);
  if (zb <= 0) return upper(-zb) - upper(-za);
  return 1 - upper(zb) - upper(-za);
}

/** Complementary error function, fractional error below 1.2e-7 everywhere (Numerical Recipes' erfcc). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t *
                              (-1.13520398 +
                                t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

function logSumExp(terms: readonly number[]): number {
  const max = Math.max(...terms);
  if (max === -Infinity) return -Infinity;
  return max + Math.log(terms.reduce((s, t) => s + Math.exp(t - max), 0));
}
