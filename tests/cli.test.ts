import { truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../src-main/cli';
import { loadDataset } from '../src-main/engine/data';
import { readRun } from '../src-main/engine/runs';
import { cliPath, runCli as runCliProcess } from './cli-runner';
import { swiftShaderIcd } from './engine/swiftshader';
import { interruptTwice, spawnGroup, tempDir, waitUntilGone } from './helpers';

const root = tempDir();
// The CLI as a process, run to the end against this file's checkpoints folder.
const cli = (...args: string[]) => runCliProcess(root, ...args);

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

  it('rename names a run, list shows it, an empty name clears it', () => {
    const named = cli('rename', '--run', runId, '--name', 'first mlp');
    expect(named.code).toBe(0);
    expect(named.lines).toEqual([{ type: 'renamed', runId, name: 'first mlp' }]);
    const listed = cli('list').lines.find((l) => l.type === 'run' && l.runId === runId);
    expect(listed).toMatchObject({ name: 'first mlp' });
    expect(cli('rename', '--run', runId, '--name', '').lines).toEqual([
      { type: 'renamed', runId, name: null },
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
    [
      ['train', '--learning-rate', 'fast'],
      2,
      'error: --learning-rate must be a number like 0.001 or 1e-3, not "fast"',
    ],
    [
      ['train', '--backend', 'cuda'],
      2,
      'error: backend must be one of auto, tensorflow-gpu, tensorflow, webgpu, wasm, cpu',
    ],
    [['train', '--frobnicate'], 2, "Unknown option '--frobnicate'"],
    [['dance'], 2, 'error: unknown command "dance"'],
    [['eval'], 2, 'error: --run ID is required'],
    [['eval', '--run', '../../etc'], 2, 'error: --run must be a run id as `list` prints it'],
    [['eval', '--run', 'x', '--epoch', '0x2'], 2, 'error: --epoch must be a whole number'],
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

describe('CLI on webgpu', () => {
  it('--backend webgpu trains on the software adapter here and names it', () => {
    // SwiftShader, a CPU driver: a few dozen images of the mlp keep this quick.
    const icd = swiftShaderIcd();
    const before = process.env.VK_ICD_FILENAMES;
    process.env.VK_ICD_FILENAMES = icd;
    try {
      const { code, lines } = runCliProcess(
        tempDir(),
        'train',
        '--model',
        'mlp',
        '--epochs',
        '1',
        '--limit',
        '64',
        '--validation-size',
        '32',
        '--backend',
        'webgpu',
      );
      expect(code).toBe(0);
      expect(lines[0]).toMatchObject({
        type: 'ready',
        backend: {
          name: 'webgpu',
          adapter: { architecture: 'swiftshader', software: true },
        },
      });
      expect(lines.find((l) => l.type === 'epoch')).toMatchObject({ backend: 'webgpu' });
      expect(lines.at(-1)).toMatchObject({ type: 'finished', epochs: 1 });
    } finally {
      if (before === undefined) delete process.env.VK_ICD_FILENAMES;
      else process.env.VK_ICD_FILENAMES = before;
    }
  }, 120_000);
});

describe('CLI usage errors exit 2 before a worker starts, naming the option', () => {
  afterEach(() => vi.restoreAllMocks());

  it.each([
    // --run is checked against the run-id pattern here, not by the worker (exit 1 before).
    [['eval', '--run', '../../etc'], '--run must be a run id as `list` prints it'],
    [['delete', '--run', 'a b'], '--run must be a run id'],
    [['resume', '--run=-x'], '--run must be a run id'],
    // Whole numbers are decimal digits only: Number() took all of these.
    [
      ['eval', '--run', 'r', '--epoch', '0x2'],
      '--epoch must be a whole number in decimal digits, not "0x2"',
    ],
    [
      ['delete', '--run', 'r', '--epoch', '1e1'],
      '--epoch must be a whole number in decimal digits, not "1e1"',
    ],
    [
      ['resume', '--run', 'r', '--epochs', ' 3'],
      '--epochs must be a whole number in decimal digits, not " 3"',
    ],
    [
      ['resume', '--run', 'r', '--epochs', '3.0'],
      '--epochs must be a whole number in decimal digits',
    ],
    [
      ['predict', '--run', 'r', '--epoch', '+3', '--image', 'x.png'],
      '--epoch must be a whole number in decimal digits',
    ],
    [['eval', '--run', 'r', '--epoch', '99999999999999999999'], '--epoch must be a whole number'],
    [['train', '--epochs', '0x2'], '--epochs must be a whole number in decimal digits, not "0x2"'],
    [['train', '--batch-size', '1e1'], '--batch-size must be a whole number'],
    [['train', '--limit', '3.0'], '--limit must be a whole number'],
    [['train', '--seed', ' 7'], '--seed must be a whole number'],
    [['train', '--threads', '0x1'], '--threads must be a whole number'],
    [['train', '--validation-size', '1_000'], '--validation-size must be a whole number'],
    [['train', '--hidden-units', '0b11'], '--hidden-units must be a whole number'],
    // Decimals: plain or exponent notation, never hex or Infinity.
    [
      ['train', '--learning-rate', '0x1'],
      '--learning-rate must be a number like 0.001 or 1e-3, not "0x1"',
    ],
    [['train', '--lr-decay', 'Infinity'], '--lr-decay must be a number like 0.001 or 1e-3'],
    [['train', '--dropout', ' '], '--dropout must be a number like 0.001 or 1e-3'],
    // Ranges the worker's contract sets are the command line's fault too (exit 1 before).
    [['resume', '--run', 'r', '--epochs', '501'], '--epochs: '],
    [['eval', '--run', 'r', '--epoch', '100001'], '--epoch: '],
    // Options a command does not read were ignored silently.
    [['list', '--run', 'r'], 'list does not take --run'],
    [['rename', '--run', 'r'], 'rename needs --name TEXT'],
    [['rename', '--run', 'r', '--name', 'x'.repeat(81)], '--name: a run name is at most 80'],
    [['train', '--run', 'r'], 'train does not take --run'],
    [['resume', '--run', 'r', '--batch-size', '8'], 'resume does not take --batch-size'],
    [['eval', '--run', 'r', '--image', 'x.png'], 'eval does not take --image'],
    [['train', '--augment', '--no-augment'], '--augment and --no-augment cannot both be given'],
    [['train', '--label-smoothing', '0x1'], '--label-smoothing must be a number like 0.001'],
    [['train', '--schedule', 'cosine'], 'schedule must be one of decay, one-cycle'],
    [['train', '--label-smoothing', '0.9'], 'labelSmoothing must be at least 0 and at most 0.5'],
    // The command line is checked before the image is read: a usage error wins over a missing file.
    [['predict', '--image', '/no/such.png'], '--run ID is required'],
  ])('%j', async (args, message) => {
    let stderr = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      stderr += String(chunk);
      return true;
    });
    const code = await runCli([...args, '--checkpoints', root]);
    expect({ code, stderr }).toEqual({
      code: 2,
      stderr: expect.stringContaining(`error: ${message}`) as string,
    });
  });
});

describe('Ctrl-C to the process group', () => {
  const train = (...extra: string[]) =>
    spawnGroup(cliPath, ['train', '--backend', 'wasm', '--checkpoints', root, ...extra]);
  // About 3,000 tiny batches an epoch: a stop lands mid-epoch.
  const manyBatches = ['--limit', '3000', '--validation-size', '100', '--batch-size', '1'];

  it('stops train after the current batch: a stopped line, run.json stopped, exit 0', async () => {
    const cli = train(...manyBatches, '--epochs', '3');
    const worker = (await cli.line((l) => l.type === 'ready')).pid as number;
    await cli.line((l) => l.type === 'batch');
    cli.signalGroup('SIGINT');
    expect(await cli.exited).toEqual({ code: 0, signal: null });
    const stopped = cli.lines.at(-1)!;
    expect(stopped).toMatchObject({ type: 'stopped', epoch: 0, batch: expect.any(Number) });
    expect(readRun(root, stopped.runId as string)).toMatchObject({
      status: 'stopped',
      pid: null,
      reason: 'stopped (the CLI received Ctrl-C (SIGINT)) during epoch 1',
    });
    expect(cli.stderr()).not.toContain('error');
    expect(await waitUntilGone(worker, 5000)).toBe(true);
  });

  // tsx relays the signal unless our process reports it within 30 ms, and shutdown.ts takes a
  // repeat within ECHO_WINDOW_MS (200 ms) for that echo. On two cores shared with the queued-sweep
  // test's worker processes, the echo arrived later once in three full runs (exit 130): a retry
  // keeps that load from failing the suite, while an echo counted every time still fails it.
  it(
    "is one Ctrl-C through tsx's CLI too, which relays the signal the group already had",
    { retry: 2 },
    async () => {
      const cli = spawnGroup(
        cliPath,
        ['train', '--backend', 'wasm', '--checkpoints', root, ...manyBatches, '--epochs', '3'],
        { tsxCli: true },
      );
      await cli.line((l) => l.type === 'batch');
      cli.signalGroup('SIGINT');
      expect(await cli.exited).toEqual({ code: 0, signal: null });
      const stopped = cli.lines.at(-1)!;
      expect(stopped).toMatchObject({ type: 'stopped' });
      expect(readRun(root, stopped.runId as string).status).toBe('stopped');
    },
  );

  it('stops resume the same way, keeping the epochs it finished', async () => {
    // Batches of 2: an epoch of 950 of them.
    const first = cli(
      'train',
      ...['--limit', '2000', '--validation-size', '100', '--batch-size', '2'],
      ...['--epochs', '1', '--backend', 'wasm'],
    );
    expect(first.code).toBe(0);
    const runId = first.lines.at(-1)!.runId as string;
    const resumed = spawnGroup(cliPath, [
      'resume',
      '--run',
      runId,
      '--epochs',
      '3',
      '--checkpoints',
      root,
    ]);
    await resumed.line((l) => l.type === 'batch' && l.epoch === 2);
    resumed.signalGroup('SIGINT');
    expect(await resumed.exited).toEqual({ code: 0, signal: null });
    const stopped = resumed.lines.at(-1)!;
    expect(stopped).toMatchObject({ type: 'stopped', runId });
    expect(stopped.epoch as number).toBeGreaterThanOrEqual(1);
    expect(readRun(root, runId).status).toBe('stopped');
  });

  it('a second Ctrl-C kills the worker: the run is crashed and the CLI exits 130', async () => {
    // Batches of a second or more on the cpu backend, so the first stop is still waiting.
    const slow = ['--limit', '300', '--validation-size', '100', '--batch-size', '150'];
    const cli = spawnGroup(cliPath, [
      'train',
      ...slow,
      '--hidden-units',
      '2048',
      '--backend',
      'cpu',
      '--checkpoints',
      root,
    ]);
    const worker = (await cli.line((l) => l.type === 'ready')).pid as number;
    const { runId } = await cli.line((l) => l.type === 'started');
    await cli.line((l) => l.type === 'batch');
    const started = await interruptTwice(cli);
    expect(await cli.exited).toEqual({ code: 130, signal: null });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(cli.lines.some((l) => l.type === 'stopped')).toBe(false);
    expect(cli.stderr()).toContain('error: the training worker was killed (SIGKILL)');
    expect(readRun(root, runId as string)).toMatchObject({
      status: 'crashed',
      reason: 'the training worker was killed (SIGKILL)',
    });
    expect(await waitUntilGone(worker, 5000)).toBe(true);
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
