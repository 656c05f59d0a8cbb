import { describe, expect, it } from 'vitest';
import {
  diverging,
  fillGrid,
  layerColour,
  maxAbs,
  saliencyColour,
  sequential,
} from '../../../src-renderer/src/lib/heatmap';

describe('colour maps', () => {
  it('maps 0 to black and 1 to the palest colour, clamping outside [0, 1]', () => {
    expect(sequential(0)).toEqual([0, 0, 4]);
    expect(sequential(1)).toEqual([252, 253, 191]);
    expect(sequential(-3)).toEqual(sequential(0));
    expect(sequential(7)).toEqual(sequential(1));
    expect(sequential(Number.NaN)).toEqual(sequential(0));
  });

  it('gets brighter along the sequential map', () => {
    const lum = ([r, g, b]: readonly number[]) => r! + g! + b!;
    for (let i = 0; i < 10; i++)
      expect(lum(sequential((i + 1) / 10))).toBeGreaterThan(lum(sequential(i / 10)));
  });

  it('diverges blue for negative, red for positive, neutral at 0', () => {
    const [r0, , b0] = diverging(0);
    const [rn, , bn] = diverging(-1);
    const [rp, , bp] = diverging(1);
    expect(bn).toBeGreaterThan(rn);
    expect(rp).toBeGreaterThan(bp);
    expect(Math.abs(r0 - b0)).toBeLessThan(20);
  });

  it('scales a layer by its largest |value|, diverging only when something is negative', () => {
    expect(maxAbs([0.5, -2, 1])).toBe(2);
    expect(maxAbs([])).toBe(0);
    expect(layerColour([0, 2])(2)).toEqual(sequential(1));
    expect(layerColour([0, 2])(1)).toEqual(sequential(0.5));
    expect(layerColour([-4, 2])(-4)).toEqual(diverging(-1));
    // An all-zero layer is painted black, not NaN.
    expect(layerColour([0, 0])(0)).toEqual(sequential(0));
  });

  it('lays saliency over the dimmed input: red where it helps, blue where it hurts', () => {
    expect(saliencyColour(0, 0, 1)).toEqual([0, 0, 0]);
    expect(saliencyColour(1, 0, 1)).toEqual([110, 110, 110]);
    const [r, , b] = saliencyColour(1, 1, 1);
    expect(r).toBeGreaterThan(b);
    const [r2, , b2] = saliencyColour(1, -1, 1);
    expect(b2).toBeGreaterThan(r2);
    expect(saliencyColour(1, 0.5, 0)).toEqual([110, 110, 110]);
  });
});

describe('fillGrid', () => {
  it('paints each cell as a cell × cell block, row-major', () => {
    const data = new Uint8ClampedArray(4 * 4 * 2);
    // 2 × 1 cells of 2 × 2 pixels: left 10, right 200 (grey levels).
    fillGrid(data, {
      width: 2,
      height: 1,
      cell: 2,
      at: (x) => (x === 0 ? 10 : 200),
      colour: (v) => [v, v, v],
    });
    const red = (px: number, py: number) => data[4 * (py * 4 + px)];
    expect([red(0, 0), red(1, 0), red(0, 1), red(1, 1)]).toEqual([10, 10, 10, 10]);
    expect([red(2, 0), red(3, 1)]).toEqual([200, 200]);
    expect(data[3]).toBe(255);
  });
});
