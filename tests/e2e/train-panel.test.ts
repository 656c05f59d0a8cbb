import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers';
import { launchBrowser, startServe, type ServeProcess } from './browser';

/**
 * The Train panel end to end, in real Chromium against serve mode (the same renderer and host
 * as the Electron app, whose binary cannot be downloaded here).
 */

const checkpoints = tempDir();
const screenshots = path.join(import.meta.dirname, '../../docs/screenshots');
let serve: ServeProcess;
let browser: Browser;
let page: Page;

const points = async (testid: string, kind: 'epoch' | 'validation' | 'batch') =>
  Number(await page.getByTestId(testid).getAttribute(`data-${kind}-points`));

async function configure(values: { epochs: string; limit: string }) {
  await page.getByTestId('epochs-input').fill(values.epochs);
  await page.getByTestId('limit-input').fill(values.limit);
}

beforeAll(async () => {
  serve = await startServe(checkpoints, ['--backend', 'wasm']);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1360, height: 980 } });
  await page.goto(serve.url);
});

afterAll(async () => {
  await browser?.close();
  serve?.stop();
});

describe('Train panel', () => {
  it('shows the backend in use and why', async () => {
    await expect
      .poll(() => page.getByTestId('backend-badge').textContent(), { timeout: 20_000 })
      .toBe('WASM — chosen by you');
    await expect.poll(() => page.getByTestId('status').textContent()).toMatch(/^\s*Ready\.\s*$/);
    // The seed mlp on all 54,000 images: a couple of seconds an epoch at the measured rate.
    expect(await page.getByTestId('estimate').textContent()).toMatch(
      /^≈ \d+ s per epoch, ≈ \d+ s for 10 epochs$/,
    );
  });

  it('rejects a bad hyper-parameter in the form, naming the field and its range', async () => {
    const form = page.getByTestId('train-form');
    const before = await form.boundingBox();
    await page.getByTestId('epochs-input').fill('0');
    await expect.poll(() => page.getByText('Epochs must be between 1 and 500').count()).toBe(1);
    // The error takes the hint's reserved lines: nothing below it moves.
    expect(await form.boundingBox()).toEqual(before);
    expect(await page.getByTestId('start-button').isDisabled()).toBe(true);
    await page.getByTestId('epochs-input').fill('2');
    expect(await page.getByTestId('start-button').isDisabled()).toBe(false);
  });

  it('trains a small run with both charts gaining points every epoch', async () => {
    await configure({ epochs: '3', limit: '3000' });
    await page.getByTestId('start-button').click();
    // A 3-epoch MLP on 3,000 images may finish between two polls: either phase shows it started.
    // Starting takes the worker's engine start (backend probe, data) first: over poll's default
    // second on a loaded machine (seen in CI).
    await expect
      .poll(() => page.getByTestId('status').getAttribute('data-phase'), { timeout: 30_000 })
      .toMatch(/^(training|finished)$/);
    await expect
      .poll(() => points('loss-chart', 'epoch'), { timeout: 60_000 })
      .toBeGreaterThanOrEqual(2);
    expect(await points('accuracy-chart', 'epoch')).toBeGreaterThanOrEqual(2);
    await expect
      .poll(() => page.getByTestId('status').getAttribute('data-phase'), { timeout: 60_000 })
      .toBe('finished');
    expect(await points('loss-chart', 'epoch')).toBe(3);
    expect(await points('loss-chart', 'validation')).toBe(3);
    expect(await points('accuracy-chart', 'validation')).toBe(3);
    expect(await points('accuracy-chart', 'batch')).toBeGreaterThan(3);
    expect(await page.getByTestId('run-progress').getAttribute('value')).toBe('1');
    await expect.poll(() => page.getByTestId('status').textContent()).toMatch(/Finished 3 epochs/);
    await page.screenshot({ path: path.join(screenshots, 'train-panel.png') });
  });

  it('stops a run within one batch when Stop is pressed', async () => {
    await configure({ epochs: '20', limit: '20000' });
    await page.getByTestId('start-button').click();
    // Start is disabled under the focus: it moves to Stop rather than dropping to <body>.
    const focused = () =>
      page.evaluate<string | null>('document.activeElement?.getAttribute("data-testid") ?? null');
    await expect.poll(focused).toBe('stop-button');
    await expect.poll(() => points('loss-chart', 'batch'), { timeout: 30_000 }).toBeGreaterThan(2);
    const pressed = Date.now();
    await page.getByTestId('stop-button').click();
    await expect
      .poll(() => page.getByTestId('status').getAttribute('data-phase'), { timeout: 10_000 })
      .toBe('stopped');
    // An MLP batch takes milliseconds; a stop that waited for the epoch would take seconds.
    expect(Date.now() - pressed).toBeLessThan(3000);
    expect(await page.getByTestId('status').textContent()).toBe(
      'Stopped during the first epoch, before any checkpoint was written.',
    );
    expect(await page.getByTestId('start-button').isDisabled()).toBe(false);
    await expect.poll(focused).toBe('start-button');
  });

  it('reports a killed worker and recovers on the next run', async () => {
    await configure({ epochs: '20', limit: '20000' });
    await page.getByTestId('start-button').click();
    await expect
      .poll(() => page.getByTestId('status').getAttribute('data-phase'), { timeout: 20_000 })
      .toBe('training');
    const workers = execFileSync('pgrep', ['-P', String(serve.child.pid), '-f', 'worker/main'], {
      encoding: 'utf8',
    })
      .trim()
      .split('\n');
    expect(workers).toHaveLength(1);
    process.kill(Number(workers[0]), 'SIGKILL');
    await expect
      .poll(() => page.getByTestId('status').getAttribute('data-phase'), { timeout: 10_000 })
      .toBe('error');
    expect(await page.getByTestId('status').textContent()).toMatch(
      /The training worker was killed \(SIGKILL\)\. The next action starts a fresh worker\./,
    );
    await page.screenshot({ path: path.join(screenshots, 'worker-killed.png') });

    await configure({ epochs: '1', limit: '1000' });
    await page.getByTestId('start-button').click();
    await expect
      .poll(() => page.getByTestId('status').getAttribute('data-phase'), { timeout: 60_000 })
      .toBe('finished');
  });
});
