import { describe, expect, it } from 'vitest';
import { readDigitPhoto } from '../../src-main/shared/digit-photo';
import {
  evenOutLighting,
  fitPhoto,
  paperLevel,
  PHOTO_MAX_SIDE,
  removeSpecks,
} from '../../src-main/shared/paper-photo';
import { preprocess, toGrayscaleInk } from '../../src-main/shared/preprocess';
import { mnistTestDigit, paperPhoto } from '../fixtures/paper-photos';
import { correlation } from '../helpers';

function sum(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

describe('fitPhoto', () => {
  it('keeps an image that already fits', () => {
    const rgba = new Uint8ClampedArray(10 * 4 * 4);
    expect(fitPhoto(rgba, 10, 4, 10).rgba).toBe(rgba);
  });

  it('averages areas: a 2× downscale of a checkerboard is flat grey', () => {
    const w = 8;
    const rgba = new Uint8ClampedArray(w * w * 4);
    for (let i = 0; i < w * w; i++) {
      const v = ((i % w) + Math.floor(i / w)) % 2 ? 200 : 100;
      rgba.set([v, v, v, 255], 4 * i);
    }
    const out = fitPhoto(rgba, w, w, 4);
    expect(out).toMatchObject({ width: 4, height: 4 });
    for (let i = 0; i < 16; i++)
      expect(Array.from(out.rgba.subarray(4 * i, 4 * i + 4))).toEqual([150, 150, 150, 255]);
  });

  it('scales the longer side to the limit and keeps the aspect', () => {
    const out = fitPhoto(new Uint8ClampedArray(2000 * 1000 * 4), 2000, 1000);
    expect(out).toMatchObject({ width: PHOTO_MAX_SIDE, height: PHOTO_MAX_SIDE / 2 });
  });

  it('weights colour by alpha, so transparent pixels do not darken the ink', () => {
    // One opaque white pixel beside three transparent black ones.
    const rgba = new Uint8ClampedArray([255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const out = fitPhoto(rgba, 2, 2, 1);
    expect(Array.from(out.rgba)).toEqual([255, 255, 255, 64]);
  });
});

describe('evenOutLighting', () => {
  it('makes a shaded sheet flat and keeps the ink relative to the paper beside it', () => {
    const w = 120;
    const lum = new Float32Array(w * w);
    for (let y = 0; y < w; y++)
      for (let x = 0; x < w; x++) {
        const light = 1 - 0.5 * (x / w);
        const inkHere = x >= 50 && x < 54 && y >= 20 && y < 100;
        lum[y * w + x] = (inkHere ? 0.2 : 0.9) * light;
      }
    const background = evenOutLighting(lum, w, w, true);
    expect(background).toBe(1);
    // Paper on both sides of the sheet is the same after all, up to the very edges.
    for (const x of [0, 5, 20, 40, 70, 100, 115, 119])
      expect(lum[60 * w + x]).toBeGreaterThan(0.995);
    // Ink reflects 0.2 / 0.9 of the light its paper gets.
    expect(lum[60 * w + 52]).toBeCloseTo(0.2 / 0.9, 1);
  });

  it('evens out light ink on a dark board too', () => {
    const w = 100;
    const lum = new Float32Array(w * w);
    for (let i = 0; i < w * w; i++) lum[i] = 0.1 + 0.3 * ((i % w) / w);
    lum[50 * w + 50] = 0.9;
    const background = evenOutLighting(lum, w, w, false);
    expect(background).toBe(0);
    expect(lum[50 * w + 5]).toBeLessThan(0.02);
    expect(lum[50 * w + 95]).toBeLessThan(0.02);
    expect(lum[50 * w + 50]).toBeGreaterThan(0.6);
  });

  it('estimates the paper under a stroke from the paper beside it, not from the stroke', () => {
    const w = 64;
    const lum = new Float32Array(w * w).fill(0.8);
    for (let y = 0; y < w; y++) for (let x = 30; x < 34; x++) lum[y * w + x] = 0.1;
    const paper = paperLevel(lum, w, w, true);
    expect(paper[10 * w + 31]).toBeCloseTo(0.8, 5);
  });
});

describe('removeSpecks', () => {
  it('clears components far lighter than the heaviest and keeps the rest', () => {
    const w = 20;
    const ink = new Float32Array(w * w);
    for (let y = 2; y < 18; y++) ink[y * w + 5] = 1; // a stroke: mass 16
    for (let x = 10; x < 14; x++) ink[3 * w + x] = 1; // a bar of 4: a quarter of it, kept
    ink[15 * w + 15] = 0.5; // a speck: 0.5, under 5 %
    ink[16 * w + 6] = 1; // diagonal neighbour of the stroke: part of it
    expect(removeSpecks(ink, w, w)).toBe(1);
    expect(ink[15 * w + 15]).toBe(0);
    expect(sum(ink)).toBe(16 + 4 + 1);
  });

  it('leaves a blank image and a single component alone', () => {
    expect(removeSpecks(new Float32Array(16), 4, 4)).toBe(0);
    const one = new Float32Array(16).fill(0.3);
    expect(removeSpecks(one, 4, 4)).toBe(0);
    expect(sum(one)).toBeCloseTo(4.8, 5);
  });
});

describe('readDigitPhoto', () => {
  // MNIST test digits 0–9 in order of label: indices of the first of each.
  const indices = [3, 2, 1, 18, 4, 8, 11, 0, 61, 7];

  it.each(indices)('reads test digit #%i from a shaded, specked photo as MNIST would', (index) => {
    const digit = mnistTestDigit(index);
    const photo = paperPhoto(digit.pixels, { seed: index + 1 });
    const read = readDigitPhoto(photo.rgba, photo.width, photo.height);
    expect(read.empty).toBe(false);
    expect(read.ink.polarity).toBe('dark-on-light');
    const reference = preprocess({ width: 28, height: 28, data: digit.pixels }).pixels;
    expect(correlation(read.pixels, reference)).toBeGreaterThan(0.9);
    // The box is the digit's (60 % of the photo at most), not the shaded corner or a speck.
    expect(Math.max(read.box!.width, read.box!.height)).toBeLessThan(0.62 * photo.width);
  });

  it('would lose the digit without evening out the light (the test can fail)', () => {
    const digit = mnistTestDigit(3);
    const photo = paperPhoto(digit.pixels, { specks: 0 });
    const raw = preprocess(toGrayscaleInk(photo.rgba, photo.width, photo.height));
    // The shading spreads the border so far that its noise floor swallows the ink (blank), or
    // the shaded half reads as ink: either way the digit is gone.
    const reference = preprocess({ width: 28, height: 28, data: digit.pixels }).pixels;
    expect(raw.empty ? 0 : correlation(raw.pixels, reference)).toBeLessThan(0.6);
  });

  it('would take a speck into the box without despeckling', () => {
    const digit = mnistTestDigit(3);
    const photo = paperPhoto(digit.pixels, { falloff: 1, specks: 6 });
    const specked = readDigitPhoto(photo.rgba, photo.width, photo.height, {
      ink: { despeckle: false },
    });
    const clean = readDigitPhoto(photo.rgba, photo.width, photo.height);
    expect(Math.max(specked.box!.width, specked.box!.height)).toBeGreaterThan(
      Math.max(clean.box!.width, clean.box!.height) + 20,
    );
  });

  it('reports blank paper as empty', () => {
    const photo = paperPhoto(new Float32Array(784), { specks: 0 });
    expect(readDigitPhoto(photo.rgba, photo.width, photo.height).empty).toBe(true);
  });

  it('leaves small images (scans, MNIST itself) to the plain reading', () => {
    const digit = mnistTestDigit(0);
    const rgba = new Uint8ClampedArray(784 * 4);
    for (let i = 0; i < 784; i++) {
      const v = Math.round(digit.pixels[i]! * 255);
      rgba.set([v, v, v, 255], 4 * i);
    }
    const read = readDigitPhoto(rgba, 28, 28, { ink: { despeckle: false } });
    const plain = preprocess(toGrayscaleInk(rgba, 28, 28));
    expect(Array.from(read.pixels)).toEqual(Array.from(plain.pixels));
  });
});
