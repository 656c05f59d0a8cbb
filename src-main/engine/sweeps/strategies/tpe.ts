import type { SearchSpace, TpeSettings } from '../../../contract/sweep';
import {
  intBin,
  paramNames,
  samplePoint,
  toUnit,
  fromUnit,
  trialRandom,
  type Point,
} from '../space';
import { categoricalParzen, numericParzen, type Density } from './parzen';
import type { Observation, PendingTrial, Proposer } from './proposer';

/**
 * Tree-structured Parzen Estimator (Bergstra et al. 2011), following Optuna's TPESampler with its
 * defaults (univariate, prior on, magic clip): the first `startupTrials` proposals are random;
 * after that the trials seen are split into the best γ(n) ("good") and the rest ("bad"), each
 * hyper-parameter gets a Parzen density l(x) over the good values and g(x) over the bad ones,
 * and the proposal is, per hyper-parameter, the one of `candidates` draws from l that maximises
 * l(x)/g(x) — the expected-improvement criterion of the paper. Numeric values are modelled in
 * the unit interval (space.ts), so log ranges are modelled on the log scale.
 *
 * Trials still running join the model as "constant liars" (Optuna's constant_liar): each counts
 * as a bad trial with the worst score seen so far, so the next proposal moves away from where
 * they already search. Without it, trials proposed while others run see the same history and
 * draw from the same peaked l(x), so parallel proposals bunch up on one spot.
 */
export function tpeProposer(space: SearchSpace, seed: number, settings: TpeSettings): Proposer {
  return {
    propose(trial, history, pending = []) {
      const random = trialRandom(seed, trial);
      // The same stream as the random strategy: TPE's startup trials are random's first trials.
      // Startup counts results only, as Optuna's n_startup_trials counts completed trials.
      if (history.length < settings.startupTrials) return samplePoint(space, random);
      const { good, bad } = splitObservations([...history, ...liars(history, pending)]);
      const point: Point = {};
      for (const name of paramNames(space))
        point[name] = proposeValue(space, name, good, bad, settings.candidates, random);
      return point;
    },
  };
}

/**
 * The pending trials as observations that rank below every real one: the worst score seen, and
 * pruned before their first epoch (splitObservations ranks those last). They count in γ(n)
 * too, as in Optuna, but never outnumber the real trials in the good half (γ ≤ 10 % + 1).
 */
export function liars(
  history: readonly Observation[],
  pending: readonly PendingTrial[],
): Observation[] {
  if (history.length === 0) return [];
  const worst = Math.min(...history.map((o) => o.score));
  return pending.map(({ trial, point }) => ({
    trial,
    point,
    score: worst,
    complete: false,
    epochs: 0,
  }));
}

/** Optuna's default γ: the best 10 % of trials (at least one, at most 25) count as good. */
export const tpeGoodCount = (n: number): number => Math.min(Math.ceil(0.1 * n), 25);

/**
 * Optuna's default weights, over trials in the order they were proposed: all equal up to 25,
 * then the oldest fade linearly from 1/n while the latest 25 keep full weight, so the model
 * follows where the search has moved.
 */
export function tpeWeights(n: number): number[] {
  if (n < 25) return new Array<number>(n).fill(1);
  const ramp = n - 25;
  return [
    ...Array.from({ length: ramp }, (_, i) =>
      ramp === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (ramp - 1),
    ),
    ...new Array<number>(25).fill(1),
  ];
}

/**
 * Ranks trials as Optuna does with pruning: completed trials by score, then pruned ones by how
 * far they got, then by score; the top γ(n) are good. Each half comes back in trial order.
 */
export function splitObservations(history: readonly Observation[]): {
  good: Observation[];
  bad: Observation[];
} {
  const ranked = [...history].sort(
    (a, b) =>
      Number(b.complete) - Number(a.complete) ||
      (a.complete ? 0 : b.epochs - a.epochs) ||
      b.score - a.score ||
      a.trial - b.trial,
  );
  const n = tpeGoodCount(history.length);
  const byTrial = (a: Observation, b: Observation) => a.trial - b.trial;
  return { good: ranked.slice(0, n).sort(byTrial), bad: ranked.slice(n).sort(byTrial) };
}

function proposeValue(
  space: SearchSpace,
  name: string,
  good: readonly Observation[],
  bad: readonly Observation[],
  candidates: number,
  random: () => number,
): Point[string] {
  const dim = space[name]!;
  let encode: (o: Observation) => number | null;
  let density: (observed: number[]) => Density;
  if (dim.kind === 'choice') {
    const keys = dim.values.map((v) => JSON.stringify(v));
    encode = (o) => {
      const i = keys.indexOf(JSON.stringify(o.point[name]));
      return i < 0 ? null : i;
    };
    density = (observed) => categoricalParzen(observed, tpeWeights(observed.length), keys.length);
  } else {
    encode = (o) => (typeof o.point[name] === 'number' ? toUnit(dim, o.point[name]) : null);
    const bin = dim.kind === 'int' ? (u: number) => intBin(dim, u) : null;
    density = (observed) => numericParzen(observed, tpeWeights(observed.length), bin);
  }
  // Observations made under another space (a value no longer offered) say nothing here.
  const values = (os: readonly Observation[]) =>
    os.map(encode).filter((x): x is number => x !== null);
  const l = density(values(good));
  const g = density(values(bad));
  let best = l.sample(random);
  let bestScore = -Infinity;
  for (let i = 0; i < candidates; i++) {
    const x = i === 0 ? best : l.sample(random);
    const score = l.logDensity(x) - g.logDensity(x);
    if (score > bestScore) {
      best = x;
      bestScore = score;
    }
  }
  return dim.kind === 'choice' ? dim.values[best]! : fromUnit(dim, best);
}
