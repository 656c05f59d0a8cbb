import { describe, expect, it } from 'vitest';
import type { ClientRequest, ResumableSweep } from '$contract/api';
import { longerConfig, SweepState } from '../../../src-renderer/src/lib/sweep.svelte';
import { spec, sweep, trial } from '../components/sweep/sweep-fixtures';
import { fakeApi } from '../fixtures';

const stopped: ResumableSweep = {
  sweepId: 'sweep-0',
  status: 'stopped',
  trials: 2,
  createdAt: '2026-11-29T12:00:00.000Z',
};

function setup(answer: (r: ClientRequest) => unknown) {
  const fake = fakeApi(answer);
  const state = new SweepState(fake.api);
  fake.api.onEvent((e) => state.handle(e));
  return { ...fake, state };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('SweepState', () => {
  it('shows what the sweep events carry, the latest one winning', () => {
    const { state, emit } = setup(() => ({}));
    expect(state.sweep).toBeNull();
    emit({
      type: 'sweep',
      sweep: sweep({ trials: [trial(1, { status: 'running' })] }),
      error: null,
    });
    expect(state.running).toBe(true);
    emit({ type: 'sweep', sweep: sweep({ trials: [trial(1), trial(2)] }), error: null });
    expect(state.sweep?.trials.map((t) => t.status)).toEqual(['finished', 'finished']);
    // Other events are not the sweep's.
    emit({ type: 'finished', runId: 'run-1', epochs: 9 });
    expect(state.sweep?.trials).toHaveLength(2);
  });

  it('drops a deleted sweep from the resumable list, and from view when it was shown', async () => {
    const { state, emit } = setup((r) => {
      if (r.type === 'sweepStatus')
        return { sweep: sweep({ id: 'sweep-1' }), resumable: [stopped] };
      throw new Error(`unexpected ${r.type}`);
    });
    await state.sync();
    emit({ type: 'sweepDeleted', sweepId: 'sweep-0', runsDeleted: [] });
    expect(state.resumable).toEqual([]);
    expect(state.sweep?.id).toBe('sweep-1');
    emit({ type: 'sweepDeleted', sweepId: 'sweep-1', runsDeleted: ['run-1'] });
    expect(state.sweep).toBeNull();
  });

  it('keeps a newer view than the start answer, and drops the started sweep from resumable', async () => {
    const newer = sweep({ trials: [trial(1, { status: 'running' })] });
    const { state, emit, requests } = setup((r) => {
      if (r.type === 'sweepStatus') return { sweep: null, resumable: [stopped] };
      if (r.type === 'resumeSweep') {
        // The host sends the sweep's first views before it answers.
        emit({ type: 'sweep', sweep: newer, error: null });
        return sweep({ id: 'sweep-1', trials: [] });
      }
      throw new Error(`unexpected ${r.type}`);
    });
    await state.sync();
    expect(state.resumable).toEqual([stopped]);
    state.resumable = [stopped, { ...stopped, sweepId: 'sweep-1' }];
    await state.resume('sweep-1');
    expect(requests.at(-1)).toEqual({ type: 'resumeSweep', sweepId: 'sweep-1' });
    expect(state.sweep).toEqual(newer);
    expect(state.resumable).toEqual([stopped]);
    expect(state.starting).toBe(false);
  });

  it('says why a start was refused, and is not left starting', async () => {
    const { state } = setup(() => {
      throw new Error('run r-1 is training; stop it or let it finish before starting a sweep');
    });
    const started = state.start(spec);
    expect(state.starting).toBe(true);
    await started;
    expect(state.starting).toBe(false);
    expect(state.error).toBe(
      'Run r-1 is training; stop it or let it finish before starting a sweep',
    );
    expect(state.sweep).toBeNull();
  });

  it('is stopping until the sweep’s view says it has stopped, then lists it as resumable', async () => {
    const { state, emit, requests } = setup((r) => {
      if (r.type === 'stopSweep') return { stopping: true };
      if (r.type === 'sweepStatus')
        return { sweep: sweep({ status: 'stopped' }), resumable: [stopped] };
      throw new Error(`unexpected ${r.type}`);
    });
    await state.stop();
    expect(requests).toEqual([]);
    emit({ type: 'sweep', sweep: sweep({ status: 'running' }), error: null });
    await state.stop();
    expect(state.stopping).toBe(true);
    // A second press while stopping asks nothing more.
    await state.stop();
    expect(requests.map((r) => r.type)).toEqual(['stopSweep']);
    emit({ type: 'sweep', sweep: sweep({ status: 'stopped' }), error: null });
    expect(state.stopping).toBe(false);
    await tick();
    expect(requests.map((r) => r.type)).toEqual(['stopSweep', 'sweepStatus']);
    expect(state.resumable).toEqual([stopped]);
  });

  it('reports a sweep that failed on its own', () => {
    const { state, emit } = setup(() => ({}));
    emit({ type: 'sweep', sweep: sweep({ status: 'running' }), error: 'no space left on device' });
    expect(state.error).toBe('The sweep failed: no space left on device');
  });
});

describe('longerConfig', () => {
  it('trains the trial’s own configuration for twice its epochs, within the limit', () => {
    const t = trial(2);
    expect(longerConfig(t)).toEqual({ ...t.config, epochs: 18 });
    expect(longerConfig({ ...t, config: { ...t.config, epochs: 400 } }).epochs).toBe(500);
  });
});
