import { describe, expect, it } from 'vitest';
import { resolveTrainConfig } from '$contract/config';
import type { RunInfo } from '$contract/messages';
import {
  filterRuns,
  NEWEST_FIRST,
  settings,
  settingsSummary,
  sortRuns,
} from '../../../src-renderer/src/lib/run-settings';
import { run } from '../fixtures';

const withConfig = (
  r: RunInfo,
  config: Record<string, unknown>,
  best: number | null = null,
): RunInfo => ({
  ...r,
  model: (config['model'] as string) ?? 'mlp',
  config: resolveTrainConfig(config),
  bestValAccuracy: best,
});

describe('run settings', () => {
  it('lists every setting the form has, leaving out what the model or schedule ignores', () => {
    const mlp = settings(resolveTrainConfig({ model: 'mlp' }));
    expect(mlp.map((s) => s.label)).toContain('Hidden units');
    expect(mlp.find((s) => s.key === 'learningRateDecay')?.value).toBe('0.7');
    const cnn = settings(resolveTrainConfig({ model: 'cnn' }));
    expect(cnn.map((s) => s.key)).not.toContain('hiddenUnits');
    const fast = settings(resolveTrainConfig({ model: 'cnn-fast', limit: 2000, threads: 2 }));
    expect(fast.map((s) => s.key)).toContain('hiddenUnits');
    expect(fast.map((s) => s.key)).not.toContain('learningRateDecay');
    expect(Object.fromEntries(fast.map((s) => [s.key, s.value]))).toMatchObject({
      schedule: 'one-cycle',
      labelSmoothing: '0.1',
      augment: '±2 px shifts',
      limit: '2,000',
      validationSize: '6,000',
      threads: '2',
    });
  });

  it('sums a run up in one line', () => {
    const r = withConfig(run('a'), { model: 'cnn-fast', limit: 2000 });
    expect(settingsSummary(r)).toBe(
      '4 ep · batch 128 · lr 0.01 one-cycle · 128 units · smoothing 0.1 · aug · 2k/6k img · seed 42',
    );
    const m = withConfig(run('b'), { model: 'mlp', epochs: 2, threads: 1 });
    expect(settingsSummary(m)).toBe(
      '2 ep · batch 32 · lr 0.002 ×0.7/ep · dropout 0.2 · 128 units · all/6k img · seed 42 · 1 thr',
    );
    expect(settingsSummary({ ...m, config: null })).toMatch(/unknown/);
  });

  it('sorts by any column, runs without a value last, ties in their order', () => {
    const runs = [
      withConfig(run('a', { createdAt: '2026-11-25T10:00:00Z' }), { model: 'mlp' }, 0.97),
      withConfig(run('b', { createdAt: '2026-11-25T12:00:00Z' }), { model: 'cnn' }, 0.99),
      withConfig(run('c', { createdAt: '2026-11-25T11:00:00Z' }), { model: 'cnn' }, null),
    ];
    const ids = (rs: RunInfo[]) => rs.map((r) => r.runId);
    expect(ids(sortRuns(runs, NEWEST_FIRST))).toEqual(['b', 'c', 'a']);
    expect(ids(sortRuns(runs, { key: 'run', descending: false }))).toEqual(['a', 'c', 'b']);
    expect(ids(sortRuns(runs, { key: 'bestValAccuracy', descending: true }))).toEqual([
      'b',
      'a',
      'c',
    ]);
    expect(ids(sortRuns(runs, { key: 'bestValAccuracy', descending: false }))).toEqual([
      'a',
      'b',
      'c',
    ]);
    expect(ids(sortRuns(runs, { key: 'model', descending: false }))).toEqual(['b', 'c', 'a']);
  });

  it('filters on every word, in labels, status and settings', () => {
    const runs = [
      withConfig(run('a'), { model: 'mlp' }),
      withConfig(run('b'), { model: 'cnn-fast', hiddenUnits: 64 }),
      { ...withConfig(run('c'), { model: 'cnn', augment: true }), status: 'failed' as const },
    ];
    const ids = (q: string) => filterRuns(runs, q).map((r) => r.runId);
    expect(ids('')).toEqual(['a', 'b', 'c']);
    expect(ids('one-cycle')).toEqual(['b']);
    expect(ids('cnn aug')).toEqual(['b', 'c']);
    expect(ids('FAILED')).toEqual(['c']);
    expect(ids('units')).toEqual(['a', 'b']);
    expect(ids('64 units')).toEqual(['b']);
    expect(ids('nothing-like-this')).toEqual([]);
  });
});
