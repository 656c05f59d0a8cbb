import * as tf from '@tensorflow/tfjs';
import { strFromU8, unzipSync } from 'fflate';
import { existsSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ExportOutcome } from '../../src-main/contract/api';
import { epochDirName, loadCheckpoint } from '../../src-main/engine/checkpoints';
import { INPUT_NAME, OUTPUT_NAME } from '../../src-main/engine/export/onnx-export';
import { renameRun } from '../../src-main/engine/runs';
import { handleClientRequest } from '../../src-main/host/client-requests';
import {
  saveDialogDestination,
  type ExportDestination,
  type ShowSaveDialog,
} from '../../src-main/host/export-destination';
import { DownloadStore } from '../../src-main/serve/downloads';
import { writeRun } from '../fixtures/checkpoints';
import { testImages } from '../fixtures/export-runs';
import { tempDir } from '../helpers';
import { hostWithEvents } from './fixtures';

/**
 * A page's export through the host and a real forked worker: serve mode's private temp folder,
 * the desktop app's save dialog (stood in for by a function), a cancel, and what goes wrong.
 */

const root = tempDir();
const saved = tempDir();
const { host } = hostWithEvents(root, { backend: 'cpu' });
const store = new DownloadStore();
/** The paths the worker wrote downloads to, as serve mode's store handed them out. */
const written: string[] = [];
const serveStyle: ExportDestination = {
  async choose(offer) {
    const place = await store.choose(offer);
    written.push(place.path);
    return place;
  },
};
const context = { mode: 'serve' as const, checkpointsDir: root };
let runId: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  runId = await writeRun(root, 2);
  // Slashes and quotes in a name never reach a file name.
  renameRun(root, runId, 'first "MLP"/β');
});
afterAll(() => {
  host.dispose();
  store.close();
});

const ask = (raw: object, destination: ExportDestination | null = serveStyle) =>
  handleClientRequest(host, { type: 'exportCheckpoint', ...raw }, context, null, destination);

const asDownload = (outcome: unknown) => {
  const o = outcome as ExportOutcome;
  if (o.status !== 'download') throw new Error(`expected a download, got ${JSON.stringify(o)}`);
  return o;
};

/** The engine's own argmax for the first `count` test images, from the checkpoint itself. */
async function engineDigits(count: number, epoch: number): Promise<number[]> {
  const { model } = await loadCheckpoint(root, runId, epoch);
  const probabilities = tf.tidy(() =>
    (model.predict(tf.tensor4d(testImages(count), [count, 28, 28, 1])) as tf.Tensor).argMax(-1),
  );
  const digits = Array.from(await probabilities.data());
  probabilities.dispose();
  model.dispose();
  return digits;
}

describe('export to serve mode’s downloads', () => {
  it('ONNX: a file onnxruntime loads and that predicts what the engine predicts', async () => {
    const outcome = asDownload(
      await ask({ runId, epoch: 2, format: 'onnx', withOptimizer: false }),
    );
    expect(outcome.fileName).toBe('first -MLP-β-epoch2.onnx');
    expect(outcome.url).toMatch(/^\/downloads\/[\w-]{24}$/);
    const file = written.at(-1)!;
    expect(path.basename(file)).toBe(outcome.fileName);
    expect(file.startsWith(store.root + path.sep)).toBe(true);
    const bytes = readFileSync(file);
    expect(bytes.length).toBe(outcome.bytes);

    const count = 16;
    const session = await ort.InferenceSession.create(bytes);
    const output = await session.run({
      [INPUT_NAME]: new ort.Tensor('float32', testImages(count), [count, 28, 28, 1]),
    });
    const p = output[OUTPUT_NAME]!.data as Float32Array;
    const digits = Array.from({ length: count }, (_, i) => {
      let best = 0;
      for (let k = 1; k < 10; k++) if (p[i * 10 + k]! > p[i * 10 + best]!) best = k;
      return best;
    });
    const expected = await engineDigits(count, 2);
    // Not equal by luck: the images must get different answers.
    expect(new Set(expected).size).toBeGreaterThan(1);
    expect(digits).toEqual(expected);
    await session.release();
  });

  it('Keras 3: a .keras zip with its config, metadata and HDF5 weights', async () => {
    const outcome = asDownload(
      await ask({ runId, epoch: 1, format: 'keras', withOptimizer: false }),
    );
    expect(outcome.fileName).toBe('first -MLP-β-epoch1.keras');
    const entries = unzipSync(readFileSync(written.at(-1)!));
    expect(Object.keys(entries).sort()).toEqual([
      'config.json',
      'metadata.json',
      'model.weights.h5',
    ]);
    expect(JSON.parse(strFromU8(entries['config.json']!))).toMatchObject({
      class_name: 'Sequential',
    });
  });

  it('TensorFlow.js: a zip of model.json and weights.bin, with Adam’s state when asked', async () => {
    const plain = asDownload(await ask({ runId, epoch: 1, format: 'tfjs', withOptimizer: false }));
    const plainFiles = unzipSync(readFileSync(written.at(-1)!));
    const full = asDownload(await ask({ runId, epoch: 1, format: 'tfjs', withOptimizer: true }));
    const fullFiles = unzipSync(readFileSync(written.at(-1)!));
    expect(plain.fileName).toBe('first -MLP-β-epoch1.zip');
    expect(full.url).not.toBe(plain.url);
    expect(Object.keys(plainFiles).sort()).toEqual(['model.json', 'weights.bin']);
    const modelJson = (files: Record<string, Uint8Array>) =>
      JSON.parse(strFromU8(files['model.json']!)) as { trainingConfig?: unknown };
    expect(modelJson(plainFiles).trainingConfig).toBeUndefined();
    expect(modelJson(fullFiles).trainingConfig).toMatchObject({ loss: expect.anything() });
    expect(fullFiles['weights.bin']!.length).toBeGreaterThan(plainFiles['weights.bin']!.length);
  });

  it('refuses a damaged checkpoint with its reason, and keeps nothing of it', async () => {
    const damaged = await writeRun(root, 1);
    truncateSync(path.join(root, damaged, epochDirName(1), 'weights.bin'), 10);
    const waiting = store.size;
    const before = readdirSync(store.root).length;
    await expect(
      ask({ runId: damaged, epoch: 1, format: 'onnx', withOptimizer: false }),
    ).rejects.toThrow(/epoch 1 is damaged: weights\.bin is 10 bytes, expected \d+ \(truncated\)/);
    expect(store.size).toBe(waiting);
    expect(readdirSync(store.root).length).toBe(before);
  });

  it('refuses a run that is gone before anything is chosen', async () => {
    const choose = vi.fn(serveStyle.choose);
    await expect(
      ask({ runId: 'no-such-run', epoch: 1, format: 'onnx', withOptimizer: false }, { choose }),
    ).rejects.toThrow('run no-such-run not found');
    await expect(ask({ runId, epoch: 7, format: 'onnx', withOptimizer: false })).rejects.toThrow(
      `run ${runId} has no checkpoint for epoch 7`,
    );
    expect(choose).not.toHaveBeenCalled();
  });

  it('never takes a path from the page, nor the worker’s own command', async () => {
    const before = written.length;
    await expect(
      ask({ runId, epoch: 1, format: 'onnx', withOptimizer: false, out: path.join(saved, 'x') }),
    ).rejects.toThrow('invalid request: unknown field(s): out');
    await expect(
      handleClientRequest(
        host,
        {
          type: 'writeExport',
          runId,
          epoch: 1,
          format: 'onnx',
          withOptimizer: false,
          out: path.join(saved, 'evil.onnx'),
          overwrite: true,
        },
        context,
        null,
        serveStyle,
      ),
    ).rejects.toThrow(/invalid request: type: /);
    expect(written.length).toBe(before);
    expect(existsSync(path.join(saved, 'evil.onnx'))).toBe(false);
  });

  it('is refused by a host without a destination', async () => {
    await expect(
      ask({ runId, epoch: 1, format: 'onnx', withOptimizer: false }, null),
    ).rejects.toThrow('this host cannot export checkpoints');
  });
});

describe('export through the desktop app’s save dialog', () => {
  const dialogAnswering = (answer: Awaited<ReturnType<ShowSaveDialog>>) => {
    const show = vi.fn<ShowSaveDialog>(async () => answer);
    return { show, destination: saveDialogDestination(show, () => '/home/someone/Downloads') };
  };

  it('offers the name and a filter, and saves where the user chose', async () => {
    const file = path.join(saved, 'chosen.onnx');
    const { show, destination } = dialogAnswering({ canceled: false, filePath: file });
    const outcome = await ask(
      { runId, epoch: 2, format: 'onnx', withOptimizer: false },
      destination,
    );
    expect(show).toHaveBeenCalledWith({
      title: 'Export as ONNX (.onnx)',
      defaultPath: path.join('/home/someone/Downloads', 'first -MLP-β-epoch2.onnx'),
      filters: [{ name: 'ONNX (.onnx)', extensions: ['onnx'] }],
    });
    const bytes = readFileSync(file).length;
    expect(outcome).toEqual({ status: 'saved', path: file, bytes });
  });

  it('replaces a file the dialog asked about', async () => {
    const file = path.join(saved, 'again.keras');
    writeFileSync(file, 'old');
    const { destination } = dialogAnswering({ canceled: false, filePath: file });
    await expect(
      ask({ runId, epoch: 1, format: 'keras', withOptimizer: false }, destination),
    ).resolves.toMatchObject({ status: 'saved', path: file });
    expect(unzipSync(readFileSync(file))['metadata.json']).toBeDefined();
  });

  it('adds a missing extension, and then keeps a file the dialog never asked about', async () => {
    const typed = path.join(saved, 'typed');
    const { destination } = dialogAnswering({ canceled: false, filePath: typed });
    await expect(
      ask({ runId, epoch: 1, format: 'tfjs', withOptimizer: true }, destination),
    ).resolves.toMatchObject({ status: 'saved', path: `${typed}.zip` });
    expect(Object.keys(unzipSync(readFileSync(`${typed}.zip`))).sort()).toEqual([
      'model.json',
      'weights.bin',
    ]);
    writeFileSync(`${typed}.onnx`, 'precious');
    await expect(
      ask({ runId, epoch: 1, format: 'onnx', withOptimizer: false }, destination),
    ).rejects.toThrow(/typed\.onnx already exists/);
    expect(readFileSync(`${typed}.onnx`, 'utf8')).toBe('precious');
  });

  it('does nothing when the user cancels', async () => {
    const before = readdirSync(saved).sort();
    for (const answer of [{ canceled: true, filePath: '' }, { canceled: true }]) {
      const { show, destination } = dialogAnswering(answer);
      await expect(
        ask({ runId, epoch: 1, format: 'onnx', withOptimizer: false }, destination),
      ).resolves.toEqual({ status: 'cancelled' });
      expect(show).toHaveBeenCalledOnce();
    }
    expect(readdirSync(saved).sort()).toEqual(before);
  });
});
