import { describe, expect, it } from 'vitest';
import {
  boundingBox,
  centreOfMass,
  DIGIT_BOX,
  MNIST_CENTRE,
  MNIST_PIXELS,
  MNIST_SIDE,
  preprocess,
  toGrayscaleInk,
  type GrayImage,
} from '../../src-main/shared/preprocess';
import { mnistTestDigit } from '../fixtures/paper-photos';
import { correlation } from '../helpers';

function blank(width: number, height: number): GrayImage {
  return { width, height, data: new Float32Array(width * height) };
}

function fillRect(img: GrayImage, x: number, y: number, w: number, h: number, v = 1): GrayImage {
  for (let j = y; j < y + h; j++) for (let i = x; i < x + w; i++) img.data[j * img.width + i] = v;
  return img;
}

function sum(a: Float32Array): number {
  return a.reduce((s, v) => s + v, 0);
}

function max(a: Float32Array): number {
  return a.reduce((m, v) => Math.max(m, v), 0);
}

function outputBox(pixels: Float32Array, threshold: number) {
  return boundingBox(pixels, MNIST_SIDE, MNIST_SIDE, threshold);
}

function outputCentre(pixels: Float32Array) {
  const c = centreOfMass(pixels, MNIST_SIDE, MNIST_SIDE);
  if (!c) throw new Error('output has no mass');
  return c;
}

function mnistDigits(count: number): Float32Array[] {
  return Array.from({ length: count }, (_, k) => mnistTestDigit(k).pixels);
}

function rgbaImage(width: number, height: number, paper: readonly number[]): Uint8ClampedArray {
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) rgba.set(paper, i * 4);
  return rgba;
}

function paintRect(
  rgba: Uint8ClampedArray,
  width: number,
  rect: { x: number; y: number; w: number; h: number },
  colour: readonly number[],
): void {
  for (let y = rect.y; y < rect.y + rect.h; y++) {
    for (let x = rect.x; x < rect.x + rect.w; x++) rgba.set(colour, (y * width + x) * 4);
  }
}

describe('boundingBox', () => {
  it('finds the extent of pixels above the threshold', () => {
    const img = fillRect(blank(10, 8), 2, 3, 4, 2);
    img.data[7 * 10 + 9] = 0.05;
    expect(boundingBox(img.data, 10, 8, 0.1)).toEqual({ x: 2, y: 3, width: 4, height: 2 });
    expect(boundingBox(img.data, 10, 8, 0.01)).toEqual({ x: 2, y: 3, width: 8, height: 5 });
  });

  it('returns null when nothing exceeds the threshold', () => {
    expect(boundingBox(blank(5, 5).data, 5, 5)).toBeNull();
    expect(boundingBox(new Float32Array(0), 0, 0)).toBeNull();
  });

  it('rejects data that does not match the size', () => {
    expect(() => boundingBox(new Float32Array(10), 4, 4)).toThrow(RangeError);
  });
});

describe('centreOfMass', () => {
  it('weights positions by intensity, in index coordinates', () => {
    const img = blank(10, 10);
    img.data[2 * 10 + 1] = 1;
    img.data[2 * 10 + 7] = 3;
    expect(centreOfMass(img.data, 10, 10)).toEqual({ x: 5.5, y: 2, mass: 4 });
  });

  it('can be restricted to a box', () => {
    const img = fillRect(fillRect(blank(10, 10), 0, 0, 2, 2), 6, 6, 2, 2);
    const c = centreOfMass(img.data, 10, 10, { x: 5, y: 5, width: 5, height: 5 });
    expect(c).toEqual({ x: 6.5, y: 6.5, mass: 4 });
  });

  it('is null for an image without mass', () => {
    expect(centreOfMass(blank(3, 3).data, 3, 3)).toBeNull();
  });
});

describe('preprocess', () => {
  it.each([
    [0, 0, 30],
    [55, 10, 30],
    [70, 70, 30],
    [13, 41, 37],
    [90, 3, 7],
  ])('scales a %i,%i square of side %i to 20×20 at the centre (MNIST mode)', (x, y, side) => {
    const r = preprocess(fillRect(blank(100, 100), x, y, side, side), { subpixel: false });
    expect(r.empty).toBe(false);
    expect(r.box).toEqual({ x, y, width: side, height: side });
    expect(r.scale).toBeCloseTo(DIGIT_BOX / side, 10);
    expect(r.pixels).toHaveLength(MNIST_PIXELS);
    const box = outputBox(r.pixels, 0.01);
    expect(box).toMatchObject({ width: 20, height: 20 });
    expect(outputBox(r.pixels, 0.99)).toEqual(box);
    const c = outputCentre(r.pixels);
    expect(Math.abs(c.x - MNIST_CENTRE)).toBeLessThanOrEqual(0.5 + 1e-6);
    expect(Math.abs(c.y - MNIST_CENTRE)).toBeLessThanOrEqual(0.5 + 1e-6);
  });

  it('places the centre of mass exactly with sub-pixel shifts, preserving area', () => {
    for (const [x, y, side] of [
      [55, 10, 30],
      [13, 41, 37],
      [3, 60, 23],
    ] as const) {
      const r = preprocess(fillRect(blank(100, 100), x, y, side, side));
      const c = outputCentre(r.pixels);
      expect(c.x).toBeCloseTo(MNIST_CENTRE, 3);
      expect(c.y).toBeCloseTo(MNIST_CENTRE, 3);
      expect(sum(r.pixels)).toBeCloseTo(400, 2);
      expect(max(r.pixels)).toBe(1);
      // At most one partially covered row/column on each side of the 20-px square.
      const outer = outputBox(r.pixels, 1e-4)!;
      const inner = outputBox(r.pixels, 0.999)!;
      expect(outer.width).toBeLessThanOrEqual(21);
      expect(outer.height).toBeLessThanOrEqual(21);
      expect(inner.width).toBeGreaterThanOrEqual(19);
      expect(inner.height).toBeGreaterThanOrEqual(19);
    }
  });

  it('keeps the aspect ratio of a tall thin bar', () => {
    const r = preprocess(fillRect(blank(100, 100), 40, 20, 10, 50), { subpixel: false });
    expect(outputBox(r.pixels, 0.01)).toMatchObject({ width: 4, height: 20 });
    expect(sum(r.pixels)).toBeCloseTo(80, 3);
  });

  it('keeps the aspect ratio of a wide bar, including fractional widths', () => {
    const r = preprocess(fillRect(blank(200, 100), 20, 40, 140, 9));
    // 9 px × 20/140 = 1.29 px tall, 20 px wide.
    expect(sum(r.pixels) / max(r.pixels)).toBeGreaterThan(0);
    const unnormalised = preprocess(fillRect(blank(200, 100), 20, 40, 140, 9), {
      normalize: false,
    });
    expect(sum(unnormalised.pixels)).toBeCloseTo((20 * 9 * 20) / 140, 3);
    const box = outputBox(unnormalised.pixels, 1e-4)!;
    expect(box.width).toBeGreaterThanOrEqual(20);
    expect(box.width).toBeLessThanOrEqual(21);
    expect(box.height).toBeLessThanOrEqual(3);
  });

  it('centres an off-centre L shape by mass, not by its box', () => {
    // Vertical stroke 8×60 plus foot 40×8: the mass sits towards the bottom-left.
    const img = fillRect(fillRect(blank(120, 120), 70, 5, 8, 60), 70, 57, 40, 8);
    const r = preprocess(img);
    const c = outputCentre(r.pixels);
    expect(c.x).toBeCloseTo(MNIST_CENTRE, 2);
    expect(c.y).toBeCloseTo(MNIST_CENTRE, 2);
    const box = outputBox(r.pixels, 0.5)!;
    // The box is not centred: it hangs to the upper right of the centre of mass.
    expect(box.x + box.width / 2).toBeGreaterThan(MNIST_CENTRE + 1);
    expect(box.y + box.height / 2).toBeLessThan(MNIST_CENTRE - 1);
    // The shape survives: the corner of the L is ink, the inside of the L is not.
    const cornerX = Math.round(box.x + 1);
    const cornerY = Math.round(box.y + box.height - 2);
    expect(r.pixels[cornerY * MNIST_SIDE + cornerX]).toBeGreaterThan(0.9);
    expect(r.pixels[(box.y + 5) * MNIST_SIDE + box.x + box.width - 2]).toBe(0);

    const mnist = preprocess(img, { subpixel: false });
    const cm = outputCentre(mnist.pixels);
    expect(Math.abs(cm.x - MNIST_CENTRE)).toBeLessThanOrEqual(0.5 + 1e-6);
    expect(Math.abs(cm.y - MNIST_CENTRE)).toBeLessThanOrEqual(0.5 + 1e-6);
  });

  it('reports an empty image', () => {
    const r = preprocess(blank(280, 280));
    expect(r).toMatchObject({ empty: true, box: null, centre: null, scale: 0 });
    expect(r.pixels).toHaveLength(MNIST_PIXELS);
    expect(max(r.pixels)).toBe(0);
    expect(preprocess(blank(0, 0)).empty).toBe(true);
  });

  it('treats ink below the threshold as empty', () => {
    const img = fillRect(blank(50, 50), 10, 10, 5, 5, 0.05);
    expect(preprocess(img, { threshold: 0.1 }).empty).toBe(true);
    expect(preprocess(img).empty).toBe(false);
  });

  it('reproduces MNIST digits exactly in MNIST mode', () => {
    for (const digit of mnistDigits(100)) {
      const r = preprocess({ width: 28, height: 28, data: digit }, { subpixel: false });
      const peak = max(digit);
      let worst = 0;
      for (let i = 0; i < MNIST_PIXELS; i++) {
        worst = Math.max(worst, Math.abs(r.pixels[i]! - digit[i]! / peak));
      }
      expect(worst).toBeLessThan(1e-5);
    }
  });

  it('keeps MNIST digits similar in sub-pixel mode', () => {
    // A shift of up to half a pixel at scale 1 splits thin strokes over two columns, so
    // single digits can drop to ~0.85 while the typical one stays near 0.97.
    const scores = mnistDigits(200).map((digit) =>
      correlation(preprocess({ width: 28, height: 28, data: digit }).pixels, digit),
    );
    expect(Math.min(...scores)).toBeGreaterThan(0.8);
    expect(sum(Float32Array.from(scores)) / scores.length).toBeGreaterThan(0.95);
  });

  it('anti-aliases a thin diagonal line instead of sampling it', () => {
    const img = blank(200, 200);
    for (let t = 20; t < 180; t++) fillRect(img, t, t, 3, 1);
    const r = preprocess(img, { normalize: false });
    // Area averaging preserves ink mass; point sampling of a line this thin would not.
    expect(sum(r.pixels)).toBeCloseTo(sum(img.data) * r.scale ** 2, 2);
    const intermediate = r.pixels.filter((v) => v > 0.02 && v < 0.8).length;
    expect(intermediate).toBeGreaterThanOrEqual(20);
    expect(max(r.pixels)).toBeLessThan(0.8);
  });

  it('upscales a small digit smoothly without a halo beyond the 20-px box', () => {
    // A 5×5 plus sign: one-pixel strokes scaled ×4.
    const img = fillRect(fillRect(blank(28, 28), 10, 12, 5, 1), 12, 10, 1, 5);
    const r = preprocess(img, { subpixel: false });
    expect(r.scale).toBe(4);
    expect(outputBox(r.pixels, 1e-6)).toMatchObject({ width: 20, height: 20 });
    const c = outputCentre(r.pixels);
    expect(Math.abs(c.x - MNIST_CENTRE)).toBeLessThanOrEqual(0.5 + 1e-6);
    // The strokes are interpolated, so their sides ramp through grey levels.
    expect(r.pixels.filter((v) => v > 0.05 && v < 0.95).length).toBeGreaterThan(4);
  });

  it('normalises the peak to 1 unless told not to', () => {
    const img = fillRect(blank(60, 60), 5, 5, 40, 30, 0.4);
    expect(max(preprocess(img).pixels)).toBe(1);
    expect(max(preprocess(img, { normalize: false }).pixels)).toBeCloseTo(0.4, 5);
  });

  it('clamps out-of-range input to [0, 1]', () => {
    const img = fillRect(blank(30, 30), 5, 5, 10, 10, 7);
    const r = preprocess(img, { normalize: false });
    expect(max(r.pixels)).toBe(1);
    expect(r.pixels.every((v) => v >= 0 && v <= 1)).toBe(true);
  });

  it('is fast enough for the drawing pad (280×280 every frame)', () => {
    const img = blank(280, 280);
    for (let t = 0; t < 200; t++) fillRect(img, 40 + t, 30 + Math.round(t * 1.1), 16, 16);
    for (let k = 0; k < 20; k++) preprocess(img);
    const runs = 100;
    const start = performance.now();
    for (let k = 0; k < runs; k++) preprocess(img);
    // Typically ~0.3 ms; the bound leaves room for slow, shared CI machines.
    expect((performance.now() - start) / runs).toBeLessThan(5);
  });
});

describe('toGrayscaleInk', () => {
  const W = 40;
  const H = 30;
  const rect = { x: 10, y: 8, w: 12, h: 9 };
  const inRect = (8 + 3) * W + 10 + 3;
  const outside = 2 * W + 30;

  it('inverts dark ink on light paper', () => {
    const rgba = rgbaImage(W, H, [255, 255, 255, 255]);
    paintRect(rgba, W, rect, [0, 0, 0, 255]);
    const ink = toGrayscaleInk(rgba, W, H);
    expect(ink).toMatchObject({ width: W, height: H, polarity: 'dark-on-light', background: 1 });
    expect(ink.data[inRect]).toBe(1);
    expect(ink.data[outside]).toBe(0);
    expect(sum(ink.data)).toBe(rect.w * rect.h);
  });

  it('keeps light ink on dark paper', () => {
    const rgba = rgbaImage(W, H, [0, 0, 0, 255]);
    paintRect(rgba, W, rect, [255, 255, 255, 255]);
    const ink = toGrayscaleInk(rgba, W, H);
    expect(ink).toMatchObject({ polarity: 'light-on-dark', background: 0 });
    expect(ink.data[inRect]).toBe(1);
    expect(sum(ink.data)).toBe(rect.w * rect.h);
  });

  it('subtracts a grey background and stretches low contrast', () => {
    const rgba = rgbaImage(W, H, [200, 200, 200, 255]);
    paintRect(rgba, W, rect, [120, 120, 120, 255]);
    const ink = toGrayscaleInk(rgba, W, H);
    expect(ink.polarity).toBe('dark-on-light');
    expect(ink.background).toBeCloseTo(200 / 255, 5);
    expect(ink.data[inRect]).toBeCloseTo(1, 5);
    expect(ink.data[outside]).toBe(0);
    const raw = toGrayscaleInk(rgba, W, H, { stretch: false });
    expect(raw.data[inRect]).toBeCloseTo(80 / 200, 2);
  });

  it('uses luminance, so coloured ink on white paper counts', () => {
    const rgba = rgbaImage(W, H, [255, 255, 255, 255]);
    paintRect(rgba, W, rect, [0, 0, 200, 255]);
    const ink = toGrayscaleInk(rgba, W, H, { stretch: false });
    expect(ink.data[inRect]).toBeGreaterThan(0.8);
  });

  it.each([
    ['black strokes', [0, 0, 0, 0], [0, 0, 0, 255]],
    ['white strokes', [255, 255, 255, 0], [255, 255, 255, 255]],
    ['black strokes over white-coloured transparency', [255, 255, 255, 0], [0, 0, 0, 255]],
  ])('treats transparency as background (%s)', (_name, paper, stroke) => {
    const rgba = rgbaImage(W, H, paper);
    paintRect(rgba, W, rect, stroke);
    const ink = toGrayscaleInk(rgba, W, H);
    expect(ink.data[inRect]).toBe(1);
    expect(ink.data[outside]).toBe(0);
    expect(sum(ink.data)).toBe(rect.w * rect.h);
  });

  it('reads partial alpha as partial ink', () => {
    const rgba = rgbaImage(W, H, [0, 0, 0, 0]);
    paintRect(rgba, W, rect, [0, 0, 0, 255]);
    rgba.set([0, 0, 0, 128], outside * 4);
    const ink = toGrayscaleInk(rgba, W, H, { stretch: false });
    expect(ink.data[inRect]).toBe(1);
    expect(ink.data[outside]).toBeCloseTo(128 / 255, 5);
  });

  it('floors paper noise so the bounding box finds the digit', () => {
    const rgba = rgbaImage(W, H, [0, 0, 0, 255]);
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
    for (let i = 0; i < W * H; i++) {
      const v = Math.round(220 + 12 * random());
      rgba.set([v, v, v, 255], i * 4);
    }
    paintRect(rgba, W, rect, [40, 40, 40, 255]);
    const ink = toGrayscaleInk(rgba, W, H);
    expect(ink.polarity).toBe('dark-on-light');
    expect(boundingBox(ink.data, W, H)).toEqual({ x: 10, y: 8, width: 12, height: 9 });
    expect(ink.data[inRect]).toBeGreaterThan(0.8);
  });

  it('survives ink touching the border', () => {
    const rgba = rgbaImage(W, H, [255, 255, 255, 255]);
    paintRect(rgba, W, { x: 0, y: 0, w: 6, h: H }, [0, 0, 0, 255]);
    const ink = toGrayscaleInk(rgba, W, H);
    expect(ink.polarity).toBe('dark-on-light');
    expect(boundingBox(ink.data, W, H)).toEqual({ x: 0, y: 0, width: 6, height: H });
  });

  it('obeys a forced polarity', () => {
    const rgba = rgbaImage(W, H, [255, 255, 255, 255]);
    paintRect(rgba, W, rect, [0, 0, 0, 255]);
    const ink = toGrayscaleInk(rgba, W, H, { polarity: 'light-on-dark' });
    expect(ink.polarity).toBe('light-on-dark');
    expect(ink.data[outside]).toBe(1);
    expect(ink.data[inRect]).toBe(0);
  });

  it.each([
    ['white', [255, 255, 255, 255]],
    ['black', [0, 0, 0, 255]],
    ['transparent', [0, 0, 0, 0]],
  ])('gives no ink for a blank %s canvas', (_name, paper) => {
    const ink = toGrayscaleInk(rgbaImage(280, 280, paper), 280, 280);
    expect(max(ink.data)).toBe(0);
    expect(preprocess(ink).empty).toBe(true);
  });

  it('ignores a contrast too faint to be a digit', () => {
    const rgba = rgbaImage(W, H, [255, 255, 255, 255]);
    paintRect(rgba, W, rect, [250, 250, 250, 255]);
    expect(max(toGrayscaleInk(rgba, W, H).data)).toBe(0);
  });

  it('accepts a Uint8Array and checks its length', () => {
    const rgba = new Uint8Array(rgbaImage(4, 4, [255, 255, 255, 255]));
    expect(toGrayscaleInk(rgba, 4, 4).data).toHaveLength(16);
    expect(() => toGrayscaleInk(rgba, 5, 4)).toThrow(RangeError);
  });

  it('feeds preprocess a drawing-pad canvas end to end', () => {
    const rgba = rgbaImage(280, 280, [255, 255, 255, 255]);
    paintRect(rgba, 280, { x: 130, y: 40, w: 20, h: 200 }, [0, 0, 0, 255]);
    const ink = toGrayscaleInk(rgba, 280, 280);
    const r = preprocess(ink, { subpixel: false });
    expect(r.empty).toBe(false);
    expect(outputBox(r.pixels, 0.5)).toMatchObject({ width: 2, height: 20 });
    const c = outputCentre(preprocess(ink).pixels);
    expect(c.x).toBeCloseTo(MNIST_CENTRE, 3);
    expect(c.y).toBeCloseTo(MNIST_CENTRE, 3);
  });
});
