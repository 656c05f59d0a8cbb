import { describe, expect, it } from 'vitest';
import {
  formatValue,
  paramAxis,
  scoreAxis,
  scoreColor,
  searchedParams,
  sortTrials,
  trialColumns,
} from '../../../src-renderer/src/lib/sweep-view';
import { spec, trial } from '../components/sweep/sweep-fixtures';

describe('sweep view helpers', () => {
  it('lists the searched parameters in the Train form’s order', () => {
    expect(searchedParams(spec.space)).toEqual(['batchSize', 'learningRate', 'dropout']);
  });

  it('places values on log, linear and category axes', () => {
    const log = paramAxis('learningRate', { kind: 'log-uniform', min: 1e-4, max: 1e-2 });
    expect(log.position(1e-3)).toBeCloseTo(0.5);
    expect(log.position(1)).toBe(1);
    expect(log.ticks.map((t) => t.label)).toEqual(['0.0001', '0.001', '0.01']);
    const linear = paramAxis('dropout', { kind: 'uniform', min: 0, max: 0.5 });
    expect(linear.position(0.125)).toBeCloseTo(0.25);
    const choice = paramAxis('limit', { kind: 'choice', values: [2000, null] });
    expect([choice.position(2000), choice.position(null), choice.position(5)]).toEqual([
      0,
      1,
      null,
    ]);
    expect(choice.ticks.map((t) => t.label)).toEqual(['2000', 'all']);
    expect(paramAxis('x', { kind: 'choice', values: ['a'] }).position('a')).toBe(0.5);
  });

  it('spans the score axis over the trials’ own scores', () => {
    const axis = scoreAxis([trial(1, { valAccuracy: 0.97 }), trial(2, { valAccuracy: 0.98 })]);
    expect(axis.position(0.97)!).toBeGreaterThan(0);
    expect(axis.position(0.98)!).toBeLessThan(1);
    expect(axis.position(0.975)).toBeCloseTo(0.5);
    expect(scoreAxis([]).position(0.5)).toBe(0.5);
    expect(scoreColor(0)).not.toBe(scoreColor(1));
  });

  it('sorts trials with missing values last in either direction', () => {
    const trials = [
      trial(1, { valAccuracy: 0.9 }),
      trial(2, { status: 'pending' }),
      trial(3, { valAccuracy: 0.95 }),
    ];
    const columns = trialColumns(['dropout']);
    const order = (descending: boolean) =>
      sortTrials(trials, columns, { key: 'valAccuracy', descending }).map((t) => t.trial);
    expect(order(true)).toEqual([3, 1, 2]);
    expect(order(false)).toEqual([1, 3, 2]);
    expect(formatValue('augment', true)).toBe('yes');
    expect(formatValue('learningRate', 0.00123456)).toBe('0.00123');
  });
});
