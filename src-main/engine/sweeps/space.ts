import {
  gridCount,
  intValues,
  type ChoiceValue,
  type Dimension,
  type SearchSpace,
} from '../../contract/sweep';
import { mulberry32 } from '../random';

/**
 * Points of a search space: seeded sampling, grid enumeration and the unit-cube encoding the
 * model-based strategy works in. A point maps hyper-parameter names to values.
 */

export type Point = Record<string, ChoiceValue>;
export type NumericDimension = Exclude<Dimension, { kind: 'choice' }>;

/**
 * Names in sorted order: the same spec written with its keys in another order samples the same
 * trials, and every module walks the dimensions in one order.
 */
export function paramNames(space: SearchSpace): string[] {
  return Object.keys(space).sort();
}

/**
 * The random stream of one trial of a sweep. Seeding per trial rather than per sweep means a
 * trial's proposal does not depend on how many were proposed before in this process: a resumed
 * sweep proposes trial 7 exactly as an uninterrupted one would (for the same history).
 */
export function trialRandom(seed: number, trial: number, stream = 0): () => number {
  return mulberry32(mix(mix(seed, trial), stream));
}

// murmur3's finaliser over two words, so nearby (seed, trial) pairs start far-apart streams.
function mix(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul((b + 0x632be5ab) | 0, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

export function sampleValue(dim: Dimension, random: () => number): ChoiceValue {
  if (dim.kind === 'choice') return dim.values[Math.floor(random() * dim.values.length)]!;
  return fromUnit(dim, random());
}

export function samplePoint(space: SearchSpace, random: () => number): Point {
  const point: Point = {};
  for (const name of paramNames(space)) point[name] = sampleValue(space[name]!, random);
  return point;
}

/**
 * The values a dimension takes on a grid. A continuous range becomes `gridPoints` points that
 * include both ends, evenly spaced (geometrically for a log range, so 1e-4..1e-2 in 3 points is
 * 1e-4, 1e-3, 1e-2); an int range gives every value of its step; a choice gives its values.
 */
export function gridValues(dim: Dimension, gridPoints: number): ChoiceValue[] {
  switch (dim.kind) {
    case 'choice':
      return [...dim.values];
    case 'int':
      return intValues(dim);
    default:
      return Array.from({ length: gridPoints }, (_, i) => gridValueAt(dim, i, gridPoints));
  }
}

/**
 * The grid point at a mixed-radix index (the last name in sorted order varies fastest): the
 * grid is never materialised, so a large one costs nothing until its points are asked for.
 */
export function gridPoint(space: SearchSpace, index: number, gridPoints: number): Point {
  const names = paramNames(space);
  const point: Point = {};
  let rest = index;
  for (let i = names.length - 1; i >= 0; i--) {
    const dim = space[names[i]!]!;
    const count = gridCount(dim, gridPoints);
    point[names[i]!] = gridValueAt(dim, rest % count, gridPoints);
    rest = Math.floor(rest / count);
  }
  return point;
}

/** The k-th of gridValues(dim, gridPoints), without listing the others. */
function gridValueAt(dim: Dimension, k: number, gridPoints: number): ChoiceValue {
  switch (dim.kind) {
    case 'choice':
      return dim.values[k]!;
    case 'int':
      return dim.min + k * dim.step;
    default:
      return fromUnit(dim, k / (gridPoints - 1));
  }
}

/**
 * Where a value sits in [0, 1]: linear for uniform, on the log scale for log-uniform. An int
 * range's n values own n equal bins and sit at their centres, so sampling [0, 1) uniformly
 * picks each value equally often and a density over [0, 1] gives each value the mass of its bin.
 */
export function toUnit(dim: NumericDimension, value: number): number {
  switch (dim.kind) {
    case 'uniform':
      return clamp01((value - dim.min) / (dim.max - dim.min));
    case 'log-uniform':
      return clamp01(Math.log(value / dim.min) / Math.log(dim.max / dim.min));
    case 'int': {
      const n = intCount(dim);
      const k = Math.min(n - 1, Math.max(0, Math.round((value - dim.min) / dim.step)));
      return (k + 0.5) / n;
    }
  }
}

/**
 * The value at u in [0, 1]. Real values keep 6 significant digits: run settings stay readable
 * (0.00316228, not 0.0031622776601683794) and the grid stays exactly on the ends of a range.
 */
export function fromUnit(dim: NumericDimension, u: number): number {
  const t = clamp01(u);
  switch (dim.kind) {
    case 'uniform':
      return clampTo(dim, round6(dim.min + t * (dim.max - dim.min)));
    case 'log-uniform':
      return clampTo(dim, round6(dim.min * Math.pow(dim.max / dim.min, t)));
    case 'int': {
      const n = intCount(dim);
      return dim.min + Math.min(n - 1, Math.floor(t * n)) * dim.step;
    }
  }
}

/** The unit-cube bin an int value owns, for densities that give each value its bin's mass. */
export function intBin(dim: Extract<Dimension, { kind: 'int' }>, u: number): [number, number] {
  const n = intCount(dim);
  const k = Math.min(n - 1, Math.floor(clamp01(u) * n));
  return [k / n, (k + 1) / n];
}

/** One string per point, equal for equal points whatever their key order. */
export function pointKey(point: Point): string {
  return JSON.stringify(
    Object.keys(point)
      .sort()
      .map((k) => [k, point[k]]),
  );
}

const intCount = (dim: Extract<Dimension, { kind: 'int' }>) =>
  Math.floor((dim.max - dim.min) / dim.step) + 1;
const clamp01 = (u: number) => (u < 0 ? 0 : u > 1 ? 1 : u);
const round6 = (v: number) => Number(v.toPrecision(6));
const clampTo = (dim: { min: number; max: number }, v: number) =>
  Math.min(dim.max, Math.max(dim.min, v));
