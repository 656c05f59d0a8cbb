import { describe, expect, it } from 'vitest';
import { describeZodError, resolveTrainConfig } from '../../src-main/contract/config';
import { parseSweepSpec } from '../../src-main/contract/sweep';
import { SweepViewSchema, type SweepView } from '../../src-main/contract/sweep-view';

const view: SweepView = {
  id: 'sweep-1',
  spec: parseSweepSpec({
    preset: 'mlp',
    space: { dropout: { kind: 'uniform', min: 0, max: 0.5 } },
    budget: { maxTrials: 2 },
  }),
  status: 'running',
  createdAt: '2026-11-30T12:00:00.000Z',
  rungs: [],
  maxEpochs: 10,
  trials: [
    {
      trial: 1,
      runId: 'run-1',
      point: { dropout: 0.1 },
      config: resolveTrainConfig({ model: 'mlp', dropout: 0.1 }),
      status: 'pruned',
      epochsDone: 1,
      valAccuracy: 0.5,
      bestEpoch: 1,
      seconds: 12,
      reason: 'below the cut',
    },
  ],
  importance: null,
  bestTrial: null,
};

const problem = (input: unknown): string => {
  const parsed = SweepViewSchema.safeParse(input);
  if (parsed.success) throw new Error('expected the view to be rejected');
  return describeZodError(parsed.error);
};

describe('SweepViewSchema', () => {
  it('accepts a view as the engine makes it', () => {
    expect(SweepViewSchema.parse(view)).toEqual(view);
  });

  it.each([
    [{ ...view, status: 'paused' }, /^status: /],
    [{ ...view, trials: [{ ...view.trials[0]!, status: 'done' }] }, /^trials\.0\.status: /],
    [{ ...view, trials: [{ ...view.trials[0]!, valAccuracy: 1.5 }] }, /^trials\.0\.valAccuracy/],
    [{ ...view, trials: [{ ...view.trials[0]!, runId: '../x' }] }, /^trials\.0\.runId/],
    [{ ...view, rungs: [{ rung: 1, epoch: 0, keep: 0.5 }] }, /^rungs\.0\.epoch/],
    [{ ...view, extra: true }, /unknown field\(s\): extra/],
  ])('names the field of a malformed view (%#)', (input, message) => {
    expect(problem(input)).toMatch(message);
  });
});
