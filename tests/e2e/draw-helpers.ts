import type { Browser, Page } from 'playwright-core';
import { expect } from 'vitest';
import { digitStrokes, type Placement, type Point } from './digit-strokes';

/**
 * Drawing on the Draw panel's pad with the mouse, paced like a hand, and reading what the panel
 * shows: shared by the e2e test and the recognition check with a trained CNN.
 */

/** A USB mouse reports at 125 Hz: the pointer moves we send are at least this far apart (ms). */
export const MOUSE_INTERVAL = 8;
/** A hand takes this long from lifting the button to pressing it for the next stroke (ms). */
const BETWEEN_STROKES = 150;

export async function openPage(browser: Browser, url: string, problems: string[]): Promise<Page> {
  const p = await browser.newPage({ viewport: { width: 1360, height: 760 } });
  // Console errors include CSP violations: the panel must not need inline styles or scripts.
  p.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  p.on('pageerror', (e) => problems.push(e.message));
  await p.goto(url);
  await p.getByTestId('tab-draw').click();
  return p;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Maps pad units (280 × 280) to page coordinates. */
export async function padToPage(p: Page): Promise<(q: Point) => [number, number]> {
  const box = (await p.getByTestId('draw-pad').boundingBox())!;
  const border = 1;
  const k = (box.width - 2 * border) / 280;
  return (q) => [box.x + border + q.x * k, box.y + border + q.y * k];
}

/** Draws strokes given in pad units with the mouse, paced like a real one. */
export async function draw(p: Page, strokes: readonly (readonly Point[])[]): Promise<void> {
  const at = await padToPage(p);
  for (const [i, stroke] of strokes.entries()) {
    if (i > 0) await sleep(BETWEEN_STROKES);
    await p.mouse.move(...at(stroke[0]!));
    await p.mouse.down();
    let last = performance.now();
    for (const q of stroke.slice(1)) {
      const wait = MOUSE_INTERVAL - (performance.now() - last);
      if (wait > 0) await sleep(wait);
      last = performance.now();
      await p.mouse.move(...at(q));
    }
    await p.mouse.up();
  }
}

export const latencyCount = async (p: Page) =>
  Number((await p.getByTestId('draw-latency').getAttribute('data-count')) ?? 0);

/** Draws a digit and waits until the prediction reflects the pen-up. */
export async function drawDigit(p: Page, digit: number, placement: Placement): Promise<string> {
  const before = await latencyCount(p);
  await draw(p, digitStrokes(digit, placement));
  // The answer to the last move is in (samples are published every 250 ms).
  await expect.poll(() => latencyCount(p), { timeout: 10_000 }).toBeGreaterThan(before);
  await sleep(300);
  return (await p.getByTestId('prediction').textContent())!.trim();
}

export async function bars(p: Page) {
  return p
    .getByTestId('probability-bars')
    .locator('[data-digit]')
    .evaluateAll((els) =>
      els.map((e) => ({
        digit: Number(e.getAttribute('data-digit')),
        probability: Number(e.getAttribute('data-probability')),
        top: e.classList.contains('top'),
      })),
    );
}

/** The parts of a 2-D canvas the page-side helper uses (this tsconfig has no DOM types). */
interface Canvas2D {
  width: number;
  height: number;
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
  };
}

/** Sum of the preview canvas' grey levels (0 when blank). */
export const previewInk = (p: Page) =>
  p.getByTestId('model-input-preview').evaluate((element) => {
    const c = element as unknown as Canvas2D;
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let sum = 0;
    for (let i = 0; i < data.length; i += 4) sum += data[i]!;
    return sum / 255;
  });

export async function clear(p: Page) {
  await p.getByTestId('clear-button').click();
  await expect.poll(() => p.getByTestId('prediction').textContent()).toBe('');
}
