import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers';
import { launchBrowser, startServe, type ServeProcess } from './browser';
import { PLACEMENTS } from './digit-strokes';
import { clear, drawDigit, openPage, sleep } from './draw-helpers';
import { trainRun } from './fixtures';

/**
 * The Draw panel's "What the network sees" end to end, in Chromium against serve mode: after a
 * digit is drawn, every layer of the checkpoint's model shows its activations, the saliency map
 * explains the answer, and the first layer's filters (a CNN) or templates (an MLP) are drawn.
 * The stroke → prediction latency with it is checked by draw-panel.test.ts.
 */

const screenshots = path.join(import.meta.dirname, '../../docs/screenshots');
const cnnDir = tempDir();
const mlpDir = tempDir();

let cnn: ServeProcess;
let mlp: ServeProcess;
let browser: Browser;
let cnnRun: Promise<string>;
let mlpRun: Promise<string>;
const problems: string[] = [];

beforeAll(async () => {
  const quick = ['--epochs', '1', '--limit', '6000', '--backend', 'wasm'];
  cnnRun = trainRun(cnnDir, ['--model', 'cnn-fast', ...quick]);
  mlpRun = trainRun(mlpDir, ['--model', 'mlp', '--hidden-units', '64', ...quick]);
  [cnn, mlp, browser] = await Promise.all([
    startServe(cnnDir, ['--backend', 'wasm']),
    startServe(mlpDir, ['--backend', 'wasm']),
    launchBrowser(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  cnn?.stop();
  mlp?.stop();
});

/**
 * Back to the top of the page, where a drawing needs the whole pad in view: clicking or
 * capturing the inside view below scrolls it away, and scrolling the pad into view can leave its
 * top edge under the header.
 */
async function padInView(page: Page): Promise<void> {
  await page.mouse.wheel(0, -10_000);
  await expect
    .poll(async () => (await page.getByTestId('draw-pad').boundingBox())!.y)
    .toBeGreaterThan(50);
}

/** Layer names of a run's checkpoint, as its model.json lists them. */
function layerNames(dir: string, runId: string): string[] {
  const file = path.join(dir, runId, 'epoch-001', 'model.json');
  const json = JSON.parse(readFileSync(file, 'utf8')) as {
    modelTopology: { config: { layers: { config: { name: string } }[] } };
  };
  return json.modelTopology.config.layers.map((l) => l.config.name);
}

async function openWithModel(url: string): Promise<Page> {
  const page = await openPage(browser, url, problems);
  await expect
    .poll(() => page.getByTestId('draw-model').getAttribute('data-predictor'), { timeout: 30_000 })
    .toBe('window');
  return page;
}

interface Shown {
  name: string;
  shape: string;
  maxAbs: number;
  nonzero: number;
  canvases: number;
  litCanvases: number;
}

/** Each layer block: its name, shape, numbers, and how many of its canvases have any colour. */
const layers = (page: Page) =>
  page
    .getByTestId('layer-activations')
    .locator('[data-layer]')
    .evaluateAll((els) =>
      els.map((e) => {
        const canvases = [...e.querySelectorAll('canvas')];
        const lit = canvases.filter((c) => {
          const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
          for (let i = 0; i < d.length; i += 4) if (d[i]! + d[i + 1]! + d[i + 2]! > 30) return true;
          return false;
        });
        return {
          name: e.getAttribute('data-layer')!,
          shape: e.getAttribute('data-shape')!,
          maxAbs: Number(e.getAttribute('data-max-abs')),
          nonzero: Number(e.getAttribute('data-nonzero')),
          canvases: canvases.length,
          litCanvases: lit.length,
        } satisfies Shown;
      }),
    );

const saliency = async (page: Page) => {
  const map = page.getByTestId('saliency-map');
  const attr = async (name: string) => Number(await map.getAttribute(name));
  return {
    method: await map.getAttribute('data-method'),
    digit: await attr('data-digit'),
    sum: await attr('data-sum'),
    max: await attr('data-max'),
    delta: await attr('data-delta'),
  };
};

const timing = async (page: Page) => {
  const box = page.getByTestId('inside-timing');
  return {
    activations: Number(await box.getAttribute('data-activations-ms')),
    saliency: Number(await box.getAttribute('data-saliency-ms')),
    part: Number(await box.getAttribute('data-saliency-part-ms')),
  };
};

describe('Draw panel: what the network sees', () => {
  it('shows every layer, the saliency and the first filters of a CNN', async () => {
    const runId = await cnnRun;
    const names = layerNames(cnnDir, runId);
    const page = await openWithModel(cnn.url);
    await expect(page.getByTestId('inside-view').getAttribute('data-status')).resolves.toBe(
      'empty',
    );

    const digit = await drawDigit(page, 7, PLACEMENTS[0]!);
    await expect
      .poll(async () => (await layers(page)).map((l) => l.name), { timeout: 10_000 })
      .toEqual(names);
    const shown = await layers(page);
    for (const layer of shown) {
      expect(layer.maxAbs, layer.name).toBeGreaterThan(0);
      expect(layer.nonzero, layer.name).toBeGreaterThan(0);
      if (layer.canvases) expect(layer.litCanvases, layer.name).toBeGreaterThan(0);
    }
    // Feature maps, at most 16 per layer until asked for all of them.
    expect(shown[0]).toMatchObject({ shape: '26x26x32', canvases: 16 });
    expect(shown.at(-1)!.shape).toBe('10');
    const block = page.locator(`[data-layer="${names[0]}"]`);
    await expect(block.textContent()).resolves.toMatch(/16 of 32 channels/);
    await block.getByRole('button', { name: 'Show all 32' }).click();
    await expect.poll(async () => (await layers(page))[0]!.canvases).toBe(32);

    // The answer's saliency: integrated gradients that add up to the change from a black image.
    await expect
      .poll(async () => (await saliency(page)).max, { timeout: 10_000 })
      .toBeGreaterThan(0);
    const s = await saliency(page);
    expect(s.method).toBe('integrated-gradients');
    expect(String(s.digit)).toBe(digit);
    expect(s.sum).not.toBe(0);
    expect(Math.abs(s.sum - s.delta)).toBeLessThan(0.1 * Math.abs(s.delta) + 1e-3);

    const filters = page.getByTestId('first-layer-filters');
    await expect(filters.getAttribute('data-kind')).resolves.toBe('conv');
    await expect(filters.locator('canvas').count()).resolves.toBe(16);

    // For the README, a digit the quickly trained model reads right (the 7 it may not).
    const screenshot = async () => {
      await page.getByTestId('inside-view').scrollIntoViewIfNeeded();
      await page
        .getByTestId('inside-view')
        .screenshot({ path: path.join(screenshots, 'draw-inside.png') });
    };
    let shot = digit === '7';
    if (shot) await screenshot();

    // What a look costs, over a few drawings (the first includes the runtime's warm-up).
    const costs = [await timing(page)];
    for (const more of [3, 4]) {
      await clear(page);
      await padInView(page);
      const read = await drawDigit(page, more, PLACEMENTS[0]!);
      await expect
        .poll(async () => (await saliency(page)).max, { timeout: 10_000 })
        .toBeGreaterThan(0);
      costs.push(await timing(page));
      if (!shot && (read === String(more) || more === 4)) {
        shot = true;
        await screenshot();
      }
    }
    console.log(
      `Inside view, cnn-fast in Chromium (WASM), ms per look: activations ` +
        `${costs.map((c) => c.activations).join(', ')}; integrated gradients ` +
        `${costs.map((c) => c.saliency).join(', ')} (longest part ` +
        `${costs.map((c) => c.part).join(', ')})`,
    );

    // The pad's own answer with the view at work on a CNN (draw-panel.test.ts holds the MLP's
    // to a frame): stroke → prediction in the DOM, and the share painted with the stroke's ink.
    // Measured: p95 6.5 ms, 100 % with the stroke's frame.
    const latency = page.getByTestId('draw-latency');
    const shownMs = ((await latency.getAttribute('data-samples')) ?? '').split(' ').map(Number);
    const same = (await latency.getAttribute('data-same-frame')) ?? '';
    const sorted = [...shownMs].sort((a, b) => a - b);
    console.log(
      `Draw panel with the inside view, cnn-fast: ${shownMs.length} samples, p95 ` +
        `${sorted[Math.ceil(0.95 * sorted.length) - 1]} ms, same frame ${same}`,
    );
    expect(sorted[Math.ceil(0.95 * sorted.length) - 1]).toBeLessThan(16);
    expect(Number(same)).toBeGreaterThan(0.9);

    // Cleared: nothing left of the old drawing.
    await clear(page);
    await expect.poll(() => page.getByTestId('layer-activations').count()).toBe(0);
    await expect(page.getByTestId('saliency-map').count()).resolves.toBe(0);

    // Closed, nothing is computed; opened again, the next drawing is looked at.
    await page.locator('summary', { hasText: 'What the network sees' }).click();
    await padInView(page);
    await drawDigit(page, 1, PLACEMENTS[0]!);
    await sleep(500);
    await expect(page.getByTestId('layer-activations').count()).resolves.toBe(0);
    await page.locator('summary', { hasText: 'What the network sees' }).click();
    await expect
      .poll(async () => (await layers(page)).length, { timeout: 10_000 })
      .toBe(names.length);

    // Fits the small window and the big one without sideways scrolling.
    for (const [width, height] of [
      [900, 640],
      [1920, 1080],
    ] as const) {
      await page.setViewportSize({ width, height });
      await sleep(200);
      const overflow = await page.evaluate(
        // This tsconfig has no DOM types: the page's root element, typed by hand.
        () => {
          const root = (
            globalThis as unknown as {
              document: { documentElement: { scrollWidth: number; clientWidth: number } };
            }
          ).document.documentElement;
          return root.scrollWidth - root.clientWidth;
        },
      );
      expect(overflow, `${width} × ${height}`).toBeLessThanOrEqual(0);
      const box = (await page.getByTestId('inside-view').boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(width);
    }
    await page.close();
    expect(problems).toEqual([]);
  });

  it('shows an MLP’s first-layer weight templates and its dense layers as bars', async () => {
    const runId = await mlpRun;
    const names = layerNames(mlpDir, runId);
    const page = await openWithModel(mlp.url);
    await drawDigit(page, 0, PLACEMENTS[0]!);
    await expect
      .poll(async () => (await layers(page)).map((l) => l.name), { timeout: 10_000 })
      .toEqual(names);
    for (const layer of await layers(page)) expect(layer.maxAbs, layer.name).toBeGreaterThan(0);
    const hidden = page.locator(`[data-layer="${names[1]}"]`);
    await expect(hidden.locator('svg rect').count()).resolves.toBe(64);
    const filters = page.getByTestId('first-layer-filters');
    await expect(filters.getAttribute('data-kind')).resolves.toBe('dense');
    await expect(filters.textContent()).resolves.toMatch(/16 of 64/);
    await expect
      .poll(async () => (await saliency(page)).max, { timeout: 10_000 })
      .toBeGreaterThan(0);
    const cost = await timing(page);
    console.log(
      `Inside view, mlp (64 units) in Chromium (WASM): activations ${cost.activations} ms, ` +
        `integrated gradients ${cost.saliency} ms`,
    );
    await page.close();
    expect(problems).toEqual([]);
  });
});
