import { describe, expect, it } from 'vitest';
import {
  ashaDecide,
  ashaSchedule,
  describeSchedule,
  type EpochScore,
} from '../../../src-main/engine/sweeps/asha';

describe('ashaSchedule', () => {
  it('places rungs at minEpochs·η^k below the last epoch', () => {
    const epochs = (minEpochs: number, reductionFactor: number, max: number) =>
      ashaSchedule({ kind: 'asha', minEpochs, reductionFactor }, max).rungs.map((r) => r.epoch);
    expect(epochs(1, 3, 10)).toEqual([1, 3, 9]);
    expect(epochs(1, 3, 9)).toEqual([1, 3]);
    expect(epochs(2, 2, 20)).toEqual([2, 4, 8, 16]);
    expect(epochs(4, 3, 5)).toEqual([4]);
  });

  it('describes the schedule for display', () => {
    expect(
      describeSchedule(ashaSchedule({ kind: 'asha', minEpochs: 2, reductionFactor: 3 }, 10)),
    ).toEqual([
      'rung 1: epoch 2, top 1/3 go on',
      'rung 2: epoch 6, top 1/3 go on',
      'full: epoch 10',
    ]);
  });
});

describe('ashaDecide', () => {
  const schedule = ashaSchedule({ kind: 'asha', minEpochs: 2, reductionFactor: 3 }, 10);
  const at = (epoch: number, scores: number[], firstTrial = 1): EpochScore[] =>
    scores.map((score, i) => ({ trial: firstTrial + i, epoch, score }));

  it('prunes a trial outside the top 1/η of its rung, and says why', () => {
    const recorded = at(2, [0.95, 0.934, 0.93, 0.92, 0.9]);
    const decision = ashaDecide(schedule, recorded, { trial: 6, epoch: 2, score: 0.912 });
    expect(decision).toEqual({
      action: 'prune',
      rung: { rung: 1, epoch: 2 },
      cut: 0.934,
      reason: 'val accuracy 0.912 at epoch 2 below rung-1 cut 0.934 (top 1/3 of 6)',
    });
  });

  it('lets a trial in the top 1/η go on, ties with the cut included', () => {
    const recorded = at(2, [0.95, 0.934, 0.93, 0.92, 0.9]);
    expect(ashaDecide(schedule, recorded, { trial: 6, epoch: 2, score: 0.94 })).toMatchObject({
      action: 'continue',
      cut: 0.94,
    });
    expect(ashaDecide(schedule, recorded, { trial: 6, epoch: 2, score: 0.934 }).action).toBe(
      'continue',
    );
  });

  it('lets the first trials at a rung go on: there is nothing yet to fall behind', () => {
    expect(ashaDecide(schedule, [], { trial: 1, epoch: 2, score: 0.1 }).action).toBe('continue');
    // Two results, η = 3: the top max(1, ⌊2/3⌋) = 1 goes on.
    const second = ashaDecide(schedule, at(2, [0.9]), { trial: 2, epoch: 2, score: 0.8 });
    expect(second).toMatchObject({ action: 'prune', cut: 0.9 });
  });

  it('judges only at rungs, and a later rung only against the trials that reached it', () => {
    const recorded = [...at(2, [0.95, 0.94, 0.93, 0.92, 0.91]), ...at(6, [0.97], 1)];
    // Epoch 3 is no rung: even the worst score goes on.
    expect(ashaDecide(schedule, recorded, { trial: 7, epoch: 3, score: 0.1 }).action).toBe(
      'continue',
    );
    const decision = ashaDecide(schedule, recorded, { trial: 2, epoch: 6, score: 0.96 });
    expect(decision).toMatchObject({ action: 'prune', rung: { rung: 2, epoch: 6 } });
    expect(decision.action === 'prune' && decision.reason).toContain('(top 1/3 of 2)');
  });

  it('counts a rerun trial once at a rung, with its new score', () => {
    // Trial 3 reached epoch 2 before a crash (0.99); rerun, it reaches it again with 0.90.
    const recorded = at(2, [0.95, 0.94, 0.99]);
    const decision = ashaDecide(schedule, recorded, { trial: 3, epoch: 2, score: 0.9 });
    // Three results (not four): the top 1 goes on, 0.95 is the cut.
    expect(decision).toMatchObject({ action: 'prune', cut: 0.95 });
    expect(decision.action === 'prune' && decision.reason).toContain('(top 1/3 of 3)');
  });

  it('shows as many decimals as it takes to tell the score from the cut', () => {
    const decision = ashaDecide(schedule, at(2, [0.93412]), { trial: 2, epoch: 2, score: 0.93405 });
    expect(decision.action === 'prune' && decision.reason).toBe(
      'val accuracy 0.93405 at epoch 2 below rung-1 cut 0.93412 (top 1/3 of 2)',
    );
  });
});
