import { spawnSync } from 'node:child_process';
import { truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../src-main/engine/data';
import { tempDir } from './helpers';

const root = tempDir();
const cliPath = path.join(import.meta.dirname, '../src-main/cli.ts');

function cli(...args: string[]) {
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', cliPath, ...args, '--checkpoints', root],
    {
      encoding: 'utf8',
      env: { ...process.env, MNIST_STUDIO_WORKER_STDERR: '0' },
      timeout: 120_000,
    },
  );
  const lines = result.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code: result.status, lines, stderr: result.stderr };
}

/** MNIST test image #0 (a 7) as a 10× upscaled dark-on-white PNG, as a person would save it. */
function writeDigitPng(file: string): void {
  const test = loadDataset(null).test;
  const png = new PNG({ width: 280, height: 280 });
  for (let y = 0; y < 280; y++) {
    for (let x = 0; x < 280; x++) {
      const v = 255 - Math.round(test.images[Math.floor(y / 10) * 28 + Math.floor(x / 10)]! * 255);
      const i = (y * 280 + x) * 4;
      png.data[i] = png.data[i + 1] = png.data[i + 2] = v;
      png.data[i + 3] = 255;
    }
  }
  writeFileSync(file, PNG.sync.write(png));
}

describe('CLI', () => {
  let runId = '';

  it('train prints JSON lines ending with finished', () => {
    const { code, lines } = cli(
      'train',
      '--limit',
      '3000',
      '--epochs',
      '2',
      '--validation-size',
      '500',
      '--backend',
      'wasm',
    );
    expect(code).toBe(0);
    expect(lines.every((l) => typeof l.type === 'string')).toBe(true);
    const epochs = lines.filter((l) => l.type === 'epoch');
    expect(epochs).toHaveLength(2);
    expect(epochs[1]).toMatchObject({ epoch: 2, backend: 'wasm', valAccuracy: expect.any(Number) });
    expect(epochs[1]!.valAccuracy as number).toBeGreaterThan(0.85);
    const last = lines.at(-1)!;
    expect(last).toMatchObject({ type: 'finished', epochs: 2 });
    runId = last.runId as string;
  });

  it('list prints one line per checkpoint', () => {
    const { code, lines } = cli('list');
    expect(code).toBe(0);
    const checkpoints = lines.filter((l) => l.type === 'checkpoint' && l.runId === runId);
    expect(checkpoints.map((c) => [c.epoch, c.status])).toEqual([
      [1, 'ok'],
      [2, 'ok'],
    ]);
  });

  it('eval reports accuracy, loss, per-class accuracy and the confusion matrix on the 10,000 test images', () => {
    const { code, lines } = cli('eval', '--run', runId);
    expect(code).toBe(0);
    const [evaluation] = lines;
    expect(evaluation).toMatchObject({ type: 'evaluation', runId, epoch: 2, count: 10_000 });
    const confusion = evaluation!.confusion as number[][];
    expect(confusion.flat().reduce((a, b) => a + b, 0)).toBe(10_000);
    const diagonal = confusion.reduce((sum, row, i) => sum + row[i]!, 0);
    expect(evaluation!.accuracy).toBeCloseTo(diagonal / 10_000, 10);
    expect(evaluation!.accuracy as number).toBeGreaterThan(0.85);
    expect(evaluation!.perClass).toHaveLength(10);
  });

  it('predict reads a PNG of any size and recognises the digit', () => {
    const image = path.join(root, 'seven.png');
    writeDigitPng(image);
    const { code, lines } = cli('predict', '--run', runId, '--image', image);
    expect(code).toBe(0);
    const [prediction] = lines;
    expect(prediction).toMatchObject({ type: 'prediction', digit: 7 });
    const probs = prediction!.probabilities as number[];
    expect(probs).toHaveLength(10);
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
  });

  it.each([
    [['train', '--epochs', '0'], 2, 'error: epochs must be between 1 and 500'],
    [['train', '--learning-rate', 'fast'], 2, 'error: learningRate must be a number'],
    [
      ['train', '--backend', 'cuda'],
      2,
      'error: backend must be one of auto, tensorflow-gpu, tensorflow, wasm, cpu',
    ],
    [['train', '--frobnicate'], 2, "Unknown option '--frobnicate'"],
    [['dance'], 2, 'error: unknown command "dance"'],
    [['eval'], 2, 'error: --run ID is required'],
    [['eval', '--run', '../../etc'], 1, 'runId may only contain letters, digits'],
    [['eval', '--run', 'no-such-run'], 1, 'error: run no-such-run not found'],
    [['predict', '--run', 'x', '--image', '/no/such.png'], 1, '/no/such.png'],
    [
      ['train', '--backend', 'tensorflow', '--limit', '100', '--epochs', '1'],
      1,
      "backend 'tensorflow' is not available",
    ],
  ])('%j fails with a one-line message (exit %i)', (args, exitCode, message) => {
    const { code, stderr, lines } = cli(...args);
    expect(code).toBe(exitCode);
    expect(stderr).toContain(message);
    expect(lines.filter((l) => l.type === 'finished')).toEqual([]);
  });
});

describe('CLI resume', () => {
  it('prints which checkpoint it resumed from and the damaged later ones it skipped', () => {
    const small = ['--limit', '300', '--validation-size', '100', '--hidden-units', '16'];
    const trained = cli('train', '--epochs', '2', '--backend', 'cpu', ...small);
    expect(trained.code).toBe(0);
    const runId = trained.lines.at(-1)!.runId as string;
    truncateSync(path.join(root, runId, 'epoch-002', 'weights.bin'), 10);
    const { code, lines } = cli('resume', '--run', runId, '--epochs', '3', '--backend', 'cpu');
    expect(code).toBe(0);
    expect(lines.find((l) => l.type === 'resumed')).toEqual({
      type: 'resumed',
      runId,
      branchedFrom: null,
      epoch: 1,
      skipped: [
        {
          epoch: 2,
          reason: expect.stringMatching(/^weights\.bin is 10 bytes, expected \d+ \(truncated\)$/),
        },
      ],
    });
    expect(lines.at(-1)).toMatchObject({ type: 'finished', runId, epochs: 3 });
  });
});
