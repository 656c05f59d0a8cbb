import { describe, expect, it } from 'vitest';
import { timeTo, timeToAccuracyRows, type AccuracyCurve } from '../../bench/time-to-accuracy';

const curve = (
  framework: AccuracyCurve['framework'],
  points: [number, number][],
): AccuracyCurve => ({
  framework,
  model: 'cnn-fast',
  engine: framework === 'tfjs' ? 'wasm' : 'torch 2.13.0+cpu',
  threads: 2,
  points: points.map(([elapsed, testAccuracy], i) => ({ epoch: i + 1, elapsed, testAccuracy })),
});

describe('time to accuracy', () => {
  const ours = curve('tfjs', [
    [40, 0.985],
    [80, 0.9931],
    [118, 0.9952],
  ]);
  const peer = curve('torch', [
    [30, 0.991],
    [60, 0.994],
    [90, 0.9949],
  ]);

  it('is the elapsed time of the first checkpoint at or above the accuracy', () => {
    expect(timeTo(ours, 0.99)).toBe(80);
    expect(timeTo(ours, 0.995)).toBe(118);
    expect(timeTo(peer, 0.99)).toBe(30);
    expect(timeTo(peer, 0.995)).toBeNull();
  });

  it('reports both frameworks, their ratio, and whether cnn-fast met its two-minute target', () => {
    const { header, rows } = timeToAccuracyRows([ours, peer]);
    expect(header).toEqual([
      'model',
      'engine',
      'threads',
      'epochs',
      'to 99.0 %',
      'to 99.5 %',
      'final test',
      'whole run',
      'target',
    ]);
    expect(rows[0]).toEqual([
      'cnn-fast',
      'wasm',
      '2',
      '3',
      '80 s',
      '118 s',
      '99.52 %',
      '118 s',
      '99.50 % ≤ 120 s: met',
    ]);
    expect(rows[1]![5]).toBe('not reached');
    expect(rows[1]![8]).toBe('99.50 % ≤ 120 s: MISSED');
    expect(rows[2]).toEqual(['cnn-fast', 'TF.js ÷ PyTorch', '', '', '2.67x', '—', '', '', '']);
  });
});
