import { describe, expect, it } from 'vitest';
import { EmaSmoother, smooth } from '../../../src-renderer/src/lib/smoothing';

describe('TensorBoard-style smoothing', () => {
  it('is the identity at weight 0', () => {
    expect(smooth([3, 1, 4, 1, 5], 0)).toEqual([3, 1, 4, 1, 5]);
  });

  it('is debiased: a constant series stays constant from the first point', () => {
    for (const v of smooth([2, 2, 2, 2], 0.9)) expect(v).toBeCloseTo(2, 12);
  });

  it('starts at the first raw value, however heavy the smoothing', () => {
    expect(smooth([0.7, 0.1], 0.99)[0]).toBeCloseTo(0.7, 12);
  });

  it('matches TensorBoard on a known series', () => {
    // TensorBoard: last = last * w + (1 - w) * v; smoothed = last / (1 - w^n)
    const w = 0.6;
    const values = [1, 0, 1, 0];
    let last = 0;
    const expected = values.map((v, i) => {
      last = last * w + (1 - w) * v;
      return last / (1 - w ** (i + 1));
    });
    expect(smooth(values, w)).toEqual(expected);
    expect(smooth(values, w)[1]).toBeCloseTo(0.375, 12);
  });

  it('skips non-finite values instead of poisoning the curve', () => {
    const ema = new EmaSmoother(0.5);
    ema.push(1);
    expect(ema.push(Number.NaN)).toBe(1);
    expect(ema.push(1)).toBeCloseTo(1, 12);
  });

  it('rejects a weight outside [0, 1)', () => {
    expect(() => new EmaSmoother(1)).toThrow(RangeError);
    expect(() => new EmaSmoother(-0.1)).toThrow(RangeError);
  });
});
