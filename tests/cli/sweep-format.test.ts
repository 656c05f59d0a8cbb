import { describe, expect, it } from 'vitest';
import {
  pointText,
  sweepEventLines,
  sweepListLines,
  trialsTable,
  updateRows,
  type TrialRow,
} from '../../src-main/cli/sweep-format';
import type { SweepEvent } from '../../src-main/contract/sweep';

const sweepId = 's1';

describe('sweep lines in a terminal', () => {
  it('says what the sweep will do, with the ASHA rungs', () => {
    expect(
      sweepEventLines({
        type: 'sweep-started',
        sweepId,
        preset: 'mlp',
        strategy: 'tpe',
        budget: { maxTrials: 20, maxSeconds: 600 },
        parallelism: 'auto',
        cores: 2,
        rungs: ['rung 1: epoch 1, top 1/3 go on', 'full: epoch 5'],
        resumed: false,
        trialsBefore: 0,
      }),
    ).toEqual([
      'Sweep s1 (mlp, tpe): up to 20 trials or 10 min 00 s, as many trials at once as 2 cores serve.',
      'early stopping rung 1: epoch 1, top 1/3 go on',
      'early stopping full: epoch 5',
    ]);
  });

  it('folds events into a table of trials, best first', () => {
    const rows = new Map<number, TrialRow>();
    const events: SweepEvent[] = [
      {
        type: 'trial-started',
        sweepId,
        trial: 1,
        runId: 'r1',
        point: { learningRate: 0.00123456, batchSize: 64 },
        epochs: 3,
        attempt: 1,
        fromEpoch: 0,
      },
      {
        type: 'trial-started',
        sweepId,
        trial: 2,
        runId: 'r2',
        point: { learningRate: 0.01, batchSize: 32 },
        epochs: 3,
        attempt: 1,
        fromEpoch: 0,
      },
      {
        type: 'trial-epoch',
        sweepId,
        trial: 1,
        runId: 'r1',
        epoch: 1,
        epochs: 3,
        valAccuracy: 0.9,
        seconds: 1,
      },
      {
        type: 'trial-epoch',
        sweepId,
        trial: 2,
        runId: 'r2',
        epoch: 1,
        epochs: 3,
        valAccuracy: 0.8,
        seconds: 1,
      },
      { type: 'trial-pruned', sweepId, trial: 2, runId: 'r2', epoch: 1, reason: 'pruned' },
      {
        type: 'trial-epoch',
        sweepId,
        trial: 1,
        runId: 'r1',
        epoch: 2,
        epochs: 3,
        valAccuracy: 0.95,
        seconds: 1,
      },
    ];
    for (const e of events) updateRows(rows, e);
    expect(trialsTable([...rows.values()])).toEqual([
      'trial  status   epochs  best val acc  settings',
      '1      running  2/3     95.00 %       batchSize 64, learningRate 0.001235',
      '2      pruned   1/3     80.00 %       batchSize 32, learningRate 0.01',
    ]);
    expect(pointText({ augment: true, schedule: 'decay' })).toBe('augment true, schedule "decay"');
  });

  it('ends with the outcome, the best trial and how to resume a stopped sweep', () => {
    expect(
      sweepEventLines({
        type: 'sweep-finished',
        sweepId,
        status: 'stopped',
        trials: { pending: 0, running: 0, interrupted: 1, finished: 2, pruned: 1, failed: 0 },
        best: { trial: 2, runId: 'r2', valAccuracy: 0.975, epoch: 3, point: { dropout: 0.25 } },
        seconds: 75,
      }),
    ).toEqual([
      'Sweep s1 stopped after 1 min 15 s: 2 finished, 1 pruned, 1 interrupted.',
      'Best: trial 2, val accuracy 97.50 % at epoch 3 (run r2): dropout 0.25.',
      'Resume it with: npm run cli -- sweep resume --sweep s1',
    ]);
  });

  it('lists sweeps, damaged ones with their reason', () => {
    expect(sweepListLines([], '/c')).toEqual(['No sweeps in /c.']);
    expect(
      sweepListLines(
        [
          { sweepId: 'a', status: 'damaged', reason: 'journal.json is damaged (not valid JSON)' },
          {
            sweepId: 'b',
            status: 'interrupted',
            preset: 'cnn',
            strategy: 'random',
            budget: { maxTrials: 4 },
            createdAt: '',
            updatedAt: '',
            seconds: 12,
            trials: { pending: 1, running: 1, interrupted: 0, finished: 2, pruned: 0, failed: 0 },
            best: null,
            reason: null,
          },
        ],
        '/c',
      ),
    ).toEqual([
      'a  ·  damaged: journal.json is damaged (not valid JSON)',
      'b  ·  cnn, random  ·  interrupted  ·  4 trials (2 finished, 0 pruned, 0 failed)  ·  no scores yet  ·  12.0 s',
    ]);
  });
});
