import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { flushSync } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ClientRequest } from '$contract/api';
import { resolveTrainConfig } from '$contract/config';
import type { RunInfo } from '$contract/messages';
import { modelSummary } from '$shared/model-summary';
import { CheckpointsState } from '../../../src-renderer/src/lib/checkpoints.svelte';
import { runColor } from '../../../src-renderer/src/lib/run-color';
import { TrainingState } from '../../../src-renderer/src/lib/training.svelte';
import CheckpointsPanel from '../../../src-renderer/src/panels/CheckpointsPanel.svelte';
import { sweep } from '../components/sweep/sweep-fixtures';
import { fakeApi, run, status, text } from '../fixtures';

// jsdom has no canvas: the comparison charts record the overlays they are given.
const overlays: { label: string; runs: string[] }[] = [];
vi.mock('../../../src-renderer/src/lib/charts', () => ({
  createMetricChart: (_c: unknown, options: { label: string }) => {
    const rec = { label: options.label, runs: [] as string[] };
    overlays.push(rec);
    return {
      addBatch: () => {},
      addEpoch: () => {},
      setSmoothing: () => {},
      setOverlays: (o: { label: string }[]) => (rec.runs = o.map((x) => x.label)),
      reset: () => {},
      counts: () => ({ batch: 0, epoch: 0, validation: 0 }),
      destroy: () => {},
    };
  },
}));

afterEach(() => {
  cleanup();
  overlays.length = 0;
});

async function setup(runs: RunInfo[], answer: (r: ClientRequest) => unknown = () => ({})) {
  let current = runs;
  const fake = fakeApi((r) => {
    if (r.type === 'listRuns') return { runs: current };
    if (r.type === 'status') return status();
    if (r.type === 'deleteRun')
      current = current.filter((x) => x.runId !== r.runId || r.epoch !== null);
    return answer(r);
  });
  const checkpoints = new CheckpointsState(fake.api, 1);
  fake.api.onEvent((e) => checkpoints.handle(e));
  const training = new TrainingState(fake.api);
  const onNavigate = vi.fn();
  render(CheckpointsPanel, { checkpoints, training, onNavigate });
  await checkpoints.sync();
  flushSync();
  return { ...fake, checkpoints, training, onNavigate, setRuns: (r: RunInfo[]) => (current = r) };
}

const rows = () => screen.getAllByTestId('run-row');
const settle = async () => {
  await new Promise((r) => setTimeout(r, 0));
  flushSync();
};

describe('Checkpoints panel', () => {
  it('lists runs newest first with status, epochs and best validation accuracy', async () => {
    await setup([
      run('20261125-120000-mlp-aaaa', { createdAt: '2026-11-25T12:00:00Z', status: 'running' }),
      run('20261125-110000-mlp-bbbb', { createdAt: '2026-11-25T11:00:00Z', epochs: 4 }),
    ]);
    expect(rows().map((r) => r.dataset.runId)).toEqual([
      '20261125-120000-mlp-aaaa',
      '20261125-110000-mlp-bbbb',
    ]);
    const second = within(rows()[1]!);
    expect(second.getByTestId('run-status').textContent).toBe('finished');
    expect(text(rows()[1]!)).toMatch(/4 \/ 4 epochs · best val 94\.00 %/);
    expect(text(screen.getByTestId('model-in-use'))).toMatch(
      /20261125-110000-mlp-bbbb.*epoch 4.*best validation accuracy of the finished runs/,
    );
  });

  it('shows a run that failed for lack of disk space as failed, with the reason', async () => {
    const reason =
      'disk full (ENOSPC) while saving the checkpoint of epoch 3; free some space and resume';
    await setup([{ ...run('r-full', { status: 'failed', epochs: 2 }), reason }]);
    const chip = screen.getByTestId('run-status');
    expect(chip.textContent).toBe('failed');
    expect(chip.classList.contains('failed')).toBe(true);
    expect(chip.getAttribute('title')).toBe(reason);
    expect(text(rows()[0]!)).toContain(reason);
  });

  it('expands a run to its epochs; a damaged one shows its reason and cannot be restored', async () => {
    await setup([
      run('r1', { damaged: { 2: 'weights.bin is 10 bytes, expected 409640 (truncated)' } }),
    ]);
    await fireEvent.click(screen.getByTestId('expand-button'));
    const cps = screen.getAllByTestId('checkpoint-row');
    expect(cps.map((r) => r.dataset.status)).toEqual(['ok', 'damaged', 'ok']);
    expect(text(within(cps[1]!).getByTestId('damaged-reason'))).toMatch(/truncated/);
    expect((within(cps[1]!).getByTestId('restore-button') as HTMLButtonElement).disabled).toBe(
      true,
    );
    expect((within(cps[1]!).getByTestId('resume-button') as HTMLButtonElement).disabled).toBe(true);
    expect((within(cps[0]!).getByTestId('restore-button') as HTMLButtonElement).disabled).toBe(
      false,
    );
  });

  it('exports a checkpoint through its row’s dialog, never one that is damaged', async () => {
    const { requests } = await setup(
      [run('r1', { damaged: { 2: 'weights.bin is 10 bytes, expected 409640 (truncated)' } })],
      (r) => (r.type === 'exportCheckpoint' ? { status: 'cancelled' } : {}),
    );
    await fireEvent.click(screen.getByTestId('expand-button'));
    const cps = screen.getAllByTestId('checkpoint-row');
    expect((within(cps[1]!).getByTestId('export-button') as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.click(within(cps[2]!).getByTestId('export-button'));
    await settle();
    const dialog = screen.getByTestId('export-dialog') as HTMLDialogElement;
    expect(dialog.open).toBe(true);
    expect(text(dialog)).toMatch(/Export epoch 3 of/);
    await fireEvent.click(within(dialog).getByTestId('export-format-onnx'));
    await fireEvent.click(within(dialog).getByTestId('confirm-export-button'));
    await settle();
    expect(requests).toContainEqual({
      type: 'exportCheckpoint',
      runId: 'r1',
      epoch: 3,
      format: 'onnx',
      withOptimizer: false,
    });
    expect(text(within(dialog).getByTestId('export-result'))).toMatch(/Nothing was saved/);
  });

  it('restores a checkpoint and shows it as the model in use', async () => {
    const { requests } = await setup([run('r1')], (r) =>
      r.type === 'restore' ? { runId: 'r1', epoch: 1, model: 'mlp', metrics: null } : {},
    );
    await fireEvent.click(screen.getByTestId('expand-button'));
    await fireEvent.click(
      within(screen.getAllByTestId('checkpoint-row')[0]!).getByTestId('restore-button'),
    );
    await settle();
    expect(requests).toContainEqual({ type: 'restore', runId: 'r1', epoch: 1 });
    expect(text(screen.getByTestId('model-in-use'))).toMatch(/r1.*epoch 1.*restored/);
    expect(
      within(screen.getAllByTestId('checkpoint-row')[0]!).getByTestId('restore-button').textContent,
    ).toBe('Restored');
  });

  it('deletes a run only after confirmation', async () => {
    const { requests } = await setup([run('keep'), run('doomed')]);
    const doomed = rows().find((r) => r.dataset.runId === 'doomed')!;
    await fireEvent.click(within(doomed).getByTestId('delete-button'));
    expect(requests.some((r) => r.type === 'deleteRun')).toBe(false);
    const dialog = screen.getByTestId('confirm-dialog') as HTMLDialogElement;
    expect(dialog.open).toBe(true);
    expect(text(dialog)).toMatch(/Run doomed and its 3 checkpoints will be removed/);
    // Cancel first: nothing is deleted.
    await fireEvent.click(within(dialog).getByText('Cancel'));
    expect(requests.some((r) => r.type === 'deleteRun')).toBe(false);
    await fireEvent.click(within(doomed).getByTestId('delete-button'));
    await fireEvent.click(screen.getByTestId('confirm-delete-button'));
    await settle();
    expect(requests).toContainEqual({ type: 'deleteRun', runId: 'doomed', epoch: null });
    expect(rows().map((r) => r.dataset.runId)).toEqual(['keep']);
  });

  it('says so before deleting the model in use, and what drawing and evaluation use instead', async () => {
    await setup([run('best', { epochs: 3 }), run('other', { epochs: 2 })]);
    const best = rows().find((r) => r.dataset.runId === 'best')!;
    await fireEvent.click(within(best).getByTestId('delete-button'));
    const dialog = screen.getByTestId('confirm-dialog') as HTMLDialogElement;
    expect(text(screen.getByTestId('delete-in-use'))).toMatch(
      /holds the model drawing and evaluation use \(run best, epoch 3\)\. Afterwards they use run other, epoch 2/,
    );
    await fireEvent.click(within(dialog).getByText('Cancel'));
    // Deleting a run not in use says nothing of the sort.
    const other = rows().find((r) => r.dataset.runId === 'other')!;
    await fireEvent.click(within(other).getByTestId('delete-button'));
    expect(screen.queryByTestId('delete-in-use')).toBeNull();
  });

  it('resumes from an earlier checkpoint as a new run, asking how far to train', async () => {
    const { requests, onNavigate } = await setup([run('r1', { epochs: 3 })], (r) =>
      r.type === 'resume' ? { runId: 'r1-branch', branchedFrom: { runId: 'r1', epoch: 1 } } : {},
    );
    await fireEvent.click(screen.getByTestId('expand-button'));
    await fireEvent.click(
      within(screen.getAllByTestId('checkpoint-row')[0]!).getByTestId('resume-button'),
    );
    await settle();
    const dialog = screen.getByTestId('resume-dialog') as HTMLDialogElement;
    expect(dialog.open).toBe(true);
    expect(text(dialog)).toMatch(/new run/);
    const input = screen.getByTestId('resume-epochs-input') as HTMLInputElement;
    expect(input.value).toBe('3');
    await fireEvent.input(input, { target: { value: '1' } });
    expect((screen.getByTestId('confirm-resume-button') as HTMLButtonElement).disabled).toBe(true);
    expect(text(dialog)).toMatch(/from 2 to 500/);
    await fireEvent.input(input, { target: { value: '6' } });
    await fireEvent.click(screen.getByTestId('confirm-resume-button'));
    await settle();
    expect(requests).toContainEqual({ type: 'resume', runId: 'r1', epoch: 1, epochs: 6 });
    expect(onNavigate).toHaveBeenCalledWith('train');
  });

  it('shows why a resume failed and stays on the panel', async () => {
    const { onNavigate } = await setup([run('r1')], (r) => {
      if (r.type === 'resume') throw new Error('run r1 is already training; stop it first');
      return {};
    });
    await fireEvent.click(screen.getByTestId('expand-button'));
    await fireEvent.click(
      within(screen.getAllByTestId('checkpoint-row')[2]!).getByTestId('resume-button'),
    );
    await settle();
    await fireEvent.click(screen.getByTestId('confirm-resume-button'));
    await settle();
    expect(text(screen.getByTestId('checkpoints-error'))).toMatch(/already training/);
    expect(onNavigate).not.toHaveBeenCalled();
  });

  it('overlays the ticked runs on comparison charts', async () => {
    await setup([run('a', { createdAt: '2026-11-25T12:00:00Z' }), run('b')]);
    expect(screen.queryByTestId('compare-charts')).toBeNull();
    const toggles = screen.getAllByTestId('compare-toggle');
    await fireEvent.click(toggles[0]!);
    await fireEvent.click(toggles[1]!);
    await settle();
    expect(screen.getByTestId('compare-charts')).toBeTruthy();
    expect(overlays.map((o) => [o.label, o.runs.length])).toEqual([
      ['Loss', 2],
      ['Accuracy', 2],
    ]);
    // Each row's swatch is its run's colour, the one its curves are drawn in.
    for (const row of rows())
      expect(row.querySelector('.swatch')!.getAttribute('data-color')).toBe(
        runColor(row.dataset.runId!),
      );
  });

  it('tells runs apart: settings on each row and in full, a filter, a sort and a table', async () => {
    const cnn = {
      ...run('cnn-run', { epochs: 2, createdAt: '2026-11-25T12:00:00Z' }),
      model: 'cnn-fast',
      config: resolveTrainConfig({ model: 'cnn-fast', epochs: 2, limit: 2000 }),
      bestValAccuracy: 0.99,
    };
    await setup([cnn, run('mlp-run', { epochs: 3 })]);
    const row = (id: string) => rows().find((r) => r.dataset.runId === id)!;
    expect(text(within(row('cnn-run')).getByTestId('run-settings'))).toMatch(
      /cnn-fast · 2 ep · batch 128 · lr 0\.01 one-cycle · 128 units · smoothing 0\.1 · aug · 2k\/6k img/,
    );
    expect(text(within(row('mlp-run')).getByTestId('run-settings'))).toMatch(
      /mlp · 3 ep · batch 32 · lr 0\.002/,
    );
    await fireEvent.click(within(row('mlp-run')).getByTestId('expand-button'));
    expect(text(within(row('mlp-run')).getByTestId('run-settings-full'))).toMatch(
      /Hidden units 128.*Seed 42.*Threads auto/,
    );
    // Its model as Keras' model.summary() would print it, only once the run is expanded.
    expect(within(row('mlp-run')).getByTestId('model-summary-total').textContent).toBe('101,770');
    expect(within(row('cnn-run')).queryByTestId('model-summary')).toBeNull();
    await fireEvent.click(within(row('cnn-run')).getByTestId('expand-button'));
    expect(within(row('cnn-run')).getByTestId('model-summary-total').textContent).toBe(
      modelSummary(cnn.config).total.toLocaleString('en-US'),
    );

    await fireEvent.input(screen.getByTestId('runs-filter'), { target: { value: 'one-cycle' } });
    expect(rows().map((r) => r.dataset.runId)).toEqual(['cnn-run']);
    expect(text(screen.getByTestId('runs-shown'))).toBe('1 of 2 runs');
    await fireEvent.input(screen.getByTestId('runs-filter'), { target: { value: '' } });

    // Newest first by default; oldest first on request.
    expect(rows().map((r) => r.dataset.runId)).toEqual(['cnn-run', 'mlp-run']);
    await fireEvent.change(screen.getByTestId('runs-sort'), { target: { value: '1' } });
    expect(rows().map((r) => r.dataset.runId)).toEqual(['mlp-run', 'cnn-run']);

    await fireEvent.click(screen.getByTestId('view-table'));
    const table = screen.getByTestId('runs-table');
    const tableIds = () =>
      within(table)
        .getAllByTestId('runs-table-row')
        .map((r) => r.dataset.runId);
    expect(tableIds()).toEqual(['mlp-run', 'cnn-run']);
    await fireEvent.click(within(table).getByTestId('sort-bestValAccuracy'));
    expect(tableIds()).toEqual(['cnn-run', 'mlp-run']);
    expect(
      within(table).getByTestId('sort-bestValAccuracy').closest('th')!.getAttribute('aria-sort'),
    ).toBe('descending');
    await fireEvent.click(within(table).getByTestId('sort-batchSize'));
    expect(tableIds()).toEqual(['cnn-run', 'mlp-run']);
    await fireEvent.click(within(table).getByTestId('sort-batchSize'));
    expect(tableIds()).toEqual(['mlp-run', 'cnn-run']);
  });

  it('names a run in place (Enter saves, Escape cancels) and shows its test results', async () => {
    const evaluated = {
      ...run('r1', { epochs: 3 }),
      evaluations: [
        { epoch: 2, accuracy: 0.981, loss: 0.06, at: '2026-11-30T09:00:00Z' },
        { epoch: 3, accuracy: 0.9765, loss: 0.07, at: '2026-11-30T09:01:00Z' },
      ],
    };
    const { requests, setRuns } = await setup([evaluated]);
    expect(text(screen.getByTestId('run-test')).trim()).toBe('· test 98.10 % (epoch 2)');
    await fireEvent.click(screen.getByTestId('expand-button'));
    expect(screen.getAllByTestId('checkpoint-test').map((c) => c.textContent)).toEqual([
      '–',
      '98.10 %',
      '97.65 %',
    ]);

    await fireEvent.click(screen.getByTestId('rename-button'));
    const input = screen.getByTestId('rename-input') as HTMLInputElement;
    await fireEvent.input(input, { target: { value: 'first try' } });
    await fireEvent.keyDown(input, { key: 'Escape' });
    expect(requests.some((r) => r.type === 'renameRun')).toBe(false);
    expect(screen.queryByTestId('rename-input')).toBeNull();

    await fireEvent.click(screen.getByTestId('rename-button'));
    const again = screen.getByTestId('rename-input') as HTMLInputElement;
    await fireEvent.input(again, { target: { value: 'baseline, lr 2e-3' } });
    setRuns([{ ...evaluated, name: 'baseline, lr 2e-3' }]);
    await fireEvent.keyDown(again, { key: 'Enter' });
    await settle();
    expect(requests).toContainEqual({ type: 'renameRun', runId: 'r1', name: 'baseline, lr 2e-3' });
    expect(screen.getByTestId('run-name').textContent).toBe('baseline, lr 2e-3');
    // The name is what the filter finds it by, too.
    await fireEvent.input(screen.getByTestId('runs-filter'), { target: { value: 'baseline' } });
    expect(rows()).toHaveLength(1);
  });

  it('updates live when a run writes a checkpoint', async () => {
    const { emit, setRuns } = await setup([run('live', { status: 'running', epochs: 1 })]);
    expect(text(rows()[0]!)).toMatch(/running.* 1 \/ 1 epoch · /);
    setRuns([run('live', { status: 'finished', epochs: 2 })]);
    emit({ type: 'checkpoint', runId: 'live', epoch: 2, path: '/x' });
    await new Promise((r) => setTimeout(r, 20));
    flushSync();
    expect(text(rows()[0]!)).toMatch(/finished.* 2 \/ 2 epochs/);
  });

  it('groups a sweep’s trial runs under the sweep, collapsed until opened', async () => {
    const trialRun = (id: string, trial: number, at: string, sweepId = 'sweep-x') => ({
      ...run(id, { createdAt: at }),
      sweep: { id: sweepId, trial },
    });
    const { emit, requests } = await setup([
      run('plain-new', { createdAt: '2026-11-25T14:00:00Z' }),
      trialRun('trial-2', 2, '2026-11-25T13:00:00Z'),
      run('plain-mid', { createdAt: '2026-11-25T12:30:00Z' }),
      trialRun('trial-1', 1, '2026-11-25T12:00:00Z'),
      // A rerun of trial 1 after a resume: one more run, not one more trial.
      trialRun('trial-1-again', 1, '2026-11-25T11:00:00Z'),
      trialRun('other-1', 1, '2026-11-25T10:00:00Z', 'sweep-y'),
    ]);
    const list = screen.getByTestId('checkpoint-list');
    // The group sits where its newest run would: plain runs keep their places around it.
    const top = [...list.children].map((li) =>
      li.getAttribute('data-testid') === 'sweep-group'
        ? `sweep ${li.getAttribute('data-sweep')}`
        : li.getAttribute('data-run-id'),
    );
    expect(top).toEqual(['plain-new', 'sweep sweep-x', 'plain-mid', 'sweep sweep-y']);
    const groups = screen.getAllByTestId('sweep-group');
    expect(groups.map((g) => text(within(g).getByTestId('sweep-group-count')))).toEqual([
      '2 trials (3 runs)',
      '1 trial',
    ]);
    expect(rows()).toHaveLength(2);

    const toggle = within(groups[0]!).getByTestId('sweep-group-toggle');
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    await fireEvent.click(toggle);
    expect(toggle.getAttribute('aria-expanded')).toBe('true');
    expect(
      within(groups[0]!)
        .getAllByTestId('run-row')
        .map((r) => r.getAttribute('data-run-id')),
    ).toEqual(['trial-2', 'trial-1', 'trial-1-again']);
    // A trial run is an ordinary run inside: it expands to its checkpoints like any other.
    await fireEvent.click(within(groups[0]!).getAllByTestId('expand-button')[0]!);
    expect(within(groups[0]!).getAllByTestId('checkpoint-row').length).toBeGreaterThan(0);
    await fireEvent.click(toggle);
    expect(rows()).toHaveLength(2);

    // A filter opens the groups it finds runs in; the sweep's id finds its runs.
    await fireEvent.input(screen.getByTestId('runs-filter'), { target: { value: 'sweep-y' } });
    expect(screen.getAllByTestId('sweep-group')).toHaveLength(1);
    expect(rows().map((r) => r.getAttribute('data-run-id'))).toEqual(['other-1']);

    // The sweep's views stand for its trials' events: the list follows them.
    const before = requests.filter((r) => r.type === 'listRuns').length;
    emit({ type: 'sweep', sweep: sweep(), error: null });
    await new Promise((r) => setTimeout(r, 20));
    expect(requests.filter((r) => r.type === 'listRuns').length).toBe(before + 1);
  });

  it('deletes a sweep from its group after confirmation, its trial runs too unless unticked', async () => {
    const trialRun = (id: string, trial: number, sweepId: string) => ({
      ...run(id),
      sweep: { id: sweepId, trial },
    });
    const fixtures = [
      run('plain'),
      trialRun('x-1', 1, 'sweep-x'),
      trialRun('x-2', 2, 'sweep-x'),
      trialRun('y-1', 1, 'sweep-y'),
    ];
    let answer: (r: ClientRequest) => unknown = () => ({});
    const { requests, setRuns, checkpoints } = await setup(fixtures, (r) => answer(r));
    const group = (id: string) =>
      screen.getAllByTestId('sweep-group').find((g) => g.dataset.sweep === id)!;
    const dialog = screen.getByTestId('sweep-delete-dialog') as HTMLDialogElement;
    const deletes = () => requests.filter((r) => r.type === 'deleteSweep');

    await fireEvent.click(within(group('sweep-x')).getByTestId('sweep-delete-button'));
    await settle();
    expect(dialog.open).toBe(true);
    expect(text(dialog)).toMatch(/Delete sweep sweep-x\?/);
    expect(text(dialog)).toMatch(/Also delete its 2 trial runs/);
    const box = within(dialog).getByTestId('sweep-delete-runs') as HTMLInputElement;
    expect(box.checked).toBe(true);
    // Cancel: nothing is asked of the host.
    await fireEvent.click(within(dialog).getByText('Cancel'));
    expect(deletes()).toEqual([]);

    // With its runs (the default): the group and its runs leave the refreshed list.
    answer = (r) => {
      if (r.type !== 'deleteSweep') return {};
      setRuns(fixtures.filter((x) => x.sweep?.id !== 'sweep-x'));
      return { sweepId: r.sweepId, runsDeleted: ['x-1', 'x-2'] };
    };
    await fireEvent.click(within(group('sweep-x')).getByTestId('sweep-delete-button'));
    await settle();
    await fireEvent.click(screen.getByTestId('confirm-sweep-delete-button'));
    await settle();
    expect(deletes()).toEqual([{ type: 'deleteSweep', sweepId: 'sweep-x', runs: true }]);
    expect(screen.getAllByTestId('sweep-group').map((g) => g.dataset.sweep)).toEqual(['sweep-y']);

    // Unticked: the sweep goes, its run is asked to stay. A refusal shows the host's words.
    answer = (r) => {
      if (r.type === 'deleteSweep') throw new Error('sweep sweep-y is running; stop it first');
      return {};
    };
    await fireEvent.click(within(group('sweep-y')).getByTestId('sweep-delete-button'));
    await settle();
    expect(text(dialog)).toMatch(/Also delete its 1 trial run\b/);
    await fireEvent.click(within(dialog).getByTestId('sweep-delete-runs'));
    await fireEvent.click(screen.getByTestId('confirm-sweep-delete-button'));
    await settle();
    expect(deletes()[1]).toEqual({ type: 'deleteSweep', sweepId: 'sweep-y', runs: false });
    expect(checkpoints.error).toBe('Sweep sweep-y is running; stop it first');
    expect(text(screen.getByTestId('checkpoints-error'))).toMatch(/stop it first/);
  });
});
