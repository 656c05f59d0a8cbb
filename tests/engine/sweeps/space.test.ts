import { describe, expect, it } from 'vitest';
import type { Dimension, SearchSpace } from '../../../src-main/contract/sweep';
import {
  fromUnit,
  gridPoint,
  gridValues,
  pointKey,
  samplePoint,
  toUnit,
  trialRandom,
  type NumericDimension,
} from '../../../src-main/engine/sweeps/space';

const space: SearchSpace = {
  learningRate: { kind: 'log-uniform', min: 1e-4, max: 1e-2 },
  dropout: { kind: 'uniform', min: 0, max: 0.5 },
  hiddenUnits: { kind: 'int', min: 32, max: 256, step: 32 },
  batchSize: { kind: 'choice', values: [32, 64, 128] },
};

describe('samplePoint', () => {
  it('repeats for the same seed and trial, differs for another seed or trial', () => {
    const draw = (seed: number, trial: number) => samplePoint(space, trialRandom(seed, trial));
    expect(draw(7, 3)).toEqual(draw(7, 3));
    expect(draw(7, 3)).not.toEqual(draw(8, 3));
    expect(draw(7, 3)).not.toEqual(draw(7, 4));
  });

  it('does not depend on the order the space lists its keys in', () => {
    const reversed = Object.fromEntries(Object.entries(space).reverse());
    expect(samplePoint(reversed, trialRandom(1, 1))).toEqual(samplePoint(space, trialRandom(1, 1)));
  });

  it('stays inside every range, log ranges spread evenly over their decades', () => {
    const points = Array.from({ length: 2000 }, (_, t) => samplePoint(space, trialRandom(0, t)));
    for (const p of points) {
      expect(p.learningRate).toBeGreaterThanOrEqual(1e-4);
      expect(p.learningRate).toBeLessThanOrEqual(1e-2);
      expect(p.dropout).toBeGreaterThanOrEqual(0);
      expect(p.dropout).toBeLessThanOrEqual(0.5);
      expect([32, 64, 96, 128, 160, 192, 224, 256]).toContain(p.hiddenUnits);
      expect([32, 64, 128]).toContain(p.batchSize);
    }
    // Half of a log-uniform 1e-4..1e-2 lies below 1e-3; a uniform draw would put 9 % there.
    const low = points.filter((p) => (p.learningRate as number) < 1e-3).length / points.length;
    expect(low).toBeGreaterThan(0.45);
    expect(low).toBeLessThan(0.55);
    // Each of the 8 int values about equally often (1/8 = 0.125).
    for (const v of [32, 256]) {
      const share = points.filter((p) => p.hiddenUnits === v).length / points.length;
      expect(share).toBeGreaterThan(0.1);
      expect(share).toBeLessThan(0.15);
    }
  });
});

describe('gridValues', () => {
  it('cuts continuous ranges into points that include both ends, log-spaced on log ranges', () => {
    expect(gridValues({ kind: 'log-uniform', min: 1e-4, max: 1e-2 }, 3)).toEqual([
      1e-4, 1e-3, 1e-2,
    ]);
    expect(gridValues({ kind: 'uniform', min: 0, max: 0.5 }, 5)).toEqual([
      0, 0.125, 0.25, 0.375, 0.5,
    ]);
  });

  it('walks an int range by its step and gives a choice its values', () => {
    expect(gridValues({ kind: 'int', min: 1, max: 10, step: 4 }, 5)).toEqual([1, 5, 9]);
    expect(gridValues({ kind: 'choice', values: ['decay', 'one-cycle'] }, 5)).toEqual([
      'decay',
      'one-cycle',
    ]);
  });

  it('numbers the cartesian product with the last name (sorted) varying fastest', () => {
    const small: SearchSpace = {
      b: { kind: 'choice', values: [1, 2, 3] },
      a: { kind: 'choice', values: ['x', 'y'] },
    };
    expect([0, 1, 2, 3, 5].map((i) => gridPoint(small, i, 5))).toEqual([
      { a: 'x', b: 1 },
      { a: 'x', b: 2 },
      { a: 'x', b: 3 },
      { a: 'y', b: 1 },
      { a: 'y', b: 3 },
    ]);
  });
});

describe('unit encoding', () => {
  const dims: NumericDimension[] = [
    { kind: 'log-uniform', min: 1e-5, max: 1e-1 },
    { kind: 'uniform', min: 0.5, max: 1 },
    { kind: 'int', min: 16, max: 512, step: 16 },
  ];

  it.each(dims)('round-trips values of %j', (dim) => {
    for (const u of [0, 0.1, 0.33, 0.5, 0.77, 1]) {
      const value = fromUnit(dim, u);
      expect(fromUnit(dim, toUnit(dim, value))).toBeCloseTo(value, 10);
    }
  });

  it('puts log ranges on the log scale and int values at the centres of equal bins', () => {
    expect(toUnit(dims[0]!, 1e-3)).toBeCloseTo(0.5, 10);
    const ints: Dimension = { kind: 'int', min: 0, max: 3, step: 1 };
    expect([0, 1, 2, 3].map((v) => toUnit(ints, v))).toEqual([0.125, 0.375, 0.625, 0.875]);
    expect([0, 0.24, 0.25, 0.99, 1].map((u) => fromUnit(ints, u))).toEqual([0, 0, 1, 3, 3]);
  });
});

it('pointKey is equal for equal points whatever their key order', () => {
  expect(pointKey({ a: 1, b: 'x' })).toBe(pointKey({ b: 'x', a: 1 }));
  expect(pointKey({ a: 1, b: 'x' })).not.toBe(pointKey({ a: 2, b: 'x' }));
});
