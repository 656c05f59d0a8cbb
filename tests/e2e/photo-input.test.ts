import { writeFileSync } from 'node:fs';
import path from 'node:path';
import jpeg from 'jpeg-js';
import type { Browser, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDigitPhoto } from '../../src-main/shared/digit-photo';
import { runCli } from '../cli-runner';
import { mnistTestDigit, paperPhoto } from '../fixtures/paper-photos';
import { tempDir } from '../helpers';
import { launchBrowser, startServe, type ServeProcess } from './browser';
import { digitStrokes, PLACEMENTS } from './digit-strokes';
import { draw, openPage, previewInk } from './draw-helpers';
import { trainRun } from './fixtures';

/**
 * The Draw panel's photo input end to end, in Chromium against serve mode: photos of MNIST test
 * digits on shaded, specked paper (tests/fixtures/paper-photos.ts), picked or dropped, read in
 * the page by the same code as the CLI's `predict`, whose answer they must match.
 */

const checkpoints = tempDir();
const files = tempDir();
const screenshots = path.join(import.meta.dirname, '../../docs/screenshots');

let serve: ServeProcess;
let browser: Browser;
let page: Page;
let runId: string;
const problems: string[] = [];

function png(photo: ReturnType<typeof paperPhoto>): Buffer {
  const image = new PNG({ width: photo.width, height: photo.height });
  image.data.set(photo.rgba);
  return PNG.sync.write(image);
}

function jpg(photo: ReturnType<typeof paperPhoto>): Buffer {
  return jpeg.encode({ ...photo, data: Buffer.from(photo.rgba) }, 90).data;
}

/** The 28×28 the page shows as the model's input, in [0, 1]. */
const previewPixels = (p: Page) =>
  p.getByTestId('model-input-preview').evaluate((element) => {
    const c = element as unknown as {
      getContext(kind: '2d'): { getImageData(...a: number[]): { data: ArrayLike<number> } };
    };
    const data = c.getContext('2d').getImageData(0, 0, 28, 28).data;
    return Array.from({ length: 784 }, (_, i) => data[4 * i]! / 255);
  });

async function pick(p: Page, name: string, mimeType: string, buffer: Buffer): Promise<void> {
  await p.getByTestId('photo-input').setInputFiles({ name, mimeType, buffer });
}

/** Drops a file on the pad as a file manager would: dragover, then drop, with a DataTransfer. */
async function drop(p: Page, name: string, mimeType: string, buffer: Buffer): Promise<void> {
  const transfer = await p.evaluateHandle(
    ({ bytes, name, mimeType }) => {
      // Runs in the page; this tsconfig has no DOM types.
      const page = globalThis as unknown as {
        DataTransfer: new () => { items: { add(file: unknown): void } };
        File: new (parts: unknown[], name: string, options: { type: string }) => unknown;
      };
      const dt = new page.DataTransfer();
      dt.items.add(new page.File([new Uint8Array(bytes)], name, { type: mimeType }));
      return dt;
    },
    { bytes: Array.from(buffer), name, mimeType },
  );
  const pad = p.getByTestId('draw-pad');
  await pad.dispatchEvent('dragover', { dataTransfer: transfer });
  await pad.dispatchEvent('drop', { dataTransfer: transfer });
}

const prediction = (p: Page) => p.getByTestId('prediction').textContent();

beforeAll(async () => {
  const training = trainRun(checkpoints, [
    '--model',
    'mlp',
    '--epochs',
    '2',
    '--limit',
    '8000',
    '--backend',
    'wasm',
  ]);
  [serve, browser] = await Promise.all([
    startServe(checkpoints, ['--backend', 'wasm']),
    launchBrowser(),
  ]);
  runId = await training;
});

afterAll(async () => {
  await browser?.close();
  serve?.stop();
});

describe('Draw panel: photo input', () => {
  it('reads a picked PNG exactly as the CLI does, and answers as `predict` does', async () => {
    page = await openPage(browser, serve.url, problems);
    await expect
      .poll(() => page.getByTestId('draw-model').textContent(), { timeout: 30_000 })
      .toMatch(new RegExp(`run ${runId} epoch 2`));
    const digit = mnistTestDigit(0); // a 7
    const photo = paperPhoto(digit.pixels, { seed: 3 });
    const file = path.join(files, 'seven.png');
    writeFileSync(file, png(photo));
    await pick(page, 'seven.png', 'image/png', png(photo));
    await expect.poll(() => prediction(page), { timeout: 15_000 }).toMatch(/^\d$/);
    expect(await page.getByTestId('photo-name').textContent()).toBe('seven.png');

    // The page read the photo into the same 28×28 as Node does (to the preview's 8 bits).
    const expected = readDigitPhoto(photo.rgba, photo.width, photo.height).pixels;
    const shown = await previewPixels(page);
    const worst = Math.max(...shown.map((v, i) => Math.abs(v - expected[i]!)));
    expect(worst).toBeLessThanOrEqual(1 / 255 + 1e-6);

    const cli = runCli(checkpoints, 'predict', '--run', runId, '--image', file);
    expect(cli.code, cli.stderr).toBe(0);
    const answer = cli.lines.find((l) => l.type === 'prediction') as { digit: number };
    expect(await prediction(page)).toBe(String(answer.digit));
    expect(answer.digit).toBe(digit.label);
    await page.screenshot({ path: path.join(screenshots, 'draw-photo.png') });
  });

  it('reads a dropped JPEG, and keeps the photo when the next file is no image', async () => {
    const digit = mnistTestDigit(1); // a 2
    await drop(page, 'two.jpg', 'image/jpeg', jpg(paperPhoto(digit.pixels, { seed: 5 })));
    await expect.poll(() => page.getByTestId('photo-name').textContent()).toBe('two.jpg');
    await expect.poll(() => prediction(page)).toBe(String(digit.label));

    await pick(page, 'notes.png', 'image/png', Buffer.from('not a picture at all'));
    await expect
      .poll(() => page.getByTestId('photo-error').textContent())
      .toMatch(/Could not read notes\.png: the file is damaged or not really a PNG/);
    await pick(page, 'scan.gif', 'image/gif', Buffer.from('GIF89a'));
    await expect
      .poll(() => page.getByTestId('photo-error').textContent())
      .toMatch(/scan\.gif is not a PNG or JPEG image/);
    const blank = paperPhoto(new Float32Array(784), { specks: 0 });
    await pick(page, 'blank.png', 'image/png', png(blank));
    await expect
      .poll(() => page.getByTestId('photo-error').textContent())
      .toMatch(/No digit found in blank\.png/);
    // Nothing was lost: the photo and its answer are still there.
    expect(await page.getByTestId('photo-name').textContent()).toBe('two.jpg');
    expect(await prediction(page)).toBe(String(digit.label));
  });

  it('goes back to the pad when the pen touches it, and to nothing with Back to drawing', async () => {
    await draw(page, digitStrokes(1, PLACEMENTS[0]!));
    await expect.poll(() => page.getByTestId('photo-card').count()).toBe(0);
    await expect.poll(() => prediction(page)).toMatch(/^\d$/);
    const digit = mnistTestDigit(2); // a 1
    await pick(page, 'one.png', 'image/png', png(paperPhoto(digit.pixels)));
    await expect.poll(() => page.getByTestId('photo-name').textContent()).toBe('one.png');
    await expect.poll(() => prediction(page)).toBe(String(digit.label));
    await page.getByTestId('photo-remove').click();
    await expect.poll(() => prediction(page)).toBe('');
    expect(await page.getByTestId('photo-card').count()).toBe(0);
    expect(await previewInk(page)).toBe(0);
    expect(problems).toEqual([]);
  });
});
