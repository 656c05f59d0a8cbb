import type { TestExample } from '$contract/messages';
import { MNIST_PIXELS, MNIST_SIDE } from '$shared/preprocess';
import { decodeBase64 } from './base64';

/**
 * Small pure helpers of the Evaluate panel: test images from the wire format, the heat map's
 * colour scales, and the numbers a person reads off an evaluation.
 */

export const DIGITS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] as const;

/** A checkpoint as the Evaluate panel names it. */
export interface CheckpointRef {
  runId: string;
  epoch: number;
}

/** "run:epoch": run ids never hold a colon (the contract's RUN_ID_PATTERN). */
export const checkpointKey = (ref: CheckpointRef): string => `${ref.runId}:${ref.epoch}`;

/** "run-1, epoch 3": a checkpoint named in a sentence. */
export const checkpointName = (ref: CheckpointRef): string => `${ref.runId}, epoch ${ref.epoch}`;

/** An engine message as the end of a sentence: "checkpoint epoch 3 … is damaged." */
export const asSentence = (message: string): string =>
  /[.!?]$/.test(message) ? message : `${message}.`;

export function parseCheckpointKey(key: string): CheckpointRef | null {
  const at = key.lastIndexOf(':');
  if (at <= 0) return null;
  const epoch = Number(key.slice(at + 1));
  return Number.isInteger(epoch) && epoch >= 1 ? { runId: key.slice(0, at), epoch } : null;
}

/** The 784 grey bytes (row-major, ink 255) of a test image sent as base64. */
export function decodePixels(base64: string): Uint8Array {
  const bytes = decodeBase64(base64);
  if (bytes.length !== MNIST_PIXELS)
    throw new Error(`a test image holds ${MNIST_PIXELS} pixels, not ${bytes.length}`);
  return bytes;
}

/** Grey bytes as opaque RGBA, white ink on black like MNIST itself (and the dark theme). */
export function greyToRgba(grey: Uint8Array): Uint8ClampedArray {
  const rgba = new Uint8ClampedArray(grey.length * 4);
  for (let i = 0; i < grey.length; i++) {
    const v = grey[i]!;
    rgba[i * 4] = v;
    rgba[i * 4 + 1] = v;
    rgba[i * 4 + 2] = v;
    rgba[i * 4 + 3] = 255;
  }
  return rgba;
}

/** Draws a test image at 1:1 on a 28×28 canvas; CSS scales it up with crisp pixels. */
export function drawDigit(canvas: HTMLCanvasElement, base64: string): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const image = ctx.createImageData(MNIST_SIDE, MNIST_SIDE);
  image.data.set(greyToRgba(decodePixels(base64)));
  ctx.putImageData(image, 0, 0);
}

// ---------------------------------------------------------------- heat-map colours

type Rgb = readonly [number, number, number];
const hex = (h: string): Rgb => [
  parseInt(h.slice(1, 3), 16),
  parseInt(h.slice(3, 5), 16),
  parseInt(h.slice(5, 7), 16),
];

/** An empty cell: a little lighter than the panel, so the grid reads as a grid. */
export const EMPTY_CELL = '#1c2029';
/** Correct predictions (the diagonal) in the accent blue; errors in the danger red. */
const SCALES: Record<CellKind, { from: Rgb; to: Rgb }> = {
  correct: { from: hex('#1e2a44'), to: hex('#4f8cff') },
  error: { from: hex('#3a2228'), to: hex('#ff5c5c') },
};
const DARK_TEXT = '#0f1115';
const LIGHT_TEXT = '#e6e9ef';

export type CellKind = 'correct' | 'error';

export interface CellColour {
  background: string;
  text: string;
}

const mix = (a: Rgb, b: Rgb, t: number): Rgb =>
  [0, 1, 2].map((i) => Math.round(a[i]! + (b[i]! - a[i]!) * t)) as unknown as Rgb;

/** WCAG relative luminance, to pick dark or light text on a cell. */
function luminance([r, g, b]: Rgb): number {
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** WCAG contrast ratio of two colours (1–21). */
function contrast(a: Rgb, b: Rgb): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/**
 * Where a count sits on its scale, 0–1. Errors use a square root: a matrix of 980s on the
 * diagonal and 3s off it would otherwise show no errors at all; the diagonal and the errors each
 * have their own maximum for the same reason. Any non-zero count is visibly coloured.
 */
export function cellIntensity(count: number, max: number, kind: CellKind): number {
  if (count <= 0 || max <= 0) return 0;
  const t = Math.min(1, count / max);
  return kind === 'error' ? Math.sqrt(t) : t;
}

export function cellColour(count: number, max: number, kind: CellKind): CellColour {
  if (count <= 0 || max <= 0) return { background: EMPTY_CELL, text: '#6b7482' };
  const { from, to } = SCALES[kind];
  const rgb = mix(from, to, cellIntensity(count, max, kind));
  return {
    background: `rgb(${rgb[0]}, ${rgb[1]}, ${rgb[2]})`,
    text: contrast(rgb, hex(DARK_TEXT)) > contrast(rgb, hex(LIGHT_TEXT)) ? DARK_TEXT : LIGHT_TEXT,
  };
}

/** The two ends of a scale, for its legend. */
export function scaleEnds(kind: CellKind): [string, string] {
  const { from, to } = SCALES[kind];
  return [`rgb(${from.join(', ')})`, `rgb(${to.join(', ')})`];
}

/** The largest count on the diagonal and off it: the maxima of the two scales. */
export function matrixMaxima(confusion: number[][]): { correct: number; error: number } {
  let correct = 0;
  let error = 0;
  confusion.forEach((row, a) =>
    row.forEach((n, p) => {
      if (a === p) correct = Math.max(correct, n);
      else error = Math.max(error, n);
    }),
  );
  return { correct, error };
}

// ---------------------------------------------------------------- numbers to read

/** The most frequent confusion (first in reading order on ties), or null for a perfect model. */
export function largestError(
  confusion: number[][],
): { actual: number; predicted: number; count: number } | null {
  let best: { actual: number; predicted: number; count: number } | null = null;
  confusion.forEach((row, actual) =>
    row.forEach((count, predicted) => {
      if (actual !== predicted && count > 0 && (!best || count > best.count))
        best = { actual, predicted, count };
    }),
  );
  return best;
}

/** The digit the model gets wrong most often (its lowest per-class accuracy). */
export function worstClass(perClass: number[]): number {
  let worst = 0;
  perClass.forEach((v, i) => {
    if (v < perClass[worst]!) worst = i;
  });
  return worst;
}

export const imagesCount = (n: number): string =>
  `${n.toLocaleString('en-US')} image${n === 1 ? '' : 's'}`;

/** What a screen reader says for a cell: "7 predicted as 2: 12 images". */
export const cellLabel = (actual: number, predicted: number, count: number): string =>
  `${actual} predicted as ${predicted}: ${imagesCount(count)}`;

/** "97 %": a probability as the captions show it (below 1 %: one decimal, or "<0.1 %"). */
export function probabilityText(p: number): string {
  const pct = p * 100;
  if (pct >= 1 || pct === 0) return `${Math.round(pct)} %`;
  return pct < 0.1 ? '<0.1 %' : `${pct.toFixed(1)} %`;
}

/** The k likeliest digits, likeliest first. */
export function topProbabilities(
  probabilities: readonly number[],
  k = 3,
): { digit: number; probability: number }[] {
  return probabilities
    .map((probability, digit) => ({ digit, probability }))
    .sort((a, b) => b.probability - a.probability || a.digit - b.digit)
    .slice(0, k);
}

/** "true 4 → predicted 9 (97 %)", or "4, predicted correctly (99 %)". */
export function exampleCaption(example: TestExample): string {
  const p = probabilityText(example.probabilities[example.predicted] ?? 0);
  return example.label === example.predicted
    ? `${example.label}, predicted correctly (${p})`
    : `true ${example.label} → predicted ${example.predicted} (${p})`;
}

/**
 * The worker keeps the probabilities of its latest evaluation only; an `examples` request for any
 * other checkpoint is refused with "evaluate … first".
 */
export const needsEvaluation = (message: string): boolean =>
  /\bevaluate\b.*\bfirst\b/i.test(message);
