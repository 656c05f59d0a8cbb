import { describe, expect, it } from 'vitest';
import { createStores } from '../../../src-renderer/src/lib/stores';
import { sweep } from '../components/sweep/sweep-fixtures';
import { fakeApi, run, status } from '../fixtures';

describe('createStores', () => {
  it('feeds every event to each store and syncs training, checkpoints and the sweep', async () => {
    const fake = fakeApi((r) =>
      r.type === 'listRuns'
        ? { runs: [run('run-a')] }
        : r.type === 'status'
          ? status()
          : r.type === 'sweepStatus'
            ? { sweep: null, resumable: [] }
            : r.type === 'evaluate'
              ? new Promise(() => {})
              : {},
    );
    const stores = createStores(fake.api);
    stores.sync();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(stores.checkpoints.runs.map((r) => r.runId)).toEqual(['run-a']);
    expect(fake.requests.map((r) => r.type).sort()).toEqual([
      'listRuns',
      'status',
      'status',
      'sweepStatus',
    ]);

    fake.emit({ type: 'ready', backend: { name: 'wasm', reason: 'x', unavailable: [] }, pid: 1 });
    expect(stores.training.backend?.name).toBe('wasm');

    void stores.evaluation.evaluate({ runId: 'run-a', epoch: 3 });
    fake.emit({ type: 'evaluateProgress', runId: 'run-a', done: 10, total: 100 });
    expect(stores.evaluation.progress).toMatchObject({ done: 10, total: 100 });

    fake.emit({ type: 'sweep', sweep: sweep(), error: null });
    expect(stores.sweep.sweep?.id).toBe('sweep-1');
  });
});
