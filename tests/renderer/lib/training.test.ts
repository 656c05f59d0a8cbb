import { afterEach, describe, expect, it, vi } from 'vitest';
import { PRESET_DEFAULTS } from '$contract/config';
import { TrainingState } from '../../../src-renderer/src/lib/training.svelte';
import { fakeApi, metrics } from '../fixtures';

describe('TrainingState', () => {
  afterEach(() => vi.useRealTimers());

  it('times the run and keeps its best validation accuracy', () => {
    const training = new TrainingState(fakeApi(() => ({})).api);
    expect([training.elapsed, training.remaining, training.bestValAccuracy]).toEqual([
      0,
      null,
      null,
    ]);
    training.handle({
      type: 'started',
      runId: 'r',
      config: { ...PRESET_DEFAULTS.mlp, epochs: 2 },
      backend: { name: 'wasm', reason: 'x', unavailable: [] },
      startEpoch: 1,
      trainSize: 100,
      validationSize: 10,
      batchesPerEpoch: 10,
      threads: 1,
      notices: [],
      at: 1_000,
    });
    // Batches move the clock on.
    vi.useFakeTimers({ now: 11_000 });
    training.handle({
      type: 'batch',
      runId: 'r',
      epoch: 1,
      batch: 5,
      batches: 10,
      loss: 0.5,
      accuracy: 0.8,
      recentLoss: 0.5,
      recentAccuracy: 0.8,
    });
    // A quarter of the run in 10 s: 30 s to go.
    expect(training.elapsed).toBe(10);
    expect(training.remaining).toBeCloseTo(30);
    training.handle({ type: 'epoch', runId: 'r', ...metrics(1, 0.95) });
    training.handle({ type: 'epoch', runId: 'r', ...metrics(2, 0.93) });
    expect(training.bestValAccuracy).toBe(0.95);
  });

  it('feeds the charts each live event after taking it in, never a replayed one', async () => {
    const started = {
      type: 'started' as const,
      runId: 'r',
      config: { ...PRESET_DEFAULTS.mlp, epochs: 2 },
      backend: { name: 'wasm' as const, reason: 'x', unavailable: [] },
      startEpoch: 1,
      trainSize: 100,
      validationSize: 10,
      batchesPerEpoch: 10,
      threads: 1,
      notices: [],
    };
    const fake = fakeApi((r) =>
      r.type === 'status' ? { backend: null, activeRun: started, activeRunBatches: [] } : {},
    );
    const training = new TrainingState(fake.api);
    const seen: string[] = [];
    const stop = training.feedCharts((event) => seen.push(`${event.type} of ${training.runId}`));
    await training.sync();
    expect(training.runId).toBe('r');
    expect(seen).toEqual([]);
    training.handle({ ...started, runId: 's' });
    expect(seen).toEqual(['started of s']);
    stop();
    training.handle({ ...started, runId: 't' });
    expect(seen).toHaveLength(1);
  });
});
