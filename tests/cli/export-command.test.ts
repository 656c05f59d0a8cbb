import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportedLine, exportRequestFromArgs } from '../../src-main/cli/export-command';
import { UsageError } from '../../src-main/cli/usage-error';
import { writeRun } from '../fixtures/checkpoints';
import { runCli } from '../cli-runner';
import { tempDir } from '../helpers';

const root = tempDir();
const out = tempDir();
let runId: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  runId = await writeRun(root, 2);
});

describe('export on the command line', () => {
  it('writes the file and prints one JSON line when piped', () => {
    const file = path.join(out, 'model.onnx');
    const { code, lines, stderr } = runCli(
      root,
      'export',
      '--run',
      runId,
      '--epoch',
      '1',
      '--format',
      'onnx',
      '--out',
      file,
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(lines).toEqual([
      {
        type: 'exported',
        runId,
        epoch: 1,
        format: 'onnx',
        path: file,
        bytes: readFileSync(file).length,
        files: ['model.onnx'],
      },
    ]);
  });

  it('fails with one line and exit 1 for an unknown run, writing nothing', () => {
    const file = path.join(out, 'none.keras');
    const { code, lines, stderr } = runCli(
      root,
      'export',
      '--run',
      'no-such-run',
      '--format',
      'keras',
      '--out',
      file,
    );
    expect(code).toBe(1);
    expect(lines).toEqual([]);
    expect(stderr).toBe('error: run no-such-run not found\n');
    expect(existsSync(file)).toBe(false);
  });

  it('turns a bad command line into a usage error naming the option', () => {
    const args = (...extra: string[]) => ['--run', runId, '--out', '/tmp/m.onnx', ...extra];
    const usage = (argv: string[]) => {
      try {
        exportRequestFromArgs(argv);
      } catch (error) {
        expect(error).toBeInstanceOf(UsageError);
        return (error as Error).message;
      }
      return null;
    };
    expect(usage(args('--format', 'pt'))).toBe(
      '--format: must be one of tfjs, keras, onnx, not "pt"',
    );
    expect(usage(args())).toMatch(/export needs --format/);
    expect(usage(args('--format', 'onnx', '--epoch', '0'))).toMatch(
      /--epoch must be a whole number/,
    );
    expect(usage(args('--format', 'onnx', '--with-optimizer'))).toMatch(
      /^--with-optimizer: .* tfjs format only/,
    );
    expect(usage(args('--format', 'onnx', '--backend', 'cpu'))).toMatch(/backend/);
    expect(exportRequestFromArgs(args('--format', 'tfjs', '--with-optimizer'))?.request).toEqual({
      runId,
      epoch: null,
      format: 'tfjs',
      out: '/tmp/m.onnx',
      withOptimizer: true,
      overwrite: false,
    });
  });

  it('says in a terminal what it wrote, where, and how big', () => {
    expect(
      exportedLine({
        runId: 'r1',
        epoch: 3,
        format: 'keras',
        path: '/tmp/m.keras',
        bytes: 1_572_864,
        files: ['m.keras'],
      }),
    ).toBe('exported run r1 epoch 3 as Keras 3 to /tmp/m.keras (1.5 MB)');
  });
});
