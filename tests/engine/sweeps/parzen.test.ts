import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../../src-main/engine/random';
import {
  categoricalParzen,
  erfc,
  normalMass,
  numericParzen,
} from '../../../src-main/engine/sweeps/strategies/parzen';
import { tpeGoodCount, tpeWeights } from '../../../src-main/engine/sweeps/strategies/tpe';

describe('normal distribution helpers', () => {
  it('match tabulated values, tails included', () => {
    expect(erfc(0)).toBeCloseTo(1, 7);
    expect(erfc(1)).toBeCloseTo(0.157299207, 7);
    expect(erfc(-1)).toBeCloseTo(1.842700793, 7);
    expect(normalMass(0, 1, -1.96, 1.96)).toBeCloseTo(0.95, 4);
    // P(6 ≤ Z ≤ 7) = 9.865e-10 − 1.280e-12: lost entirely by 1 − Φ arithmetic.
    expect(normalMass(0, 1, 6, 7) / 9.852e-10).toBeCloseTo(1, 3);
    expect(normalMass(0, 1, -7, -6) / 9.852e-10).toBeCloseTo(1, 3);
  });
});

describe('numericParzen', () => {
  it('is a density on [0, 1]: it integrates to 1 and its samples stay inside', () => {
    const density = numericParzen([0.05, 0.1, 0.7], [1, 1, 1], null);
    const steps = 20000;
    let integral = 0;
    for (let i = 0; i < steps; i++) integral += Math.exp(density.logDensity((i + 0.5) / steps));
    expect(integral / steps).toBeCloseTo(1, 3);
    const random = mulberry32(1);
    for (let i = 0; i < 1000; i++) {
      const x = density.sample(random);
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(1);
    }
  });

  it('puts its mass near the observations, by their weights', () => {
    const density = numericParzen([0.1, 0.12, 0.9], [1, 1, 0.1], null);
    expect(density.logDensity(0.11)).toBeGreaterThan(density.logDensity(0.9));
    expect(density.logDensity(0.11)).toBeGreaterThan(density.logDensity(0.5));
  });

  it('gives discrete values the mass of their bins, summing to 1', () => {
    const bins = 4;
    const bin = (u: number): [number, number] => {
      const k = Math.min(bins - 1, Math.floor(u * bins));
      return [k / bins, (k + 1) / bins];
    };
    const density = numericParzen([0.125, 0.375], [1, 1], bin);
    const total = [0.125, 0.375, 0.625, 0.875].reduce(
      (s, u) => s + Math.exp(density.logDensity(u)),
      0,
    );
    expect(total).toBeCloseTo(1, 6);
  });
});

describe('categoricalParzen', () => {
  it('weighs the observed choices up, keeps every choice possible, and sums to 1', () => {
    const density = categoricalParzen([2, 2, 0], [1, 1, 1], 4);
    const p = [0, 1, 2, 3].map((c) => Math.exp(density.logDensity(c)));
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
    expect(p[2]).toBeGreaterThan(p[0]!);
    expect(p[0]).toBeGreaterThan(p[1]!);
    expect(p[1]).toBeGreaterThan(0);
    const random = mulberry32(3);
    const draws = Array.from({ length: 4000 }, () => density.sample(random));
    expect(draws.filter((c) => c === 2).length / draws.length).toBeCloseTo(p[2]!, 1);
  });
});

describe("Optuna's defaults", () => {
  it('γ takes the top 10 % (at least 1, at most 25)', () => {
    expect([1, 10, 11, 100, 1000].map(tpeGoodCount)).toEqual([1, 1, 2, 10, 25]);
  });

  it('weights are flat up to 25 trials, then older ones fade', () => {
    expect(tpeWeights(3)).toEqual([1, 1, 1]);
    const w = tpeWeights(40);
    expect(w).toHaveLength(40);
    expect(w[0]).toBeCloseTo(1 / 40, 10);
    expect(w.slice(15)).toEqual(new Array(25).fill(1));
    for (let i = 1; i < 15; i++) expect(w[i]!).toBeGreaterThan(w[i - 1]!);
  });
});
