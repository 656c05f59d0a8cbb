import { resolveTrainConfig } from '$contract/config';
import { parseSweepSpec, type ChoiceValue } from '$contract/sweep';
import { SweepViewSchema, type SweepView, type TrialView } from '$contract/sweep-view';

/** The example space: learning rate on a log scale, batch size from a list, dropout. */
export const spec = parseSweepSpec({
  preset: 'mlp',
  base: { epochs: 9 },
  space: {
    learningRate: { kind: 'log-uniform', min: 1e-4, max: 1e-2 },
    batchSize: { kind: 'choice', values: [32, 64, 128] },
    dropout: { kind: 'uniform', min: 0, max: 0.5 },
  },
  budget: { maxTrials: 10 },
  earlyStopping: { kind: 'asha', minEpochs: 1, reductionFactor: 3 },
});

export function trial(
  n: number,
  opts: Partial<Omit<TrialView, 'point'>> & { point?: Record<string, ChoiceValue> } = {},
): TrialView {
  const point = opts.point ?? {
    learningRate: 10 ** (-4 + (n % 3)),
    batchSize: [32, 64, 128][n % 3]!,
    dropout: (n % 5) / 10,
  };
  const status = opts.status ?? 'finished';
  return {
    trial: n,
    runId: status === 'pending' ? null : `run-${n}`,
    point,
    config: resolveTrainConfig({ model: 'mlp', epochs: 9, ...point }),
    status,
    epochsDone: status === 'pending' ? 0 : 9,
    valAccuracy: status === 'pending' ? null : 0.9 + n / 100,
    bestEpoch: status === 'pending' ? null : 1,
    seconds: status === 'pending' ? 0 : 60 + n,
    reason: null,
    ...opts,
  };
}

/** A view as the host would send it, checked against the contract. */
export function sweep(opts: Partial<SweepView> = {}): SweepView {
  const trials = opts.trials ?? [trial(1), trial(2), trial(3)];
  return SweepViewSchema.parse({
    id: 'sweep-1',
    spec,
    status: 'running',
    createdAt: '2026-11-30T12:00:00.000Z',
    rungs: [
      { rung: 1, epoch: 1, keep: 1 / 3 },
      { rung: 2, epoch: 3, keep: 1 / 3 },
    ],
    maxEpochs: 9,
    trials,
    importance: null,
    bestTrial: null,
    ...opts,
  });
}
