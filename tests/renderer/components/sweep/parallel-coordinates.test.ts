import { cleanup, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import ParallelCoordinates from '../../../../src-renderer/src/components/sweep/ParallelCoordinates.svelte';
import ScoreVsParam from '../../../../src-renderer/src/components/sweep/ScoreVsParam.svelte';
import { spec, trial } from './sweep-fixtures';

afterEach(cleanup);

const params = ['batchSize', 'learningRate', 'dropout'];
const lines = () => screen.queryAllByTestId('pc-line');
/** The path's vertices as [x, y] pairs. */
const vertices = (d: string) =>
  [...d.matchAll(/[ML]([\d.]+) ([\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);

describe('ParallelCoordinates', () => {
  it('draws an axis per searched hyper-parameter plus accuracy, each with its scale', () => {
    render(ParallelCoordinates, { space: spec.space, params, trials: [], bestTrial: null });
    const axes = screen.getAllByTestId('pc-axis');
    expect(axes.map((a) => [a.getAttribute('data-axis'), a.getAttribute('data-scale')])).toEqual([
      ['batchSize', 'category'],
      ['learningRate', 'log'],
      ['dropout', 'linear'],
      ['valAccuracy', 'linear'],
    ]);
    // The log axis ticks decades; the choice axis each value.
    expect(axes[1]!.textContent).toMatch(/0\.0001.*0\.001.*0\.01/);
    expect(axes[0]!.textContent).toMatch(/32.*64.*128/);
    // No trials: axes and a word, no lines, and a description that says so.
    expect(lines()).toEqual([]);
    expect(screen.getByTestId('parallel-coordinates').textContent).toMatch(/No trials yet/);
    const svg = screen.getByRole('img');
    const [title, desc] = svg.getAttribute('aria-labelledby')!.split(' ');
    expect(document.getElementById(title!)!.textContent).toMatch(/Parallel coordinates/);
    expect(document.getElementById(desc!)!.textContent).toMatch(/No trials yet/);
  });

  it('draws one line per trial through every axis, placed on its scale', () => {
    const trials = [
      trial(1, { point: { batchSize: 32, learningRate: 1e-4, dropout: 0 }, valAccuracy: 0.9 }),
      trial(2, { point: { batchSize: 128, learningRate: 1e-2, dropout: 0.5 }, valAccuracy: 0.98 }),
    ];
    render(ParallelCoordinates, { space: spec.space, params, trials, bestTrial: 2 });
    expect(lines()).toHaveLength(2);
    const [low, high] = [1, 2].map((n) =>
      vertices(
        lines()
          .find((l) => l.getAttribute('data-trial') === String(n))!
          .getAttribute('d')!,
      ),
    );
    expect(low).toHaveLength(4);
    expect(high).toHaveLength(4);
    // Trial 1 sits at the bottom of every axis, trial 2 at the top; x steps axis by axis.
    const [bottom, top] = [low![0]![1]!, high![0]![1]!];
    expect(bottom).toBeGreaterThan(top);
    expect(low!.every(([, y]) => Math.abs(y! - bottom) < 12)).toBe(true);
    expect(high!.every(([, y]) => Math.abs(y! - top) < 12)).toBe(true);
    expect(new Set(low!.map(([x]) => x)).size).toBe(4);
    // A log axis puts 1e-3 halfway between 1e-4 and 1e-2.
    cleanup();
    render(ParallelCoordinates, {
      space: spec.space,
      params,
      trials: [trial(3, { point: { batchSize: 64, learningRate: 1e-3, dropout: 0.25 } })],
      bestTrial: null,
    });
    const mid = vertices(lines()[0]!.getAttribute('d')!);
    expect(mid[1]![1]).toBeCloseTo((top + bottom) / 2, 0);
    expect(mid[2]![1]).toBeCloseTo((top + bottom) / 2, 0);
  });

  it('dashes and fades pruned trials, ends unscored ones at the last setting, marks the best', () => {
    const trials = [
      trial(1, { status: 'pruned', valAccuracy: 0.5, reason: 'below the cut' }),
      trial(2, { status: 'pending' }),
      trial(3, { valAccuracy: 0.97 }),
    ];
    render(ParallelCoordinates, { space: spec.space, params, trials, bestTrial: 3 });
    const byTrial = (n: number) => lines().find((l) => l.getAttribute('data-trial') === String(n))!;
    expect(byTrial(1).getAttribute('stroke-dasharray')).toBe('4 3');
    expect(byTrial(1).classList.contains('faded')).toBe(true);
    expect(byTrial(3).getAttribute('stroke-dasharray')).toBeNull();
    expect(vertices(byTrial(2).getAttribute('d')!)).toHaveLength(3);
    expect(byTrial(3).classList.contains('best')).toBe(true);
    // Coloured by score: the pruned 50 % and the best 97 % differ.
    expect(byTrial(1).getAttribute('stroke')).not.toBe(byTrial(3).getAttribute('stroke'));
    // Drawn last, so nothing covers the best line.
    expect(lines().at(-1)).toBe(byTrial(3));
    expect(byTrial(1).textContent).toMatch(/Trial 1 \(pruned\)/);
  });

  it('handles a single trial', () => {
    render(ParallelCoordinates, { space: spec.space, params, trials: [trial(1)], bestTrial: 1 });
    expect(lines()).toHaveLength(1);
    expect(vertices(lines()[0]!.getAttribute('d')!)).toHaveLength(4);
    expect(screen.getByRole('img').textContent).toMatch(/1 trial across 3 hyper-parameters; best/);
  });
});

describe('ScoreVsParam', () => {
  it('draws a scatter per hyper-parameter with a point per scored trial', () => {
    const trials = [
      trial(1, { valAccuracy: 0.9 }),
      trial(2, { status: 'pruned', valAccuracy: 0.6 }),
      trial(3, { status: 'pending' }),
    ];
    render(ScoreVsParam, { space: spec.space, params, trials, bestTrial: 1 });
    for (const p of params) {
      const plot = screen.getByTestId(`score-vs-${p}`);
      const points = plot.querySelectorAll('[data-testid="score-point"]');
      expect([...points].map((c) => c.getAttribute('data-trial'))).toEqual(['1', '2']);
      // Pruned trials are hollow.
      expect(points[1]!.getAttribute('fill')).toBe('none');
      expect(points[0]!.getAttribute('fill')).not.toBe('none');
    }
  });

  it('draws empty plots with no trials', () => {
    render(ScoreVsParam, { space: spec.space, params, trials: [], bestTrial: null });
    expect(screen.getAllByRole('img')).toHaveLength(3);
    expect(screen.queryAllByTestId('score-point')).toEqual([]);
  });
});
