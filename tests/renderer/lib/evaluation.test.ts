import { describe, expect, it } from 'vitest';
import {
  asSentence,
  cellColour,
  cellIntensity,
  cellLabel,
  checkpointKey,
  checkpointName,
  decodePixels,
  exampleCaption,
  greyToRgba,
  largestError,
  matrixMaxima,
  needsEvaluation,
  parseCheckpointKey,
  probabilityText,
  topProbabilities,
  worstClass,
} from '../../../src-renderer/src/lib/evaluation';

const base64Of = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

describe('test images from the wire', () => {
  it('decodes base64 into the 784 grey bytes, row-major', () => {
    const bytes = new Uint8Array(784).map((_, i) => i % 256);
    bytes[28 * 3 + 5] = 255;
    const decoded = decodePixels(base64Of(bytes));
    expect(decoded).toHaveLength(784);
    expect(Array.from(decoded)).toEqual(Array.from(bytes));
    expect(decoded[28 * 3 + 5]).toBe(255);
  });

  it('refuses an image of the wrong size', () => {
    expect(() => decodePixels(base64Of(new Uint8Array(100)))).toThrow(/784 pixels, not 100/);
  });

  it('turns grey into opaque RGBA, white ink on black', () => {
    const rgba = greyToRgba(Uint8Array.from([0, 128, 255]));
    expect(Array.from(rgba)).toEqual([0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255]);
  });
});

describe('heat-map colour scales', () => {
  it('leaves empty cells uncoloured and colours any non-zero count', () => {
    expect(cellIntensity(0, 50, 'error')).toBe(0);
    expect(cellIntensity(1, 1000, 'error')).toBeGreaterThan(0.03);
    expect(cellColour(0, 50, 'error').background).toBe(cellColour(0, 980, 'correct').background);
    expect(cellColour(1, 50, 'error').background).not.toBe(cellColour(0, 50, 'error').background);
  });

  it('spreads errors on a square-root scale so small counts stay visible', () => {
    expect(cellIntensity(25, 100, 'error')).toBeCloseTo(0.5);
    expect(cellIntensity(25, 100, 'correct')).toBeCloseTo(0.25);
    expect(cellIntensity(100, 100, 'error')).toBe(1);
    expect(cellIntensity(500, 100, 'error')).toBe(1);
  });

  it('ends the error scale in red and the correct scale in blue, with readable text', () => {
    expect(cellColour(100, 100, 'error')).toEqual({
      background: 'rgb(255, 92, 92)',
      text: '#0f1115',
    });
    expect(cellColour(100, 100, 'correct').background).toBe('rgb(79, 140, 255)');
    expect(cellColour(1, 100, 'correct').text).toBe('#e6e9ef');
  });

  it('takes the maxima of the diagonal and of the errors separately', () => {
    const m = [
      [980, 0, 3],
      [1, 1100, 0],
      [7, 2, 1000],
    ];
    expect(matrixMaxima(m)).toEqual({ correct: 1100, error: 7 });
  });
});

describe('numbers to read', () => {
  it('finds the most frequent confusion and the worst digit', () => {
    const m: number[][] = Array.from({ length: 10 }, (_, a) =>
      Array.from({ length: 10 }, (_, p) => (a === p ? 900 : 0)),
    );
    expect(largestError(m)).toBeNull();
    m[4]![9] = 12;
    m[7]![2] = 12;
    m[9]![4] = 3;
    expect(largestError(m)).toEqual({ actual: 4, predicted: 9, count: 12 });
    expect(worstClass([0.99, 0.98, 0.97, 0.9, 0.95, 0.9, 0.99, 0.99, 0.99, 0.99])).toBe(3);
  });

  it('names cells, probabilities and examples as a person reads them', () => {
    expect(cellLabel(7, 2, 12)).toBe('7 predicted as 2: 12 images');
    expect(cellLabel(7, 2, 1)).toBe('7 predicted as 2: 1 image');
    expect(cellLabel(1, 1, 1127)).toBe('1 predicted as 1: 1,127 images');
    expect(probabilityText(0.9712)).toBe('97 %');
    expect(probabilityText(0.004)).toBe('0.4 %');
    expect(probabilityText(0.0001)).toBe('<0.1 %');
    expect(probabilityText(0)).toBe('0 %');
    const probabilities = [0, 0, 0, 0, 0.02, 0, 0, 0.01, 0, 0.97];
    expect(topProbabilities(probabilities, 2)).toEqual([
      { digit: 9, probability: 0.97 },
      { digit: 4, probability: 0.02 },
    ]);
    const example = { index: 3, label: 4, predicted: 9, probabilities, pixels: '' };
    expect(exampleCaption(example)).toBe('true 4 → predicted 9 (97 %)');
    expect(exampleCaption({ ...example, label: 9 })).toBe('9, predicted correctly (97 %)');
  });

  it('keys checkpoints by run and epoch, and recognises an expired evaluation', () => {
    expect(checkpointKey({ runId: 'mlp-2026_1', epoch: 3 })).toBe('mlp-2026_1:3');
    expect(parseCheckpointKey('mlp-2026_1:3')).toEqual({ runId: 'mlp-2026_1', epoch: 3 });
    expect(parseCheckpointKey('nonsense')).toBeNull();
    expect(parseCheckpointKey('run:0')).toBeNull();
    expect(
      needsEvaluation('evaluate epoch 2 of run abc first; its examples come from that evaluation'),
    ).toBe(true);
    expect(needsEvaluation('checkpoint epoch 2 of run abc is damaged')).toBe(false);
  });

  it('names a checkpoint and ends an engine message as a sentence', () => {
    expect(checkpointName({ runId: 'run-a', epoch: 3 })).toBe('run-a, epoch 3');
    expect(asSentence('checkpoint epoch 3 is damaged')).toBe('checkpoint epoch 3 is damaged.');
    expect(asSentence('Gone!')).toBe('Gone!');
  });
});
