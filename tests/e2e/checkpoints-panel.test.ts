import { existsSync, readdirSync, truncateSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers';
import { launchBrowser, startServe, type ServeProcess } from './browser';

/**
 * The Checkpoints panel end to end, in real Chromium against serve mode: a run trained from the
 * Train panel appears and grows live, is restored, resumed (same run, and branched from an
 * earlier epoch), compared, damaged on disk, and deleted.
 */

const checkpoints = tempDir();
const screenshots = path.join(import.meta.dirname, '../../docs/screenshots');
let serve: ServeProcess;
let browser: Browser;
let page: Page;
const problems: string[] = [];

const runRow = (runId: string): Locator =>
  page.locator(`[data-testid="run-row"][data-run-id="${runId}"]`);
const checkpointRow = (runId: string, epoch: number): Locator =>
  runRow(runId).locator(`[data-testid="checkpoint-row"][data-epoch="${epoch}"]`);
const phase = () => page.getByTestId('status').getAttribute('data-phase');
/** Phase and run of the Train panel's status line, e.g. "finished 20261125-…". */
const trainStatus = async () =>
  `${await phase()} ${await page.getByTestId('status').getAttribute('data-run-id')}`;

beforeAll(async () => {
  serve = await startServe(checkpoints, ['--backend', 'wasm']);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1360, height: 980 } });
  // Console errors include CSP violations: the panel must not need inline styles or scripts.
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

let runId = '';

describe('Checkpoints panel', () => {
  it('shows a run training from the Train panel, its checkpoints appearing live', async () => {
    await page.getByTestId('tab-checkpoints').click();
    await expect
      .poll(() => page.getByTestId('model-in-use').textContent(), { timeout: 10_000 })
      .toMatch(/No model yet/);
    expect(await page.getByTestId('checkpoint-list').count()).toBe(1);

    await page.getByTestId('tab-train').click();
    await page.getByTestId('epochs-input').fill('3');
    await page.getByTestId('limit-input').fill('4000');
    await page.getByTestId('start-button').click();
    await page.getByTestId('tab-checkpoints').click();

    const row = page.getByTestId('run-row').first();
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 20_000 }).toBe('running');
    runId = (await row.getAttribute('data-run-id'))!;
    await row.getByTestId('expand-button').click();
    // Seen while running: the table grows as the worker writes each epoch.
    const seen = new Set<number>();
    await expect
      .poll(
        async () => {
          const n = await runRow(runId).getByTestId('checkpoint-row').count();
          seen.add(n);
          return runRow(runId).getAttribute('data-status');
        },
        { timeout: 60_000, interval: 50 },
      )
      .toBe('finished');
    expect(await runRow(runId).getByTestId('checkpoint-row').count()).toBe(3);
    expect([...seen].some((n) => n > 0 && n < 3)).toBe(true);
    expect(await runRow(runId).textContent()).toMatch(/3 \/ 3 epochs · best val \d+\.\d+ %/);
    expect(await page.getByTestId('model-in-use').textContent()).toMatch(
      new RegExp(
        `${runId}, epoch \\d \\(nothing restored: the best validation accuracy of the finished runs`,
      ),
    );
  });

  it('restores a checkpoint for drawing and evaluation', async () => {
    await checkpointRow(runId, 2).getByTestId('restore-button').click();
    await expect
      .poll(() => page.getByTestId('model-in-use').textContent())
      .toMatch(new RegExp(`${runId}, epoch 2 \\(restored`));
    expect(await checkpointRow(runId, 2).getByTestId('restore-button').textContent()).toBe(
      'Restored',
    );
    // The Draw panel now uses it, and says so.
    await page.getByTestId('tab-draw').click();
    await expect
      .poll(() => page.getByTestId('draw-model').textContent())
      .toContain(`Restored: run ${runId} epoch 2`);
    await page.getByTestId('tab-checkpoints').click();
    // The host remembers it: a reload keeps the restored checkpoint.
    await page.reload();
    await page.getByTestId('tab-checkpoints').click();
    await expect
      .poll(() => page.getByTestId('model-in-use').textContent())
      .toMatch(new RegExp(`${runId}, epoch 2 \\(restored`));
  });

  it('resumes the run from its last checkpoint, in the same run', async () => {
    await runRow(runId).getByTestId('expand-button').click();
    await checkpointRow(runId, 3).getByTestId('resume-button').click();
    const dialog = page.getByTestId('resume-dialog');
    expect(await dialog.textContent()).toMatch(/continues from its last checkpoint/);
    await page.getByTestId('resume-epochs-input').fill('4');
    await page.getByTestId('confirm-resume-button').click();
    // Resuming switches to the Train panel, which follows the run.
    await expect
      .poll(() => page.getByTestId('tab-train').getAttribute('aria-selected'))
      .toBe('true');
    // The run's rows are in the page even while the Checkpoints panel is hidden.
    await expect
      .poll(() => runRow(runId).getByTestId('checkpoint-row').count(), { timeout: 60_000 })
      .toBe(4);
    await expect.poll(trainStatus, { timeout: 60_000 }).toBe(`finished ${runId}`);
    // The Train charts show the whole run: epochs 1–3 from its log, 4 live.
    await expect
      .poll(() => page.getByTestId('loss-chart').getAttribute('data-epoch-points'))
      .toBe('4');
    await page.getByTestId('tab-checkpoints').click();
  });

  let branch = '';
  it('resumes from an earlier checkpoint as a new run and keeps the original', async () => {
    await checkpointRow(runId, 1).getByTestId('resume-button').click();
    expect(await page.getByTestId('resume-dialog').textContent()).toMatch(/new run/);
    await page.getByTestId('resume-epochs-input').fill('2');
    await page.getByTestId('confirm-resume-button').click();
    await expect
      .poll(() => page.getByTestId('tab-train').getAttribute('aria-selected'))
      .toBe('true');
    await expect.poll(() => page.getByTestId('run-row').count(), { timeout: 60_000 }).toBe(2);
    branch = (await page.getByTestId('run-row').first().getAttribute('data-run-id'))!;
    await expect.poll(trainStatus, { timeout: 60_000 }).toBe(`finished ${branch}`);
    await expect
      .poll(() => page.getByTestId('accuracy-chart').getAttribute('data-validation-points'))
      .toBe('2');
    await page.getByTestId('tab-checkpoints').click();
    expect(branch).not.toBe(runId);
    expect(await runRow(branch).textContent()).toContain(`Continues run ${runId} from epoch 1.`);
    expect(await runRow(runId).getByTestId('checkpoint-row').count()).toBe(4);
  });

  it('overlays compared runs on the charts', async () => {
    await runRow(runId).getByTestId('compare-toggle').check();
    await runRow(branch).getByTestId('compare-toggle').check();
    await expect
      .poll(() => page.getByTestId('compare-loss-chart').getAttribute('data-overlays'))
      .toBe('2');
    await page.getByTestId('tab-train').click();
    // The Train panel's charts carry them too (the live run itself is not overlaid twice).
    expect(
      Number(await page.getByTestId('loss-chart').getAttribute('data-overlays')),
    ).toBeGreaterThanOrEqual(1);
    await page.getByTestId('tab-checkpoints').click();
  });

  it('shows a damaged checkpoint as damaged, with the reason, and refuses to restore it', async () => {
    truncateSync(path.join(checkpoints, runId, 'epoch-003', 'weights.bin'), 16);
    await page.getByRole('button', { name: 'Refresh' }).click();
    const damaged = checkpointRow(runId, 3);
    await expect.poll(() => damaged.getAttribute('data-status')).toBe('damaged');
    expect(await damaged.getByTestId('damaged-reason').textContent()).toMatch(
      /weights\.bin is 16 bytes, expected \d+ \(truncated\)/,
    );
    expect(await damaged.getByTestId('restore-button').isDisabled()).toBe(true);
    expect(await damaged.getByTestId('resume-button').isDisabled()).toBe(true);
    await page.screenshot({
      path: path.join(screenshots, 'checkpoints-panel.png'),
      fullPage: true,
    });
  });

  it('deletes a run after confirmation', async () => {
    await runRow(branch).locator('[data-testid="delete-button"][data-scope="run"]').click();
    const dialog = page.getByTestId('confirm-dialog');
    expect(await dialog.textContent()).toMatch(/cannot be undone/);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(existsSync(path.join(checkpoints, branch))).toBe(true);

    await runRow(branch).locator('[data-testid="delete-button"][data-scope="run"]').click();
    await page.getByTestId('confirm-delete-button').click();
    await expect.poll(() => page.getByTestId('run-row').count()).toBe(1);
    expect(existsSync(path.join(checkpoints, branch))).toBe(false);
    // Runs only; the app's own memory of the restored checkpoint is a dot-file beside them.
    expect(readdirSync(checkpoints).filter((n) => !n.startsWith('.'))).toEqual([runId]);
    expect(problems).toEqual([]);
  });
});
