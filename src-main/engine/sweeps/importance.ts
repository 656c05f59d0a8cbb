import type { SearchSpace } from '../../contract/sweep';
import { paramNames, toUnit, type Point } from './space';

/**
 * How much each hyper-parameter moves the score, from finished trials: a one-way analysis of
 * variance per hyper-parameter, the main-effect part of fANOVA (Hutter et al. 2014) without its
 * random forest. Trials are grouped by the hyper-parameter's value — by choice for choices, by
 * equal-count bins of the (log-scaled) value for ranges — and the share of the score's variance
 * the group means explain is estimated with ε² = (SS_between − (k−1)·MS_within) / SS_total,
 * floored at 0. Unlike the raw ratio SS_between / SS_total, ε² does not grow with the number of
 * groups on noise alone, so a choice of five values does not outrank a range by having more
 * groups. The shares are then scaled to sum to 1. Interactions between hyper-parameters are not
 * attributed (fANOVA would give them their own share); with few trials, read it as a ranking.
 */

export interface ParamImportance {
  param: string;
  /** Share of the explained variance, 0..1; all shares sum to 1. */
  importance: number;
}

export interface ScoredPoint {
  point: Point;
  score: number;
}

/** Most important first; ties (and too few trials to tell) share equally. */
export function hyperparameterImportance(
  space: SearchSpace,
  trials: readonly ScoredPoint[],
): ParamImportance[] {
  const names = paramNames(space);
  const raw = names.map((name) =>
    effectSize(
      trials.map((t) => t.score),
      groupsOf(space, name, trials),
    ),
  );
  const total = raw.reduce((a, b) => a + b, 0);
  const shares = total > 0 ? raw.map((r) => r / total) : raw.map(() => 1 / names.length);
  return names
    .map((param, i) => ({ param, importance: shares[i]! }))
    .sort((a, b) => b.importance - a.importance || a.param.localeCompare(b.param));
}

/** Trial indices grouped by a hyper-parameter's value. */
function groupsOf(space: SearchSpace, name: string, trials: readonly ScoredPoint[]): number[][] {
  const dim = space[name]!;
  const byKey = new Map<string, number[]>();
  const keyed = (key: string, i: number) => byKey.set(key, [...(byKey.get(key) ?? []), i]);
  if (dim.kind === 'choice') {
    trials.forEach((t, i) => keyed(JSON.stringify(t.point[name]), i));
    return [...byKey.values()];
  }
  const positions = trials.map((t) => {
    const v = t.point[name];
    return typeof v === 'number' ? toUnit(dim, v) : Number.NaN;
  });
  const bins = Math.min(8, Math.max(2, Math.round(Math.sqrt(trials.length))));
  const distinct = new Set(positions.filter((u) => !Number.isNaN(u)));
  if (distinct.size <= bins) {
    positions.forEach((u, i) => keyed(String(u), i));
    return [...byKey.values()];
  }
  // Equal-count bins by rank: model-based search crowds its trials where the score is good, and
  // equal-width bins there would leave most bins with a trial or two.
  const order = positions
    .map((u, i) => [u, i] as const)
    .filter(([u]) => !Number.isNaN(u))
    .sort((a, b) => a[0] - b[0]);
  const groups: number[][] = Array.from({ length: bins }, () => []);
  order.forEach(([, i], rank) => groups[Math.floor((rank * bins) / order.length)]!.push(i));
  return groups.filter((g) => g.length > 0);
}

/** ε² of the scores grouped as given, floored at 0. */
function effectSize(scores: readonly number[], groups: readonly number[][]): number {
  const members = groups.flat();
  const n = members.length;
  const k = groups.length;
  if (n < 2 || k < 2) return 0;
  const mean = members.reduce((s, i) => s + scores[i]!, 0) / n;
  let between = 0;
  let within = 0;
  for (const group of groups) {
    const m = group.reduce((s, i) => s + scores[i]!, 0) / group.length;
    between += group.length * (m - mean) ** 2;
    for (const i of group) within += (scores[i]! - m) ** 2;
  }
  const total = between + within;
  // Equal scores leave only rounding in the sums; their ratio would be noise.
  if (total <= n * 1e-20) return 0;
  const meanWithin = n > k ? within / (n - k) : 0;
  return Math.max(0, (between - (k - 1) * meanWithin) / total);
}
