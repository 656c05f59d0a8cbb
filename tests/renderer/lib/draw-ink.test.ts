import { describe, expect, it } from 'vitest';
import { centreOfMass, MNIST_SIDE, preprocess } from '$shared/preprocess';
import {
  drawStrokes,
  InkPad,
  MIN_DIGIT_SIDE,
  PAD_SIDE,
  paintSegment,
  PEN_WIDTH,
} from '../../../src-renderer/src/lib/draw-ink';
import { digitStrokes, PLACEMENTS } from '../../e2e/digit-strokes';

const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);
const at = (pad: InkPad, x: number, y: number) => pad.ink[y * pad.side + x]!;

describe('paintSegment', () => {
  it('paints a round-capped line of the pen width with anti-aliased edges', () => {
    const side = 100;
    const ink = new Float32Array(side * side);
    paintSegment(ink, side, { x: 30, y: 50.25 }, { x: 70, y: 50.25 }, 20);
    // Area of a capsule: length × width + a disc of the pen.
    expect(sum(ink)).toBeCloseTo(40 * 20 + Math.PI * 10 * 10, -1);
    expect(ink[50 * side + 50]).toBe(1);
    expect(ink[50 * side + 25]).toBe(1); // inside the round cap
    expect(ink[50 * side + 15]).toBe(0); // beyond it
    expect(ink[35 * side + 50]).toBe(0);
    // Pixel row [40, 41) is three quarters inside the edge at y = 40.25.
    expect(ink[40 * side + 50]).toBeCloseTo(0.75, 6);
  });

  it('keeps the brighter value where strokes cross, and stays inside the buffer', () => {
    const side = 50;
    const ink = new Float32Array(side * side);
    paintSegment(ink, side, { x: -10, y: 25 }, { x: 60, y: 25 }, 10);
    paintSegment(ink, side, { x: 25, y: -10 }, { x: 25, y: 60 }, 10);
    expect(Math.max(...ink)).toBe(1);
    expect(Math.min(...ink)).toBe(0);
    expect(ink).toHaveLength(side * side);
  });
});

describe('InkPad', () => {
  it('starts empty, paints a dot on pen-down and a joined line as the pen moves', () => {
    const pad = new InkPad();
    expect(pad.empty).toBe(true);
    expect(pad.side).toBe(PAD_SIDE);
    expect(pad.penWidth).toBe(PEN_WIDTH);
    expect(pad.begin({ x: 100, y: 100 })).toEqual([{ x: 100, y: 100 }]);
    expect(pad.active).toBe(true);
    expect(at(pad, 100, 100)).toBe(1);
    expect(at(pad, 100, 150)).toBe(0);
    expect(pad.extend({ x: 100, y: 160 })).toEqual([
      { x: 100, y: 100 },
      { x: 100, y: 160 },
    ]);
    expect(at(pad, 100, 150)).toBe(1);
    pad.end();
    expect(pad.active).toBe(false);
    expect(pad.pieces).toHaveLength(2);
  });

  it('ignores sub-pixel jitter and moves while the pen is up', () => {
    const pad = new InkPad();
    expect(pad.extend({ x: 10, y: 10 })).toEqual([]);
    pad.begin({ x: 50, y: 50 });
    expect(pad.extend({ x: 50.2, y: 50.1 })).toEqual([]);
    pad.end();
    expect(pad.extend({ x: 80, y: 80 })).toEqual([]);
    expect(pad.pieces).toHaveLength(1);
  });

  it('clear empties the buffer and the history', () => {
    const pad = drawStrokes([
      [
        { x: 40, y: 40 },
        { x: 200, y: 200 },
      ],
    ]);
    expect(sum(pad.ink)).toBeGreaterThan(0);
    pad.clear();
    expect(pad.empty).toBe(true);
    expect(pad.active).toBe(false);
    expect(sum(pad.ink)).toBe(0);
  });

  it('feeds preprocessing an MNIST-like digit: centred on (14, 14), 20 px tall', () => {
    const pad = drawStrokes(digitStrokes(1, PLACEMENTS[0]!));
    const out = preprocess(pad.image());
    expect(out.empty).toBe(false);
    const c = centreOfMass(out.pixels, MNIST_SIDE, MNIST_SIDE)!;
    expect(c.x).toBeCloseTo(14, 1);
    expect(c.y).toBeCloseTo(14, 1);
    let rows = 0;
    for (let y = 0; y < MNIST_SIDE; y++)
      if (out.pixels.slice(y * MNIST_SIDE, (y + 1) * MNIST_SIDE).some((v) => v > 0.01)) rows++;
    expect(rows).toBeGreaterThanOrEqual(20);
    expect(rows).toBeLessThanOrEqual(21);
  });

  it('has a pen whose strokes carry about as much ink as MNIST digits of each class', () => {
    // Mean ink (sum of [0, 1] pixels) of the 10,000 MNIST test digits, per class.
    const MNIST_INK = [135, 60, 118, 112, 96, 104, 113, 90, 120, 98];
    for (const placement of PLACEMENTS) {
      for (let digit = 0; digit < 10; digit++) {
        const out = preprocess(drawStrokes(digitStrokes(digit, placement)).image());
        const ratio = sum(out.pixels) / MNIST_INK[digit]!;
        expect(ratio, `digit ${digit} drawn ${placement.height} tall`).toBeGreaterThan(0.6);
        expect(ratio, `digit ${digit} drawn ${placement.height} tall`).toBeLessThan(1.4);
      }
    }
  });
});

describe('InkPad.extent and tooSmall', () => {
  it('measures the ink with the pen and calls a dot or a short scribble too small', () => {
    const pad = new InkPad();
    expect(pad.extent()).toEqual({ width: 0, height: 0 });
    expect(pad.tooSmall).toBe(false);
    pad.begin({ x: 100, y: 100 });
    expect(pad.extent()).toEqual({ width: PEN_WIDTH, height: PEN_WIDTH });
    expect(pad.tooSmall).toBe(true);
    pad.extend({ x: 100, y: 100 + MIN_DIGIT_SIDE - PEN_WIDTH - 1 });
    expect(pad.tooSmall).toBe(true);
    pad.extend({ x: 100, y: 100 + MIN_DIGIT_SIDE - PEN_WIDTH });
    expect(pad.extent().height).toBe(MIN_DIGIT_SIDE);
    expect(pad.tooSmall).toBe(false);
    pad.clear();
    expect(pad.tooSmall).toBe(false);
  });
});
