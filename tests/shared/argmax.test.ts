import { describe, expect, it } from 'vitest';
import { argmax } from '../../src-main/shared/argmax';

describe('argmax', () => {
  it('is the index of the largest value, the first on ties', () => {
    expect(argmax([0.1, 0.7, 0.2])).toBe(1);
    expect(argmax(Float32Array.from([0.3, 0.3, 0.1]))).toBe(0);
    expect(argmax([-5, -1, -3])).toBe(1);
    expect(argmax([])).toBe(-1);
  });

  it('counts NaN as the smallest value', () => {
    expect(argmax([NaN, 0.2, 0.5])).toBe(2);
    expect(argmax([0.4, NaN, 0.1])).toBe(0);
    expect(argmax([NaN, NaN])).toBe(0);
  });
});
