import { describe, expect, it } from 'vitest';
import {
  duration,
  fitToWidth,
  percent,
  plural,
  progressBar,
  thousands,
} from '../../src-main/cli/terminal-line';

describe('terminal line pieces', () => {
  it('draws a bar of a fixed width, clamped to empty and full', () => {
    expect(progressBar(0, 10)).toBe('░'.repeat(10));
    expect(progressBar(0.5, 10)).toBe('█'.repeat(5) + '░'.repeat(5));
    expect(progressBar(1, 10)).toBe('█'.repeat(10));
    expect(progressBar(1.5, 4)).toBe('████');
    expect(progressBar(-1, 4)).toBe('░░░░');
  });

  it('cuts a line one column short of the terminal, counting characters, not bytes', () => {
    expect(fitToWidth('epoch 1/2 ███', 80)).toBe('epoch 1/2 ███');
    expect(fitToWidth('█'.repeat(10), 10)).toBe('█'.repeat(9));
    expect(fitToWidth('abcdef', 5)).toBe('abcd');
    // An unknown width (a pseudo-terminal that reports none) cuts nothing.
    expect(fitToWidth('abcdef', undefined)).toBe('abcdef');
    expect(fitToWidth('abcdef', 0)).toBe('abcdef');
  });

  it('writes numbers as people read them', () => {
    expect(percent(0.98765)).toBe('98.77 %');
    expect(percent(1)).toBe('100.00 %');
    expect(thousands(10_000)).toBe('10,000');
    expect(duration(12.34)).toBe('12.3 s');
    expect(duration(59.96)).toBe('1 min 00 s');
    expect(duration(125.4)).toBe('2 min 05 s');
    expect(plural(1, 'epoch')).toBe('1 epoch');
    expect(plural(3, 'epoch')).toBe('3 epochs');
    expect(plural(1, 'batch', 'batches')).toBe('1 batch');
    expect(plural(1500, 'batch', 'batches')).toBe('1,500 batches');
  });
});
