import { describe, expect, it } from 'vitest';
import { parseSweepSpec } from '../../../src-main/contract/sweep';
import { bestTrial } from '../../../src-main/engine/sweeps/best';
import { listSweeps } from '../../../src-main/engine/sweeps/catalog';
import {
  addTrial,
  createSweepJournal,
  endTrial,
  recordTrialEpoch,
  startTrial,
  writeSweepJournal,
  type SweepJournal,
} from '../../../src-main/engine/sweeps/journal';
import { startSweep } from '../../../src-main/engine/sweeps/runner';
import { sweepView } from '../../../src-main/engine/sweeps/view';
import { tempDir } from '../../helpers';
import { FakeLauncher } from './fake-launcher';

const root = tempDir();
const spec = parseSweepSpec({
  preset: 'mlp',
  base: { epochs: 9 },
  space: { learningRate: { kind: 'log-uniform', min: 1e-4, max: 1e-2 } },
  budget: { maxTrials: 10 },
  earlyStopping: { kind: 'asha', minEpochs: 1, reductionFactor: 3 },
});

function withTrial(
  journal: SweepJournal,
  learningRate: number,
  scores: number[],
  status: 'finished' | 'pruned' | 'failed' | 'running',
): SweepJournal {
  let j = addTrial(journal, { learningRate }).journal;
  const n = j.trials.length;
  j = startTrial(j, n, `20261130-120000-mlp-000${n}`);
  scores.forEach((s, i) => (j = recordTrialEpoch(j, n, i + 1, s)));
  return status === 'running' ? j : endTrial(j, n, { status, reason: status });
}

describe('the best trial', () => {
  // A pruned trial's early peak beats a finished trial; a running and a failed trial score
  // higher still but have no checkpoint for certain behind their score.
  let j = createSweepJournal(root, 'sweep-best', spec);
  j = withTrial(j, 0.001, [0.9, 0.95, 0.94], 'finished');
  j = withTrial(j, 0.003, [0.93, 0.97], 'pruned');
  j = withTrial(j, 0.002, [0.98], 'failed');
  j = withTrial(j, 0.004, [0.99], 'running');
  writeSweepJournal(root, j);

  it('is the best epoch of any finished or pruned trial, pruned included', () => {
    expect(bestTrial(j)).toMatchObject({ trial: 2, epoch: 2, valAccuracy: 0.97 });
  });

  it('is the same trial in the Sweep panel, `sweep list` and sweep-finished', async () => {
    expect(sweepView(j).bestTrial).toBe(2);
    expect(listSweeps(root).find((s) => s.sweepId === 'sweep-best')).toMatchObject({
      best: { trial: 2, epoch: 2 },
    });

    // A real run of the runner: its last event names the trial the view names.
    const events: { type: string; best?: unknown }[] = [];
    const session = startSweep(
      { ...spec, strategy: 'random', budget: { maxTrials: 6 }, parallelism: 2, seed: 3 },
      { root, launcher: new FakeLauncher({ epochMs: 1 }), onEvent: (e) => events.push(e) },
      'sweep-best-run',
    );
    const { journal } = await session.done;
    const best = bestTrial(journal);
    expect(journal.trials.some((t) => t.status === 'pruned')).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'sweep-finished', best });
    expect(sweepView(journal).bestTrial).toBe(best?.trial);
  });
});
