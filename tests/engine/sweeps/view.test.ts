import { describe, expect, it } from 'vitest';
import { parseSweepSpec, type SweepSpecInput } from '../../../src-main/contract/sweep';
import { MIN_IMPORTANCE_TRIALS, SweepViewSchema } from '../../../src-main/contract/sweep-view';
import { hyperparameterImportance } from '../../../src-main/engine/sweeps/importance';
import {
  addTrial,
  endTrial,
  recordTrialEpoch,
  startTrial,
  type SweepJournal,
} from '../../../src-main/engine/sweeps/journal';
import { sweepView } from '../../../src-main/engine/sweeps/view';

const at = (seconds: number) => new Date(Date.UTC(2026, 10, 30, 12, 0, seconds));

function journalOf(input: SweepSpecInput): SweepJournal {
  return {
    version: 1,
    sweepId: 'sweep-1',
    spec: parseSweepSpec(input),
    status: 'running',
    createdAt: at(0).toISOString(),
    updatedAt: at(0).toISOString(),
    spentSeconds: 0,
    trials: [],
  };
}

/** Adds a trial that trains `scores` (one per epoch) and ends as told, or keeps running. */
function withTrial(
  journal: SweepJournal,
  point: Record<string, number>,
  scores: number[],
  end: { status: 'finished' | 'pruned' | 'failed'; reason?: string } | null,
  startSecond = 0,
): SweepJournal {
  let j = addTrial(journal, point, at(startSecond)).journal;
  const n = j.trials.length;
  j = startTrial(j, n, `run-${n}`, { now: at(startSecond) });
  scores.forEach((s, i) => (j = recordTrialEpoch(j, n, i + 1, s)));
  return end ? endTrial(j, n, end, at(startSecond + 10 * scores.length)) : j;
}

const space: SearchSpaceInput = {
  learningRate: { kind: 'log-uniform', min: 1e-4, max: 1e-2 },
  dropout: { kind: 'uniform', min: 0, max: 0.5 },
};
type SearchSpaceInput = SweepSpecInput['space'];

describe('sweepView', () => {
  it('maps each trial to its best score, epochs, time and reason', () => {
    let j = journalOf({
      preset: 'mlp',
      base: { epochs: 9 },
      space,
      budget: { maxTrials: 10 },
      earlyStopping: { kind: 'asha', minEpochs: 1, reductionFactor: 3 },
    });
    j = withTrial(j, { learningRate: 0.001, dropout: 0.1 }, [0.9, 0.95, 0.94], {
      status: 'finished',
    });
    j = withTrial(j, { learningRate: 0.0001, dropout: 0.4 }, [0.5], {
      status: 'pruned',
      reason: 'val accuracy 0.500 at epoch 1 below rung-1 cut 0.900 (top 1/3 of 2)',
    });
    j = withTrial(j, { learningRate: 0.005, dropout: 0.2 }, [0.92, 0.96], null, 5);
    j = addTrial(j, { learningRate: 0.002, dropout: 0.3 }).journal;

    const view = sweepView(j, at(25));
    expect(SweepViewSchema.parse(view)).toEqual(view);
    expect(view.rungs).toEqual([
      { rung: 1, epoch: 1, keep: 1 / 3 },
      { rung: 2, epoch: 3, keep: 1 / 3 },
    ]);
    expect(view.maxEpochs).toBe(9);
    expect(
      view.trials.map((t) => [
        t.trial,
        t.runId,
        t.status,
        t.epochsDone,
        t.valAccuracy,
        t.bestEpoch,
        t.seconds,
      ]),
    ).toEqual([
      // Its best epoch, not its last, is what the trial scored and what Restore restores.
      [1, 'run-1', 'finished', 3, 0.95, 2, 30],
      [2, 'run-2', 'pruned', 1, 0.5, 1, 10],
      // Running: timed to the view's `now`.
      [3, 'run-3', 'running', 2, 0.96, 2, 20],
      [4, null, 'pending', 0, null, null, 0],
    ]);
    expect(view.trials[1]!.reason).toMatch(/below rung-1 cut/);
    expect(view.trials[0]!.config).toMatchObject({ model: 'mlp', learningRate: 0.001, epochs: 9 });
    // Only ended trials compete (best.ts): the running one's 0.96 is not yet a result.
    expect(view.bestTrial).toBe(1);
    expect(view.importance).toBeNull();
  });

  it('ranks importance from the finished trials once there are enough of them', () => {
    let j = journalOf({ preset: 'mlp', space, budget: { maxTrials: 20 } });
    const points = [
      [0.0001, 0.1, 0.9],
      [0.001, 0.2, 0.95],
      [0.01, 0.3, 0.97],
      [0.0002, 0.4, 0.91],
      [0.005, 0.1, 0.965],
    ] as const;
    for (const [lr, dropout, score] of points.slice(0, MIN_IMPORTANCE_TRIALS - 1))
      j = withTrial(j, { learningRate: lr, dropout }, [score], { status: 'finished' });
    expect(sweepView(j).importance).toBeNull();
    // A pruned trial does not count towards the ranking.
    j = withTrial(j, { learningRate: 0.003, dropout: 0.2 }, [0.1], { status: 'pruned' });
    expect(sweepView(j).importance).toBeNull();
    for (const [lr, dropout, score] of points.slice(MIN_IMPORTANCE_TRIALS - 1))
      j = withTrial(j, { learningRate: lr, dropout }, [score], { status: 'finished' });

    const view = sweepView(j);
    const finished = j.trials.filter((t) => t.status === 'finished');
    expect(view.importance).toEqual(
      hyperparameterImportance(
        j.spec.space,
        finished.map((t) => ({ point: t.point, score: t.scores[0]!.valAccuracy })),
      ),
    );
    expect(view.rungs).toEqual([]);
    expect(view.bestTrial).toBe(3);
  });

  it('takes the largest searched epochs as a trial’s full length', () => {
    const j = journalOf({
      preset: 'mlp',
      space: { epochs: { kind: 'choice', values: [2, 12, 5] } },
      budget: { maxTrials: 3 },
    });
    expect(sweepView(j).maxEpochs).toBe(12);
    expect(sweepView(j).bestTrial).toBeNull();
  });
});
