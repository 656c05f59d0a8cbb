import { describe, expect, it } from 'vitest';
import type { ClientRequest } from '$contract/api';
import type { RunInfo } from '$contract/messages';
import { CheckpointsState } from '../../../src-renderer/src/lib/checkpoints.svelte';
import { fakeApi, run, status } from '../fixtures';

const restoredOf = (runId: string, epoch: number) => ({
  runId,
  epoch,
  model: 'mlp',
  metrics: null,
});

function setup(runs: RunInfo[], restored: ReturnType<typeof restoredOf> | null = null) {
  let current = runs;
  const fake = fakeApi((r: ClientRequest) => {
    if (r.type === 'listRuns') return { runs: current };
    if (r.type === 'status') return status(restored);
    if (r.type === 'restore') return restoredOf(r.runId, r.epoch ?? 1);
    if (r.type === 'deleteRun') {
      current = current.filter((x) => x.runId !== r.runId);
      return { runId: r.runId, epoch: r.epoch };
    }
    if (r.type === 'resume') return { runId: 'branch', branchedFrom: null };
    throw new Error(`unexpected ${r.type}`);
  });
  const state = new CheckpointsState(fake.api, 5);
  fake.api.onEvent((e) => state.handle(e));
  return {
    ...fake,
    state,
    setRuns: (r: RunInfo[]) => (current = r),
  };
}

describe('CheckpointsState: the model the Draw and Evaluate panels use', () => {
  it('defaults to the finished runs’ best valid checkpoint, the newest run’s on a tie', async () => {
    const { state } = setup([
      run('running-one', { status: 'running' }),
      run('newest-finished', { epochs: 4, damaged: { 4: 'weights.bin is missing' } }),
      run('older-finished'),
    ]);
    await state.sync();
    expect(state.model).toMatchObject({ runId: 'newest-finished', epoch: 3, source: 'best' });
  });

  it('prefers a better older run to a worse newer one, and says what a delete leaves', async () => {
    // The fixtures' validation accuracy grows with the epoch: 3 epochs beat 1.
    const { state } = setup([run('quick-new', { epochs: 1 }), run('better-old', { epochs: 3 })]);
    await state.sync();
    expect(state.model).toMatchObject({ runId: 'better-old', epoch: 3, source: 'best' });
    expect(state.modelAfter({ runId: 'better-old', epoch: 3 })).toMatchObject({
      runId: 'better-old',
      epoch: 2,
    });
    expect(state.modelAfter({ runId: 'better-old', epoch: null })).toMatchObject({
      runId: 'quick-new',
      epoch: 1,
    });
    // Deleting something else leaves the model in use alone.
    expect(state.modelAfter({ runId: 'quick-new', epoch: null })).toMatchObject({
      runId: 'better-old',
      epoch: 3,
    });
  });

  it('is null when no run has finished', async () => {
    const { state } = setup([run('stopped', { status: 'stopped' })]);
    await state.sync();
    expect(state.model).toBeNull();
  });

  it('prefers the restored checkpoint, from the host after a reload', async () => {
    const { state } = setup([run('a'), run('b')], restoredOf('b', 2));
    await state.sync();
    expect(state.model).toMatchObject({ runId: 'b', epoch: 2, source: 'restored' });
  });

  it('falls back when the restored checkpoint was deleted or damaged on disk', async () => {
    const { state } = setup(
      [run('a'), run('b', { damaged: { 2: 'bad JSON' } })],
      restoredOf('b', 2),
    );
    await state.sync();
    expect(state.model).toMatchObject({ runId: 'a', source: 'best' });
  });

  it('restores, and forgets the restore when that run is deleted', async () => {
    const { state, requests } = setup([run('a'), run('b')]);
    await state.sync();
    expect(await state.restore('b', 1)).toBe(true);
    expect(state.model).toMatchObject({ runId: 'b', epoch: 1, source: 'restored' });
    await state.remove('b', null);
    expect(requests.at(-2)).toEqual({ type: 'deleteRun', runId: 'b', epoch: null });
    expect(state.restored).toBeNull();
    expect(state.runs.map((r) => r.runId)).toEqual(['a']);
  });
});

describe('CheckpointsState: listing', () => {
  it('refreshes once per burst of events, and never two listings at once', async () => {
    const { state, requests, emit } = setup([run('a')]);
    await state.sync();
    const before = requests.filter((r) => r.type === 'listRuns').length;
    emit({ type: 'epoch', runId: 'a', ...run('a').history[0]! });
    emit({ type: 'checkpoint', runId: 'a', epoch: 1, path: '/x' });
    emit({
      type: 'batch',
      runId: 'a',
      epoch: 1,
      batch: 1,
      batches: 9,
      loss: 1,
      accuracy: 0,
      recentLoss: 1,
      recentAccuracy: 0,
    });
    emit({ type: 'finished', runId: 'a', epochs: 1 });
    await new Promise((r) => setTimeout(r, 40));
    expect(requests.filter((r) => r.type === 'listRuns').length).toBe(before + 1);
    const parallel = [state.refresh(), state.refresh(), state.refresh()];
    await Promise.all(parallel);
    // The first runs now; the other two ask for one more listing after it, not two.
    expect(requests.filter((r) => r.type === 'listRuns').length).toBe(before + 3);
  });

  it('reports a failed listing and keeps what it had', async () => {
    const { state, api } = setup([run('a')]);
    await state.sync();
    (api.request as unknown as { mockRejectedValueOnce(e: Error): void }).mockRejectedValueOnce(
      new Error('lost the connection'),
    );
    await state.refresh();
    expect(state.error).toMatch(/lost the connection/);
    expect(state.runs).toHaveLength(1);
  });

  it('drops a compared run once it is gone', async () => {
    const { state, setRuns } = setup([run('a'), run('b')]);
    await state.sync();
    state.toggleCompared('a');
    state.toggleCompared('b');
    setRuns([run('b')]);
    await state.refresh();
    expect(state.compared).toEqual(['b']);
  });

  it('keeps the ticks over a reload of the page, dropping runs that are gone', async () => {
    const first = setup([run('a'), run('b'), run('c')]);
    await first.state.sync();
    first.state.toggleCompared('a');
    first.state.toggleCompared('c');
    // A reloaded page: a new state over the same window storage; run c was deleted meanwhile.
    const reloaded = setup([run('a'), run('b')]);
    expect(reloaded.state.compared).toEqual(['a', 'c']);
    await reloaded.state.sync();
    expect(reloaded.state.compared).toEqual(['a']);
    // Whatever else is in that storage entry reads as no ticks.
    localStorage.setItem('mnist-studio.compared', '{"not": "a list"');
    expect(setup([run('a')]).state.compared).toEqual([]);
  });
});
