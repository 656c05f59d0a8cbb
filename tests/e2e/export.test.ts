import * as tf from '@tensorflow/tfjs';
import { strFromU8, unzipSync } from 'fflate';
import { readFileSync, truncateSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { epochDirName, loadCheckpoint } from '../../src-main/engine/checkpoints';
import { INPUT_NAME, OUTPUT_NAME } from '../../src-main/engine/export/onnx-export';
import { testImages } from '../fixtures/export-runs';
import { tempDir } from '../helpers';
import { launchBrowser, startServe, type ServeProcess } from './browser';
import { trainRun } from './fixtures';

/**
 * Export from the Checkpoints panel end to end, in Chromium against serve mode: the dialog's
 * Export becomes a browser download, whose bytes load in onnxruntime, as a Keras 3 archive and in
 * TF.js, and predict what the engine predicts; a damaged checkpoint is an error in the dialog.
 */

const checkpoints = tempDir();
const screenshots = path.join(import.meta.dirname, '../../docs/screenshots');
const COUNT = 16;
let serve: ServeProcess;
let browser: Browser;
let page: Page;
let runId: string;
const problems: string[] = [];

beforeAll(async () => {
  const trained = trainRun(checkpoints, [
    '--model',
    'mlp',
    '--epochs',
    '1',
    '--limit',
    '3000',
    '--backend',
    'wasm',
  ]);
  [serve, browser] = await Promise.all([
    startServe(checkpoints, ['--backend', 'wasm']),
    launchBrowser(),
  ]);
  runId = await trained;
  await tf.setBackend('cpu');
  page = await browser.newPage({ viewport: { width: 1360, height: 980 }, acceptDownloads: true });
  // Console errors include CSP violations: the dialog must not need inline styles or scripts.
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(serve.url);
  await page.getByTestId('tab-checkpoints').click();
  const row = page.locator(`[data-testid="run-row"][data-run-id="${runId}"]`);
  await row.getByTestId('expand-button').click();
});

afterAll(async () => {
  await browser?.close();
  serve?.stop();
});

const dialog = (): Locator => page.getByTestId('export-dialog');

/** Opens the dialog on epoch 1, picks the format, exports, and returns the browser's download. */
async function download(
  format: 'tfjs' | 'keras' | 'onnx',
  { withOptimizer = false, screenshot = '' } = {},
) {
  const row = page.locator(
    `[data-testid="run-row"][data-run-id="${runId}"] [data-testid="checkpoint-row"][data-epoch="1"]`,
  );
  await row.getByTestId('export-button').click();
  await expect.poll(() => dialog().isVisible()).toBe(true);
  await dialog().getByTestId(`export-format-${format}`).check();
  if (withOptimizer) await dialog().getByTestId('export-optimizer').check();
  const [started] = await Promise.all([
    page.waitForEvent('download'),
    dialog().getByTestId('confirm-export-button').click(),
  ]);
  const file = await started.path();
  await expect
    .poll(() => dialog().getByTestId('export-result').textContent())
    .toMatch(/^\s*Downloading /);
  const fileName = (await dialog().getByTestId('export-file-name').textContent())!;
  if (screenshot) await page.screenshot({ path: path.join(screenshots, screenshot) });
  await dialog().getByRole('button', { name: 'Close' }).click();
  return {
    bytes: readFileSync(file),
    suggested: started.suggestedFilename(),
    fileName,
    url: started.url(),
  };
}

/** What the engine itself answers for the first test images, from the checkpoint on disk. */
async function engineDigits(): Promise<number[]> {
  const { model } = await loadCheckpoint(checkpoints, runId, 1);
  const digits = tf.tidy(() =>
    (model.predict(tf.tensor4d(testImages(COUNT), [COUNT, 28, 28, 1])) as tf.Tensor).argMax(-1),
  );
  const result = Array.from(await digits.data());
  digits.dispose();
  model.dispose();
  return result;
}

const argmaxRows = (p: ArrayLike<number>) =>
  Array.from({ length: COUNT }, (_, i) => {
    let best = 0;
    for (let k = 1; k < 10; k++) if (p[i * 10 + k]! > p[i * 10 + best]!) best = k;
    return best;
  });

describe('Export from the Checkpoints panel', () => {
  it('downloads an ONNX file that onnxruntime runs to the engine’s answers, once', async () => {
    const { bytes, suggested, fileName, url } = await download('onnx', {
      screenshot: 'export-dialog.png',
    });
    expect(suggested).toBe(`${runId}-epoch1.onnx`);
    expect(fileName).toBe(suggested);
    const session = await ort.InferenceSession.create(bytes);
    const output = await session.run({
      [INPUT_NAME]: new ort.Tensor('float32', testImages(COUNT), [COUNT, 28, 28, 1]),
    });
    const expected = await engineDigits();
    expect(new Set(expected).size).toBeGreaterThan(1);
    expect(argmaxRows(output[OUTPUT_NAME]!.data as Float32Array)).toEqual(expected);
    await session.release();
    // The link was for one download: the same URL, with the page's own cookie, is gone.
    expect((await page.request.get(url)).status()).toBe(404);
  });

  it('downloads a Keras 3 archive', async () => {
    const { bytes, suggested } = await download('keras');
    expect(suggested).toBe(`${runId}-epoch1.keras`);
    const entries = unzipSync(bytes);
    expect(Object.keys(entries).sort()).toEqual([
      'config.json',
      'metadata.json',
      'model.weights.h5',
    ]);
    expect(JSON.parse(strFromU8(entries['metadata.json']!))).toMatchObject({
      keras_version: expect.stringMatching(/^3\./),
    });
  });

  it('downloads a TF.js zip, with Adam’s state when asked, that TF.js loads', async () => {
    const { bytes, suggested } = await download('tfjs', { withOptimizer: true });
    expect(suggested).toBe(`${runId}-epoch1.zip`);
    const files = unzipSync(bytes);
    expect(Object.keys(files).sort()).toEqual(['model.json', 'weights.bin']);
    const json = JSON.parse(strFromU8(files['model.json']!)) as {
      modelTopology: tf.io.ModelArtifacts['modelTopology'];
      trainingConfig?: tf.io.TrainingConfig;
      weightsManifest: tf.io.WeightsManifestConfig;
    };
    expect(json.trainingConfig).toBeDefined();
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
        weightData: files['weights.bin']!.slice().buffer as ArrayBuffer,
      }),
    );
    const digits = tf.tidy(() =>
      (model.predict(tf.tensor4d(testImages(COUNT), [COUNT, 28, 28, 1])) as tf.Tensor).argMax(-1),
    );
    expect(Array.from(await digits.data())).toEqual(await engineDigits());
    digits.dispose();
    model.dispose();
  });

  it('says why a checkpoint damaged meanwhile cannot be exported, and stays open', async () => {
    truncateSync(path.join(checkpoints, runId, epochDirName(1), 'weights.bin'), 10);
    const row = page.locator(
      `[data-testid="run-row"][data-run-id="${runId}"] [data-testid="checkpoint-row"][data-epoch="1"]`,
    );
    await row.getByTestId('export-button').click();
    await dialog().getByTestId('export-format-onnx').check();
    await dialog().getByTestId('confirm-export-button').click();
    const result = dialog().getByTestId('export-result');
    await expect
      .poll(() => result.textContent(), { timeout: 20_000 })
      .toMatch(/Export failed: .*epoch 1 is damaged: weights\.bin is 10 bytes/);
    expect(await result.getAttribute('role')).toBe('alert');
    expect(await dialog().isVisible()).toBe(true);
    expect(await dialog().getByTestId('export-format-onnx').isChecked()).toBe(true);
    await page.keyboard.press('Escape');
    await expect.poll(() => dialog().isVisible()).toBe(false);
    expect(problems).toEqual([]);
  });
});
