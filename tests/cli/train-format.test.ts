import { describe, expect, it } from 'vitest';
import {
  batchLine,
  epochLine,
  finishedLine,
  readyLine,
  resumedLines,
  startedLines,
  stoppedLine,
} from '../../src-main/cli/train-format';
import { backend, batch, epoch, runId, started } from './events';

describe('train and resume in a terminal', () => {
  it('says which backend the engine runs on and why, as a sentence', () => {
    expect(readyLine(backend)).toBe('Engine ready on WASM — chosen by you.');
    expect(
      readyLine({
        name: 'webgpu',
        reason: 'chosen by the user',
        unavailable: [],
        adapter: {
          vendor: 'google',
          architecture: 'swiftshader',
          description: 'SwiftShader',
          software: true,
        },
      }),
    ).toBe('Engine ready on WebGPU on google swiftshader (SwiftShader, software) — chosen by you.');
  });

  it('names the run, its shape, its data, threads and backend before the first batch', () => {
    expect(startedLines(started)).toEqual([
      `Training run ${runId} (mlp): 12 epochs of 94 batches of 32.`,
      '3,000 training and 500 validation images; 2 threads on WASM.',
    ]);
    expect(
      startedLines({
        ...started,
        startEpoch: 3,
        validationSize: 0,
        threads: 1,
        notices: ['took over the lock of a crashed process'],
      }),
    ).toEqual([
      `Training run ${runId} (mlp): epochs 3 to 12 of 94 batches of 32.`,
      '3,000 training and no validation images; 1 thread on WASM.',
      'note: took over the lock of a crashed process',
    ]);
  });

  it('prints one aligned line per epoch: loss, accuracy, validation figures and time', () => {
    expect(epochLine(epoch(3), 12)).toBe(
      'epoch  3/12   loss 0.4322   accuracy  87.65 %   val loss 0.3210   val accuracy  90.12 %   12.3 s',
    );
    // The columns stay put from epoch 9 to epoch 10.
    expect(epochLine(epoch(10), 12).indexOf('loss')).toBe(epochLine(epoch(9), 12).indexOf('loss'));
    expect(epochLine({ ...epoch(1), valLoss: null, valAccuracy: null }, 1)).toBe(
      'epoch 1/1   loss 0.4322   accuracy  87.65 %   val loss —   val accuracy —   12.3 s',
    );
  });

  it('draws the progress within an epoch on one line that fits the terminal', () => {
    expect(batchLine(batch(47), 12, 200)).toBe(
      `epoch  1/12  ${'█'.repeat(15)}${'░'.repeat(15)}  47/94  loss 0.5123  accuracy 84.38 %`,
    );
    expect([...batchLine(batch(47), 12, 40)]).toHaveLength(39);
  });

  it('says how the run ended and what was kept', () => {
    expect(finishedLine({ type: 'finished', runId, epochs: 2 }, '/data/checkpoints/r')).toBe(
      `Finished run ${runId}: 2 epochs; checkpoints in /data/checkpoints/r.`,
    );
    expect(finishedLine({ type: 'finished', runId, epochs: 1 }, null)).toBe(
      `Finished run ${runId}: 1 epoch.`,
    );
    expect(stoppedLine({ type: 'stopped', runId, epoch: 2, batch: 17 })).toBe(
      `Stopped run ${runId} during epoch 3 after 17 batches: the checkpoints up to epoch 2 are kept; the partial epoch is not.`,
    );
    expect(stoppedLine({ type: 'stopped', runId, epoch: 0, batch: 1 })).toBe(
      `Stopped run ${runId} during epoch 1 after 1 batch: no epoch had finished, so there is no checkpoint.`,
    );
  });

  it('says where a resume continues from, a branch, and the damaged checkpoints it skipped', () => {
    expect(resumedLines({ runId, branchedFrom: null, epoch: 2, skipped: [] })).toEqual([
      `Resuming run ${runId} from epoch 2.`,
    ]);
    expect(
      resumedLines({
        runId: 'new-run',
        branchedFrom: { runId, epoch: 1 },
        epoch: 1,
        skipped: [{ epoch: 2, reason: 'weights.bin is 10 bytes' }],
      }),
    ).toEqual([
      `Resuming from epoch 1 of run ${runId} as a new run, new-run (later epochs of the original are kept as they are).`,
      'skipped damaged checkpoint of epoch 2: weights.bin is 10 bytes',
    ]);
  });
});
