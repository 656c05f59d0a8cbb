import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import TrialsTable from '../../../../src-renderer/src/components/sweep/TrialsTable.svelte';
import { trial } from './sweep-fixtures';

afterEach(cleanup);

const params = ['batchSize', 'learningRate', 'dropout'];
const order = () =>
  screen.getAllByTestId('trial-row').map((r) => Number(r.getAttribute('data-trial')));
const header = (key: string) => screen.getByTestId(`trial-sort-${key}`).closest('th')!;

const trials = [
  trial(1, { valAccuracy: 0.95, seconds: 30 }),
  trial(2, {
    status: 'pruned',
    valAccuracy: 0.6,
    epochsDone: 1,
    reason: 'val accuracy 0.600 at epoch 1 below rung-1 cut 0.900 (top 1/3 of 3)',
  }),
  trial(3, { valAccuracy: 0.98, bestEpoch: 2, seconds: 10 }),
  trial(4, { status: 'running', valAccuracy: 0.97, epochsDone: 4 }),
  trial(5, { status: 'pending' }),
];

describe('TrialsTable', () => {
  it('sorts by any column, both ways, saying so with aria-sort; missing values go last', async () => {
    render(TrialsTable, {
      trials,
      params,
      bestTrial: 3,
      onRestore: vi.fn(),
      onTrainLonger: vi.fn(),
    });
    expect(order()).toEqual([1, 2, 3, 4, 5]);
    expect(header('trial').getAttribute('aria-sort')).toBe('ascending');
    expect(header('valAccuracy').getAttribute('aria-sort')).toBe('none');

    await fireEvent.click(screen.getByTestId('trial-sort-valAccuracy'));
    expect(order()).toEqual([3, 4, 1, 2, 5]);
    expect(header('valAccuracy').getAttribute('aria-sort')).toBe('descending');
    expect(header('trial').getAttribute('aria-sort')).toBe('none');
    await fireEvent.click(screen.getByTestId('trial-sort-valAccuracy'));
    expect(order()).toEqual([2, 1, 4, 3, 5]);
    expect(header('valAccuracy').getAttribute('aria-sort')).toBe('ascending');

    // A setting's column: trial n has batch size [32, 64, 128][n % 3].
    await fireEvent.click(screen.getByTestId('trial-sort-param:batchSize'));
    expect(order()).toEqual([2, 5, 1, 4, 3]);
    await fireEvent.click(screen.getByTestId('trial-sort-seconds'));
    expect(order().slice(0, 2)).toEqual([4, 2]);
  });

  it('sorts from the keyboard: the headers are buttons', async () => {
    render(TrialsTable, {
      trials,
      params,
      bestTrial: 3,
      onRestore: vi.fn(),
      onTrainLonger: vi.fn(),
    });
    const button = screen.getByTestId('trial-sort-status');
    expect(button.tagName).toBe('BUTTON');
    button.focus();
    expect(document.activeElement).toBe(button);
    // Enter or Space on a focused button clicks it in a browser; jsdom only has the click.
    await fireEvent.click(button);
    expect(header('status').getAttribute('aria-sort')).toBe('descending');
    expect(order()[0]).toBe(2);
  });

  it('marks the best trial and offers restore and train-longer on finished ones only', async () => {
    const onRestore = vi.fn();
    const onTrainLonger = vi.fn();
    render(TrialsTable, { trials, params, bestTrial: 3, onRestore, onTrainLonger });
    const rows = screen.getAllByTestId('trial-row');
    const best = rows.filter((r) => r.getAttribute('data-best') === 'true');
    expect(best.map((r) => r.getAttribute('data-trial'))).toEqual(['3']);
    expect(best[0]!.classList.contains('best')).toBe(true);
    expect(within(best[0]!).getByTestId('best-trial-mark').textContent).toMatch(/best trial/);

    const withActions = rows
      .filter((r) => within(r).queryByTestId('trial-restore-button'))
      .map((r) => r.getAttribute('data-trial'));
    expect(withActions).toEqual(['1', '3']);
    const restoreBest = within(best[0]!).getByTestId('trial-restore-button');
    expect(restoreBest.textContent).toBe('Restore best');
    await fireEvent.click(restoreBest);
    expect(onRestore).toHaveBeenCalledWith('run-3', 2);
    await fireEvent.click(within(best[0]!).getByTestId('trial-train-longer-button'));
    expect(onTrainLonger).toHaveBeenCalledWith(trials[2]);
    const other = rows.find((r) => r.getAttribute('data-trial') === '1')!;
    expect(within(other).getByTestId('trial-restore-button').textContent).toBe('Restore');
  });

  it('shows why a trial was pruned on its status, and each setting as text', () => {
    render(TrialsTable, {
      trials,
      params,
      bestTrial: null,
      onRestore: vi.fn(),
      onTrainLonger: vi.fn(),
    });
    const pruned = screen.getAllByTestId('trial-row')[1]!;
    const status = within(pruned).getByTestId('trial-status');
    expect(status.getAttribute('title')).toMatch(/below rung-1 cut 0.900/);
    expect(status.textContent).toMatch(/^pruned: val accuracy 0.600/);
    expect(pruned.querySelector('[data-column="param:learningRate"]')!.textContent).toBe('0.01');
    expect(pruned.querySelector('[data-column="epochs"]')!.textContent).toBe('1 / 9');
    expect(screen.queryAllByTestId('best-trial-mark')).toEqual([]);
  });

  it('says so when there are no trials', () => {
    render(TrialsTable, {
      trials: [],
      params,
      bestTrial: null,
      onRestore: vi.fn(),
      onTrainLonger: vi.fn(),
    });
    expect(screen.getByTestId('trials-table').textContent).toMatch(/No trials yet/);
    expect(screen.queryAllByTestId('trial-row')).toEqual([]);
  });
});
