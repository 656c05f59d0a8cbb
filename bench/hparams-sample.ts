/**
 * Writes a small sample checkpoints folder for bench/check-hparams.py: a sweep (journal and
 * HParams experiment in `.sweeps/<id>/`), two trial runs with epoch scalars and HParams
 * sessions (one finished, one failed), and one plain run that is no trial.
 *
 *     npx tsx bench/hparams-sample.ts OUT_DIR
 *
 * Prints a JSON line: { root, sweepId, trials: [{ runId, point, status }] }.
 */
import path from 'node:path';
import { parseSweepSpec, type ChoiceValue, type TrialStatus } from '../src-main/contract/sweep';
import {
  sessionHParams,
  sessionStatusOf,
  trialGroupName,
  writeHParamsExperiment,
  writeSessionEnd,
  writeSessionStart,
} from '../src-main/engine/sweeps/hparams';
import { createSweepJournal, sweepDir } from '../src-main/engine/sweeps/journal';
import { writeEpochScalars } from '../src-main/engine/tensorboard';

const root = path.resolve(process.argv[2] ?? 'hparams-sample');
const spec = parseSweepSpec({
  preset: 'mlp',
  space: {
    learningRate: { kind: 'log-uniform', min: 1e-4, max: 1e-2 },
    batchSize: { kind: 'choice', values: [32, 64, 128] },
    dropout: { kind: 'uniform', min: 0, max: 0.5 },
    hiddenUnits: { kind: 'int', min: 64, max: 256, step: 64 },
    schedule: { kind: 'choice', values: ['decay', 'one-cycle'] },
    augment: { kind: 'choice', values: [false, true] },
  },
  strategy: 'random',
  budget: { maxTrials: 2 },
});

const start = Date.UTC(2026, 10, 30, 12, 0, 0) / 1000;
const sweepId = '20261130-120000-sweep-mlp-0001';
createSweepJournal(root, sweepId, spec, new Date(start * 1000));
writeHParamsExperiment(sweepDir(root, sweepId), spec, { timeCreatedSecs: start });

const trials: { runId: string; point: Record<string, ChoiceValue>; status: TrialStatus }[] = [
  {
    runId: '20261130-120001-mlp-aaaa',
    point: {
      learningRate: 0.001,
      batchSize: 64,
      dropout: 0.2,
      hiddenUnits: 128,
      schedule: 'decay',
      augment: false,
    },
    status: 'finished',
  },
  {
    runId: '20261130-120002-mlp-bbbb',
    point: {
      learningRate: 0.0003,
      batchSize: 128,
      dropout: 0,
      hiddenUnits: 256,
      schedule: 'one-cycle',
      augment: true,
    },
    status: 'failed',
  },
];

trials.forEach((trial, i) => {
  const dir = path.join(root, trial.runId);
  const t0 = start + 10 * (i + 1);
  writeSessionStart(dir, {
    hparams: sessionHParams(spec, trial.point),
    groupName: trialGroupName(sweepId, i + 1),
    startTimeSecs: t0,
    modelUri: dir,
  });
  const epochs = trial.status === 'failed' ? 1 : 3;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const quality = (epoch + 1) / (4 + i);
    writeEpochScalars(
      dir,
      epoch,
      {
        loss: 1 - quality * 0.9,
        accuracy: 0.8 + quality * 0.19,
        valLoss: 1.05 - quality * 0.9,
        valAccuracy: 0.79 + quality * 0.19,
      },
      t0 + epoch + 1,
    );
  }
  writeSessionEnd(dir, { status: sessionStatusOf(trial.status), endTimeSecs: t0 + epochs + 1 });
});

// A run of its own, not in any sweep: it has scalars but is no HParams session.
writeEpochScalars(path.join(root, '20261130-110000-cnn-cccc'), 0, { loss: 0.5, accuracy: 0.9 });

console.log(JSON.stringify({ root, sweepId, trials }));
