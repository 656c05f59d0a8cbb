import type { TestExample } from '../contract/messages';
import { argmax } from '../shared/argmax';
import type { ImageSet } from './data';

/**
 * Test images for the Evaluate panel, picked from an evaluation's kept probabilities: the cell
 * of the confusion matrix a user clicked, or the most confidently wrong predictions overall.
 * Pure (no tfjs), so it is cheap to answer a click from the numbers already computed.
 */

/** Pixels as base64 grey bytes: a tenth of the size of JSON numbers, exact for MNIST's bytes. */
export function encodePixels(set: ImageSet, index: number): string {
  const px = set.rows * set.cols;
  const bytes = new Uint8Array(px);
  const src = set.images.subarray(index * px, (index + 1) * px);
  for (let i = 0; i < px; i++) bytes[i] = Math.round(Math.min(1, Math.max(0, src[i]!)) * 255);
  return Buffer.from(bytes).toString('base64');
}

function example(set: ImageSet, probabilities: Float32Array, index: number): TestExample {
  const row = probabilities.subarray(index * 10, index * 10 + 10);
  return {
    index,
    label: set.labels[index]!,
    predicted: argmax(row),
    probabilities: Array.from(row),
    pixels: encodePixels(set, index),
  };
}

/** Images labelled `actual` and predicted `predicted`, the most confident prediction first. */
export function cellExamples(
  set: ImageSet,
  probabilities: Float32Array,
  actual: number,
  predicted: number,
  limit: number,
): { examples: TestExample[]; total: number } {
  const matches: { index: number; confidence: number }[] = [];
  for (let i = 0; i < set.count; i++) {
    if (set.labels[i] !== actual) continue;
    const row = probabilities.subarray(i * 10, i * 10 + 10);
    if (argmax(row) === predicted) matches.push({ index: i, confidence: row[predicted]! });
  }
  matches.sort((a, b) => b.confidence - a.confidence || a.index - b.index);
  return {
    examples: matches.slice(0, limit).map((m) => example(set, probabilities, m.index)),
    total: matches.length,
  };
}

/** The wrong predictions the model was surest of: the gallery that shows what it has not learnt. */
export function confidentMistakes(
  set: ImageSet,
  probabilities: Float32Array,
  limit: number,
): TestExample[] {
  const wrong: { index: number; confidence: number }[] = [];
  for (let i = 0; i < set.count; i++) {
    const row = probabilities.subarray(i * 10, i * 10 + 10);
    const p = argmax(row);
    if (p !== set.labels[i]) wrong.push({ index: i, confidence: row[p]! });
  }
  wrong.sort((a, b) => b.confidence - a.confidence || a.index - b.index);
  return wrong.slice(0, limit).map((m) => example(set, probabilities, m.index));
}
