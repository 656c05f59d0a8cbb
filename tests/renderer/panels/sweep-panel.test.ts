import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import SweepPanel from '../../../src-renderer/src/panels/SweepPanel.svelte';
import { sweep, trial } from '../components/sweep/sweep-fixtures';

afterEach(cleanup);

const handlers = () => ({
  onStart: vi.fn(),
  onStop: vi.fn(),
  onRestore: vi.fn(),
  onTrainLonger: vi.fn(),
});

describe('SweepPanel', () => {
  it('shows Stop only while the sweep runs, and Start only when it does not', async () => {
    const on = handlers();
    const view = render(SweepPanel, { sweep: sweep({ status: 'running' }), ...on });
    const stop = screen.getByTestId('sweep-stop-button');
    expect((screen.getByTestId('sweep-start-button') as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.click(stop);
    expect(on.onStop).toHaveBeenCalledTimes(1);

    // Stopping: the button stays, says so, and a second press asks nothing more.
    await view.rerender({ sweep: sweep({ status: 'running' }), stopping: true, ...on });
    expect(screen.getByTestId('sweep-stop-button').textContent).toBe('Stopping…');
    await fireEvent.click(screen.getByTestId('sweep-stop-button'));
    expect(on.onStop).toHaveBeenCalledTimes(1);

    for (const status of ['stopped', 'finished'] as const) {
      await view.rerender({ sweep: sweep({ status }), ...on });
      expect(screen.queryByTestId('sweep-stop-button')).toBeNull();
      expect((screen.getByTestId('sweep-start-button') as HTMLButtonElement).disabled).toBe(false);
    }
    await view.rerender({ sweep: null, ...on });
    expect(screen.queryByTestId('sweep-stop-button')).toBeNull();
    expect(screen.getByTestId('sweep-empty')).toBeTruthy();
    expect(screen.queryByTestId('trials-table')).toBeNull();
  });

  it('shows the running sweep’s own settings in the form, read-only', () => {
    render(SweepPanel, { sweep: sweep({ status: 'running' }), ...handlers() });
    const value = (id: string) => (screen.getByTestId(id) as HTMLInputElement).value;
    // The fixture's sweep: 10 trials, epochs fixed at 9, batch size from a list.
    expect(value('sweep-trials-input')).toBe('10');
    expect(value('sweep-mode-epochs')).toBe('fixed');
    expect(value('sweep-epochs-fixed')).toBe('9');
    expect(value('sweep-batchSize-choices')).toBe('32, 64, 128');
    expect(
      (screen.getByTestId('sweep-epochs-fixed') as HTMLInputElement).closest('fieldset')!.disabled,
    ).toBe(true);
  });

  it('composes the table, plots and importance from the view, with the rung schedule', () => {
    const trials = [trial(1, { valAccuracy: 0.95 }), trial(2), trial(3, { status: 'running' })];
    render(SweepPanel, { sweep: sweep({ trials, bestTrial: 1 }), ...handlers() });
    const panel = screen.getByTestId('sweep-panel');
    expect(within(panel).getAllByTestId('trial-row')).toHaveLength(3);
    expect(within(panel).getAllByTestId('pc-line')).toHaveLength(3);
    expect(within(panel).getAllByTestId('pc-axis')).toHaveLength(4);
    expect(within(panel).getByTestId('hparam-importance').textContent).toMatch(
      /Needs \d+ finished trials \(2 so far\)/,
    );
    expect(screen.getByTestId('sweep-rungs').textContent).toBe(
      'Early stopping (ASHA): rung 1: epoch 1, top 1/3 go on · rung 2: epoch 3, top 1/3 go on · full: epoch 9',
    );
    expect(screen.getByTestId('sweep-status').textContent).toMatch(/3 of 10 trials/);
    expect(screen.getByTestId('sweep-best').textContent).toBe('best: trial 1 at 95.00 %');
  });

  it('has no rung line without early stopping, and shows the error it is given', () => {
    render(SweepPanel, { sweep: sweep({ rungs: [] }), error: 'the host is gone', ...handlers() });
    expect(screen.queryByTestId('sweep-rungs')).toBeNull();
    expect(screen.getByRole('alert').textContent).toBe('the host is gone');
  });

  it('passes the table’s actions and the form’s start out', async () => {
    const on = handlers();
    render(SweepPanel, {
      sweep: sweep({ status: 'finished', trials: [trial(1)], bestTrial: 1 }),
      ...on,
    });
    await fireEvent.click(screen.getByTestId('trial-restore-button'));
    expect(on.onRestore).toHaveBeenCalledWith('run-1', 1);
    await fireEvent.click(screen.getByTestId('trial-train-longer-button'));
    expect(on.onTrainLonger).toHaveBeenCalledWith(expect.objectContaining({ trial: 1 }));
    await fireEvent.click(screen.getByTestId('sweep-start-button'));
    expect(on.onStart).toHaveBeenCalledWith(expect.objectContaining({ preset: 'mlp' }));
  });

  it('offers to resume stopped and interrupted sweeps, unless one runs', async () => {
    const on = { ...handlers(), onResume: vi.fn() };
    const resumable = [
      { sweepId: 'sweep-a', status: 'interrupted' as const, trials: 3, createdAt: 'x' },
      { sweepId: 'sweep-b', status: 'stopped' as const, trials: 1, createdAt: 'x' },
    ];
    const view = render(SweepPanel, { sweep: null, resumable, ...on });
    const rows = screen.getAllByTestId('resumable-sweep');
    expect(rows.map((r) => r.textContent?.replace(/\s+/g, ' ').trim())).toEqual([
      'Sweep sweep-a interrupted (the app ended mid-sweep) · 3 trials Resume',
      'Sweep sweep-b stopped · 1 trial Resume',
    ]);
    await fireEvent.click(within(rows[1]!).getByTestId('sweep-resume-button'));
    expect(on.onResume).toHaveBeenCalledWith('sweep-b');
    await view.rerender({ sweep: sweep({ status: 'running' }), resumable, ...on });
    expect(screen.queryByTestId('resumable-sweeps')).toBeNull();
  });
});
