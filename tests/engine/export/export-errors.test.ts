import * as tf from '@tensorflow/tfjs';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { epochDirName } from '../../../src-main/engine/checkpoints';
import { exportCheckpoint } from '../../../src-main/engine/export/export-checkpoint';
import {
  ExportRequestSchema,
  type ExportRequest,
} from '../../../src-main/engine/export/export-request';
import { describeModel } from '../../../src-main/engine/export/model-layers';
import { writeRun } from '../../fixtures/checkpoints';
import { tempDir } from '../../helpers';

const root = tempDir();
const out = tempDir();
let runId: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  runId = await writeRun(root, 2);
});

const request = (overrides: Partial<ExportRequest>): ExportRequest => ({
  runId,
  epoch: null,
  format: 'onnx',
  out: path.join(out, 'model.onnx'),
  withOptimizer: false,
  overwrite: false,
  ...overrides,
});

describe('export refuses what it cannot do, and loses nothing', () => {
  it('names an unknown run and a missing epoch', async () => {
    await expect(exportCheckpoint(root, request({ runId: 'no-such-run' }))).rejects.toThrow(
      'run no-such-run not found',
    );
    await expect(exportCheckpoint(root, request({ epoch: 5 }))).rejects.toThrow(
      `run ${runId} has no checkpoint for epoch 5`,
    );
  });

  it('refuses a damaged checkpoint with its reason and writes nothing', async () => {
    const damaged = await writeRun(root, 1);
    truncateSync(path.join(root, damaged, epochDirName(1), 'weights.bin'), 10);
    const file = path.join(out, 'damaged.onnx');
    await expect(
      exportCheckpoint(root, request({ runId: damaged, epoch: 1, out: file })),
    ).rejects.toThrow(/epoch 1 is damaged: weights\.bin is 10 bytes, expected \d+ \(truncated\)/);
    expect(existsSync(file)).toBe(false);
    expect(readdirSync(out).filter((f) => f.includes('damaged'))).toEqual([]);
  });

  it('checks the format and the options that go with it', () => {
    const parse = (input: object) => ExportRequestSchema.safeParse({ ...request({}), ...input });
    const message = (input: object) => parse(input).error?.issues[0]?.message;
    expect(parse({ format: 'pytorch' }).error?.issues[0]?.path).toEqual(['format']);
    expect(message({ format: 'onnx', withOptimizer: true })).toMatch(
      /optimizer's state can be exported in the tfjs format only/,
    );
    expect(message({ format: 'keras', out: '/tmp/model.h5' })).toMatch(/must be named \*\.keras/);
    expect(parse({ format: 'keras', out: '/tmp/model.keras' }).success).toBe(true);
  });

  it('keeps an existing file unless told to replace it', async () => {
    const file = path.join(out, 'existing.onnx');
    writeFileSync(file, 'precious');
    await expect(exportCheckpoint(root, request({ out: file }))).rejects.toThrow(
      `${file} already exists; pass --overwrite to replace it`,
    );
    expect(readFileSync(file, 'utf8')).toBe('precious');
    await exportCheckpoint(root, request({ out: file, overwrite: true }));
    expect(readFileSync(file).length).toBeGreaterThan(1000);
    // No temp file left beside it.
    expect(readdirSync(out).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('replaces a tfjs folder only when it holds nothing but an export', async () => {
    const folder = path.join(out, 'tfjs');
    mkdirSync(folder);
    // An empty folder holds nothing to lose.
    await exportCheckpoint(root, request({ format: 'tfjs', out: folder }));
    await expect(exportCheckpoint(root, request({ format: 'tfjs', out: folder }))).rejects.toThrow(
      /already exists/,
    );
    await exportCheckpoint(root, request({ format: 'tfjs', out: folder, overwrite: true }));
    writeFileSync(path.join(folder, 'notes.txt'), 'mine');
    await expect(
      exportCheckpoint(root, request({ format: 'tfjs', out: folder, overwrite: true })),
    ).rejects.toThrow(/holds other files than an export's \(notes\.txt\)/);
    expect(readdirSync(folder).sort()).toEqual(['model.json', 'notes.txt', 'weights.bin']);
  });

  it('says why a path cannot be written', async () => {
    const file = path.join(out, 'a-file');
    writeFileSync(file, 'x');
    await expect(
      exportCheckpoint(root, request({ out: path.join(file, 'model.onnx') })),
    ).rejects.toThrow(/part of its path is a file, not a folder/);
    await expect(exportCheckpoint(root, request({ format: 'tfjs', out: file }))).rejects.toThrow(
      /is a file; a tfjs export without \.zip is a folder/,
    );
  });

  it('names a layer the Keras and ONNX writers cannot represent', () => {
    const model = tf.sequential({
      layers: [
        tf.layers.averagePooling2d({ inputShape: [28, 28, 1], poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 10, activation: 'softmax' }),
      ],
    });
    expect(() => describeModel(model)).toThrow(
      /layer average_pooling2d_AveragePooling2D\d+ is of class AveragePooling2D, which export does not support/,
    );
    const elu = tf.sequential({
      layers: [
        tf.layers.flatten({ inputShape: [28, 28, 1] }),
        tf.layers.dense({ units: 10, activation: 'elu' }),
      ],
    });
    expect(() => describeModel(elu)).toThrow(/uses the activation "elu"/);
    model.dispose();
    elu.dispose();
  });
});
