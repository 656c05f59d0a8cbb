import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSweepJournal, SWEEPS_DIR } from '../../src-main/engine/sweeps/journal';
import { tempDir } from '../helpers';
import { launchBrowser, startServe, type ServeProcess } from './browser';

/**
 * The Sweep panel end to end, in real Chromium against serve mode: a tiny sweep (mlp, 2 epochs
 * on 512 images, one trial at a time) started from the form, its trials appearing in the table
 * and the plots as the host's sweep events arrive, stopped from the panel, and its trial runs
 * grouped under it in the Checkpoints panel, where the sweep is deleted with them.
 */

const checkpoints = tempDir();
const screenshots = path.join(import.meta.dirname, '../../docs/screenshots');
let serve: ServeProcess;
let browser: Browser;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  serve = await startServe(checkpoints, ['--backend', 'wasm']);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1360, height: 980 } });
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(serve.url);
});

afterAll(async () => {
  await browser?.close();
  serve?.stop();
});

const sweepStatus = () => page.getByTestId('sweep-status').getAttribute('data-status');
const trialStatuses = () => page.getByTestId('trial-status').allTextContents();

describe('Sweep panel', () => {
  let sweepId = '';

  it('starts a tiny sweep from the form and shows its trials as they run', async () => {
    await page.getByTestId('tab-sweep').click();
    expect(await page.getByTestId('sweep-empty').isVisible()).toBe(true);
    // The form's starting sweep (learning rate, batch size, dropout) made tiny: two epochs on
    // 512 images, one trial at a time, no early stopping.
    await page.getByTestId('sweep-mode-epochs').selectOption('fixed');
    await page.getByTestId('sweep-epochs-fixed').fill('2');
    await page.getByTestId('sweep-mode-limit').selectOption('fixed');
    await page.getByTestId('sweep-limit-fixed').fill('512');
    await page.getByTestId('sweep-trials-input').fill('8');
    await page.getByTestId('sweep-parallelism-input').fill('1');
    await page.getByTestId('sweep-asha-toggle').uncheck();
    await page.getByTestId('sweep-start-button').click();

    await expect.poll(sweepStatus, { timeout: 20_000 }).toBe('running');
    expect(await page.getByTestId('sweep-stop-button').isVisible()).toBe(true);
    // The first trial starts once its worker has loaded the engine and MNIST.
    await expect
      .poll(() => page.getByTestId('trial-row').count(), { timeout: 60_000 })
      .toBeGreaterThanOrEqual(1);
    // A second row means the first trial ended: its score is in the table and on the plots.
    await expect
      .poll(() => page.getByTestId('trial-row').count(), { timeout: 60_000 })
      .toBeGreaterThanOrEqual(2);
    expect(await trialStatuses()).toContain('finished');
    expect(await page.getByTestId('parallel-coordinates').isVisible()).toBe(true);
    expect(await page.getByTestId('pc-line').count()).toBeGreaterThanOrEqual(1);
    expect(await page.getByTestId('hparam-importance').isVisible()).toBe(true);
    // The form shows the running sweep's settings, read-only; a second start is not offered.
    expect(await page.getByTestId('sweep-start-button').isDisabled()).toBe(true);
  });

  it('stops it from the panel, leaving it resumable with its trials kept', async () => {
    await page.getByTestId('sweep-stop-button').click();
    await expect.poll(sweepStatus, { timeout: 60_000 }).toBe('stopped');
    expect(await page.getByTestId('sweep-stop-button').count()).toBe(0);
    const statuses = await trialStatuses();
    expect(statuses).not.toContain('running');
    expect(statuses.filter((s) => s === 'finished').length).toBeGreaterThanOrEqual(1);
    expect(await page.getByTestId('sweep-start-button').isDisabled()).toBe(false);
    // The sweep, its table and plots rather than the form above them.
    await page.getByTestId('sweep-status').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    await page.screenshot({ path: path.join(screenshots, 'sweep-panel.png') });

    const resumable = page.getByTestId('resumable-sweep');
    await expect.poll(() => resumable.count(), { timeout: 10_000 }).toBe(1);
    sweepId = (await resumable.getAttribute('data-sweep'))!;
    const journal = readSweepJournal(checkpoints, sweepId);
    expect(journal.status).toBe('stopped');
    expect(journal.trials.map((t) => t.status).sort()).toEqual([...statuses].sort());
  });

  it('restores a finished trial’s best checkpoint, and trains its configuration longer', async () => {
    const best = readSweepJournal(checkpoints, sweepId).trials.find(
      (t) => t.status === 'finished',
    )!;
    const bestEpoch = best.scores.reduce((b, s) => (s.valAccuracy > b.valAccuracy ? s : b)).epoch;
    const row = page.locator('[data-testid="trial-row"]', { hasText: 'finished' }).first();
    await row.getByTestId('trial-restore-button').click();
    await page.getByTestId('tab-checkpoints').click();
    await expect
      .poll(() => page.getByTestId('model-in-use').textContent(), { timeout: 10_000 })
      .toMatch(new RegExp(`${best.runId}, epoch ${bestEpoch} \\(restored`));

    await page.getByTestId('tab-sweep').click();
    await row.getByTestId('trial-train-longer-button').click();
    // The Train panel follows the new run: the trial's settings, twice its epochs.
    expect(await page.locator('#panel-train').isHidden()).toBe(false);
    await expect
      .poll(() => page.getByTestId('status').getAttribute('data-phase'), { timeout: 30_000 })
      .toMatch(/^(training|finished)$/);
    expect(await page.getByTestId('epochs-input').inputValue()).toBe('4');
    expect(await page.getByTestId('limit-input').inputValue()).toBe('512');
    await expect
      .poll(() => page.getByTestId('status').getAttribute('data-phase'), { timeout: 60_000 })
      .toBe('finished');
  });

  it('lists the trial runs under the sweep in the Checkpoints panel', async () => {
    await page.getByTestId('tab-checkpoints').click();
    const group = page.locator(`[data-testid="sweep-group"][data-sweep="${sweepId}"]`);
    await expect.poll(() => group.count(), { timeout: 10_000 }).toBe(1);
    const trials = readSweepJournal(checkpoints, sweepId).trials.filter((t) => t.runId !== null);
    expect(await group.getByTestId('sweep-group-count').textContent()).toMatch(
      new RegExp(`^${trials.length} trials?`),
    );
    expect(await group.getByTestId('run-row').count()).toBe(0);
    await group.getByTestId('sweep-group-toggle').click();
    expect(
      (
        await group.getByTestId('run-row').evaluateAll((rows) => rows.map((r) => r.dataset.runId))
      ).sort(),
    ).toEqual(trials.map((t) => t.runId).sort());
    expect(problems).toEqual([]);
  });

  it('deletes the sweep with its trial runs from its group in the Checkpoints panel', async () => {
    const trialRuns = readSweepJournal(checkpoints, sweepId)
      .trials.map((t) => t.runId)
      .filter((id): id is string => id !== null);
    const group = page.locator(`[data-testid="sweep-group"][data-sweep="${sweepId}"]`);
    await group.getByTestId('sweep-delete-button').click();
    const dialog = page.getByTestId('sweep-delete-dialog');
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await dialog.getByTestId('sweep-delete-runs').isChecked()).toBe(true);
    expect(await dialog.textContent()).toMatch(
      new RegExp(`Also delete its ${trialRuns.length} trial runs?`),
    );
    await page.getByTestId('confirm-sweep-delete-button').click();

    await expect.poll(() => group.count(), { timeout: 10_000 }).toBe(0);
    expect(existsSync(path.join(checkpoints, SWEEPS_DIR, sweepId))).toBe(false);
    for (const runId of trialRuns) {
      expect(existsSync(path.join(checkpoints, runId))).toBe(false);
      expect(await page.locator(`[data-testid="run-row"][data-run-id="${runId}"]`).count()).toBe(0);
    }
    // The Sweep panel heard of it too: no sweep shown, none to resume.
    await page.getByTestId('tab-sweep').click();
    await expect.poll(() => page.getByTestId('resumable-sweep').count()).toBe(0);
    await expect.poll(() => page.getByTestId('sweep-status').count()).toBe(0);
    expect(problems).toEqual([]);
  });
});
