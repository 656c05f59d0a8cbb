import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers';
import { launchBrowser, startServe, type ServeProcess } from '../e2e/browser';
import { ALT_PLACEMENTS, PLACEMENTS } from '../e2e/digit-strokes';
import { clear, drawDigit, openPage } from '../e2e/draw-helpers';
import { trainRun } from '../e2e/fixtures';

/**
 * `npm run check:drawings`: all ten digits, drawn with the mouse along handwriting-like paths in
 * two hands at three sizes, must be recognised by a well-trained CNN in the Draw panel. Too slow
 * for `npm test` (it trains the CNN: about two minutes on two cores); reuse a trained one with
 * DRAW_CNN_CHECKPOINTS=<folder with one CNN run>.
 */

let checkpoints = process.env.DRAW_CNN_CHECKPOINTS ?? '';
let serve: ServeProcess;
let browser: Browser;
const problems: string[] = [];

beforeAll(async () => {
  if (!checkpoints) {
    checkpoints = tempDir();
    await trainRun(checkpoints, ['--model', 'cnn', '--epochs', '2', '--backend', 'wasm']);
  }
  [serve, browser] = await Promise.all([
    startServe(checkpoints, ['--backend', 'wasm']),
    launchBrowser(),
  ]);
}, 900_000);

afterAll(async () => {
  await browser?.close();
  serve?.stop();
});

describe('Draw panel with a trained CNN', () => {
  it('recognises all ten digits drawn with the mouse in two hands at three sizes', async () => {
    const p = await openPage(browser, serve.url, problems);
    await expect
      .poll(() => p.getByTestId('draw-model').getAttribute('data-predictor'), { timeout: 60_000 })
      .toBe('window');
    expect(await p.getByTestId('draw-model').textContent()).toMatch(/cnn/);
    const misses: string[] = [];
    const drawings = [...PLACEMENTS, ...ALT_PLACEMENTS];
    for (const placement of drawings) {
      for (let digit = 0; digit < 10; digit++) {
        const shown = await drawDigit(p, digit, placement);
        if (shown !== String(digit))
          misses.push(
            `${digit} (${placement.alt ? 'second' : 'first'} hand, ${placement.height} tall) read as ${shown}`,
          );
        await clear(p);
      }
    }
    const model = await p.getByTestId('draw-model').textContent();
    console.log(
      `${model}: recognised ${drawings.length * 10 - misses.length} of ${drawings.length * 10} ` +
        `mouse-drawn digits`,
      misses,
    );
    expect(misses).toEqual([]);
    expect(problems).toEqual([]);
  }, 300_000);
});
