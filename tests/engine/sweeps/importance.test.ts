import { describe, expect, it } from 'vitest';
import type { SearchSpace } from '../../../src-main/contract/sweep';
import { mulberry32 } from '../../../src-main/engine/random';
import { hyperparameterImportance } from '../../../src-main/engine/sweeps/importance';
import { samplePoint, trialRandom, type Point } from '../../../src-main/engine/sweeps/space';

const space: SearchSpace = {
  learningRate: { kind: 'log-uniform', min: 1e-5, max: 1e-1 },
  dropout: { kind: 'uniform', min: 0, max: 0.9 },
  batchSize: { kind: 'choice', values: [16, 32, 64, 128, 256] },
  hiddenUnits: { kind: 'int', min: 32, max: 512, step: 32 },
};

const trialsScoredBy = (objective: (p: Point) => number, n: number, seed = 1) => {
  const noise = mulberry32(seed + 1000);
  return Array.from({ length: n }, (_, t) => {
    const point = samplePoint(space, trialRandom(seed, t + 1));
    return { point, score: objective(point) + 0.002 * (noise() - 0.5) };
  });
};

const sum = (xs: { importance: number }[]) => xs.reduce((s, x) => s + x.importance, 0);

describe('hyperparameterImportance', () => {
  it('ranks the hyper-parameter the score depends on first; shares sum to 1', () => {
    for (const seed of [1, 2, 3]) {
      // Strong in log learning rate, weak in dropout, none in batch size or hidden units.
      const trials = trialsScoredBy(
        (p) =>
          0.98 -
          0.05 * (Math.log10(p.learningRate as number) + 3) ** 2 -
          0.01 * (p.dropout as number),
        50,
        seed,
      );
      const ranking = hyperparameterImportance(space, trials);
      expect(ranking.map((r) => r.param)[0]).toBe('learningRate');
      expect(ranking[0]!.importance).toBeGreaterThan(0.6);
      expect(sum(ranking)).toBeCloseTo(1, 10);
      for (const r of ranking) expect(r.importance).toBeGreaterThanOrEqual(0);
    }
  });

  it('finds a choice that matters as readily as a range', () => {
    const trials = trialsScoredBy((p) => (p.batchSize === 64 ? 0.99 : 0.95), 60);
    const ranking = hyperparameterImportance(space, trials);
    expect(ranking[0]!.param).toBe('batchSize');
    expect(ranking[0]!.importance).toBeGreaterThan(0.8);
  });

  it('shares equally when nothing explains the score (or there is too little to tell)', () => {
    const flat = trialsScoredBy(() => 0.9, 20).map((t) => ({ ...t, score: 0.9 }));
    for (const r of hyperparameterImportance(space, flat)) expect(r.importance).toBe(0.25);
    for (const r of hyperparameterImportance(space, flat.slice(0, 1)))
      expect(r.importance).toBe(0.25);
  });
});
