import { resolveTrainConfig } from '../../src-main/contract/config';
import type { EventOfType, RunInfo } from '../../src-main/contract/messages';
import type { EvaluationSummary } from '../../src-main/cli/eval-format';

/** Worker events and results as a short wasm run of the MLP produces them. */

export const runId = '20261130-015800-mlp-c035';
export const backend = { name: 'wasm' as const, reason: 'chosen by the user', unavailable: [] };

export const started: EventOfType<'started'> = {
  type: 'started',
  runId,
  config: resolveTrainConfig({ model: 'mlp', epochs: 12, batchSize: 32, limit: 3000 }),
  backend,
  startEpoch: 1,
  trainSize: 3000,
  validationSize: 500,
  batchesPerEpoch: 94,
  threads: 2,
  notices: [],
};

export const batch = (batchNumber: number, epoch = 1): EventOfType<'batch'> => ({
  type: 'batch',
  runId,
  epoch,
  batch: batchNumber,
  batches: 94,
  loss: 0.51234,
  accuracy: 0.84375,
  recentLoss: 0.48,
  recentAccuracy: 0.85,
});

export const epoch = (n: number): EventOfType<'epoch'> => ({
  type: 'epoch',
  runId,
  epoch: n,
  loss: 0.43219,
  accuracy: 0.87654,
  valLoss: 0.321,
  valAccuracy: 0.9012,
  seconds: 12.34,
  backend: 'wasm',
});

/** A diagonal of 90 with `wrong` of each digit read as the next one, 7s also as 1 twice. */
function confusion(): number[][] {
  return Array.from({ length: 10 }, (_, actual) =>
    Array.from({ length: 10 }, (_, predicted) =>
      predicted === actual ? 90 : predicted === (actual + 1) % 10 ? 10 : 0,
    ),
  ).map((row, actual) => (actual === 7 ? row.map((c, p) => (p === 1 ? 12 : c)) : row));
}

export const evaluation: EvaluationSummary = {
  runId,
  epoch: 2,
  accuracy: 900 / 1012,
  loss: 0.28765,
  perClass: Array.from({ length: 10 }, (_, d) => (d === 7 ? 90 / 112 : 0.9)),
  confusion: confusion(),
  count: 1012,
  mistakes: [
    { index: 1234, label: 4, predicted: 9, probabilities: [0, 0, 0, 0, 0.01, 0, 0, 0, 0, 0.99] },
    { index: 42, label: 7, predicted: 1, probabilities: [0, 0.8, 0, 0, 0, 0, 0, 0.2, 0, 0] },
  ],
};

export const run: RunInfo = {
  runId,
  name: null,
  evaluations: [],
  branchedFrom: null,
  status: 'finished',
  reason: null,
  model: 'mlp',
  config: started.config,
  backend: 'wasm',
  createdAt: '2026-11-30T01:58:00.123Z',
  updatedAt: '2026-11-30T02:00:00.000Z',
  epochsDone: 2,
  bestValAccuracy: 0.9012,
  checkpoints: [
    {
      epoch: 1,
      status: 'ok',
      reason: null,
      metrics: { ...epoch(1), valAccuracy: 0.85 },
      bytes: 159_500,
      savedAt: null,
    },
    {
      epoch: 2,
      status: 'damaged',
      reason: 'weights.bin is 10 bytes, expected 159488 (truncated)',
      metrics: null,
      bytes: 10,
      savedAt: null,
    },
  ],
  history: [],
};
