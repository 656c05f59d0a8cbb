import { rmSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers';
import { launchBrowser, startServe, type ServeProcess } from './browser';
import { trainRun } from './fixtures';

/**
 * The Evaluate panel end to end, in real Chromium against serve mode: a small MLP trained by the
 * CLI is evaluated on the 10,000 test images, its confusion matrix opened cell by cell.
 */

const checkpoints = tempDir();
const screenshots = path.join(import.meta.dirname, '../../docs/screenshots');
let serve: ServeProcess;
let browser: Browser;
let page: Page;
let runId = '';
const problems: string[] = [];

beforeAll(async () => {
  // Train while the server and the browser start.
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
  page = await browser.newPage({ viewport: { width: 1360, height: 980 } });
  // Console errors include CSP violations: colours and widths must not need inline styles.
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(serve.url);
});

afterAll(async () => {
  await browser?.close();
  serve?.stop();
});

interface Cell {
  actual: number;
  predicted: number;
  count: number;
}

const matrix = () =>
  page
    .getByTestId('confusion-matrix')
    .locator('[data-testid="confusion-cell"]')
    .evaluateAll((cells) =>
      cells.map((c) => ({
        actual: Number(c.getAttribute('data-actual')),
        predicted: Number(c.getAttribute('data-predicted')),
        count: Number(c.getAttribute('data-count')),
      })),
    );

describe('Evaluate panel', () => {
  it('evaluates the best finished run with a moving progress bar', async () => {
    await page.getByTestId('tab-evaluate').click();
    await expect
      .poll(() => page.getByTestId('checkpoint-select').textContent(), { timeout: 20_000 })
      .toContain(`Model in use: ${runId}, epoch 1 (best finished)`);

    // Every value the progress bar takes, recorded in the page: the evaluation is quick.
    // (A string: the Node side of the tests has no DOM types.)
    await page.evaluate(`(() => {
      const seen = (globalThis.progressSeen = []);
      const record = () => {
        const bar = document.querySelector('[data-testid="evaluate-progress"]');
        if (bar) seen.push(Number(bar.getAttribute('value')));
      };
      new MutationObserver(record).observe(document.body, {
        subtree: true,
        childList: true,
        attributes: true,
        attributeFilter: ['value'],
      });
    })()`);
    await page.getByTestId('evaluate-button').click();
    await expect
      .poll(() => page.getByTestId('evaluate-accuracy').count(), { timeout: 60_000 })
      .toBe(1);
    const seen = await page.evaluate(
      () => (globalThis as unknown as { progressSeen: number[] }).progressSeen,
    );
    expect(seen.some((v) => v > 0 && v < 1)).toBe(true);
    expect(seen.at(-1)).toBe(1);
    expect(await page.getByTestId('evaluate-button').isDisabled()).toBe(false);

    // One epoch of the MLP on 3,000 images: far better than chance, short of a trained model.
    const accuracy = Number(await page.getByTestId('evaluate-accuracy').getAttribute('data-value'));
    expect(accuracy).toBeGreaterThan(0.75);
    expect(accuracy).toBeLessThan(0.99);
    expect(await page.getByTestId('evaluate-count').getAttribute('data-value')).toBe('10000');
    expect(await page.getByTestId('class-accuracy').count()).toBe(10);
  });

  it('shows a 10×10 confusion matrix of the 10,000 test images', async () => {
    const cells = await matrix();
    expect(cells).toHaveLength(100);
    expect(cells.reduce((s, c) => s + c.count, 0)).toBe(10_000);
    const correct = cells.filter((c) => c.actual === c.predicted).reduce((s, c) => s + c.count, 0);
    const accuracy = Number(await page.getByTestId('evaluate-accuracy').getAttribute('data-value'));
    expect(correct / 10_000).toBeCloseTo(accuracy, 6);
  });

  it('opens the largest off-diagonal cell and shows its test images', async () => {
    const worst = (await matrix())
      .filter((c) => c.actual !== c.predicted)
      .reduce<Cell>((a, b) => (b.count > a.count ? b : a), { actual: 0, predicted: 0, count: 0 });
    expect(worst.count).toBeGreaterThan(0);
    await page
      .locator(
        `[data-testid="confusion-cell"][data-actual="${worst.actual}"][data-predicted="${worst.predicted}"]`,
      )
      .click();
    const box = page.getByTestId('cell-examples');
    await expect
      .poll(() => box.getAttribute('data-total'), { timeout: 20_000 })
      .toBe(String(worst.count));
    const cards = box.getByTestId('example-card');
    expect(await cards.count()).toBe(Math.min(worst.count, 100));
    const shown = await cards.evaluateAll((els) =>
      els.map((e) => [e.getAttribute('data-label'), e.getAttribute('data-predicted')]),
    );
    expect(
      shown.every(([l, p]) => l === String(worst.actual) && p === String(worst.predicted)),
    ).toBe(true);
    expect(await page.getByTestId('cell-examples-count').textContent()).toMatch(
      new RegExp(`showing ${Math.min(worst.count, 100)} of ${worst.count} image`),
    );
    // The images are drawn: some pixel of the first one is ink.
    const inked = await box
      .locator('canvas')
      .first()
      .evaluate((c) => {
        // (No DOM types on the Node side of the tests: the canvas API as far as used here.)
        const canvas = c as unknown as {
          getContext(kind: '2d'): {
            getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
          };
        };
        const data = canvas.getContext('2d').getImageData(0, 0, 28, 28).data;
        return data.some((v, i) => i % 4 === 0 && v > 200);
      });
    expect(inked).toBe(true);
  });

  it('shows a gallery of the most confidently wrong predictions', async () => {
    const gallery = page.getByTestId('misclassified-gallery');
    const cards = gallery.getByTestId('example-card');
    expect(await cards.count()).toBe(48);
    expect(await cards.first().textContent()).toMatch(/true \d → predicted \d \(\d+ %\)/);
    const wrong = await cards.evaluateAll((els) =>
      els.every((e) => e.getAttribute('data-label') !== e.getAttribute('data-predicted')),
    );
    expect(wrong).toBe(true);
    // The README's picture: results and the opened cell, as the window shows them.
    await page.evaluate(() =>
      (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0),
    );
    await page.screenshot({ path: path.join(screenshots, 'evaluate-panel.png') });
  });

  it('keeps the result after switching tabs, with no console errors', async () => {
    await page.getByTestId('tab-train').click();
    await page.getByTestId('tab-evaluate').click();
    expect(await page.getByTestId('evaluate-accuracy').isVisible()).toBe(true);
    expect(await page.getByTestId('cell-examples').isVisible()).toBe(true);
    expect(problems).toEqual([]);
  });

  it('reports a checkpoint deleted meanwhile, keeping its result marked as gone', async () => {
    // Deleted behind the app's back: the listing still shows it until the evaluation fails.
    rmSync(path.join(checkpoints, runId, 'epoch-001'), { recursive: true, force: true });
    await page.getByTestId('evaluate-button').click();
    await expect
      .poll(() => page.getByTestId('evaluate-error').textContent(), { timeout: 20_000 })
      .toMatch(new RegExp(`Could not evaluate ${runId}, epoch 1: \\S`));
    await expect.poll(() => page.getByTestId('evaluation-stale').count()).toBe(1);
    expect(await page.getByTestId('evaluate-accuracy').isVisible()).toBe(true);
    expect(await page.getByTestId('evaluate-button').isDisabled()).toBe(true);
    expect(
      await page.getByTestId('misclassified-gallery').getByTestId('example-card').count(),
    ).toBe(48);
    expect(problems).toEqual([]);
  });
});
