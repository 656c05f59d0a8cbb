import { describe, expect, it } from 'vitest';
import type { RunInfo } from '$contract/messages';
import { groupRuns } from '../../../src-renderer/src/lib/run-groups';
import { run } from '../fixtures';

const trialRun = (id: string, sweepId: string, trial: number, best: number | null): RunInfo => ({
  ...run(id),
  sweep: { id: sweepId, trial },
  bestValAccuracy: best,
});

describe('groupRuns', () => {
  it('puts a sweep’s runs under one item where its first run was, plain runs untouched', () => {
    const items = groupRuns([
      run('a'),
      trialRun('t2', 's1', 2, 0.91),
      run('b'),
      trialRun('t1', 's1', 1, 0.95),
      trialRun('t1b', 's1', 1, null),
      trialRun('u1', 's2', 1, null),
    ]);
    expect(items.map((i) => (i.kind === 'run' ? i.run.runId : i.sweepId))).toEqual([
      'a',
      's1',
      'b',
      's2',
    ]);
    expect(items[1]).toMatchObject({
      kind: 'sweep',
      trials: 2,
      bestValAccuracy: 0.95,
      runs: [{ runId: 't2' }, { runId: 't1' }, { runId: 't1b' }],
    });
    expect(items[3]).toMatchObject({ kind: 'sweep', trials: 1, bestValAccuracy: null });
  });

  it('leaves a list without sweeps as it was', () => {
    const runs = [run('a'), run('b')];
    expect(groupRuns(runs)).toEqual(runs.map((r) => ({ kind: 'run', run: r })));
    expect(groupRuns([])).toEqual([]);
  });
});
