import { describe, expect, it } from 'vitest';
import {
  evalProgressLine,
  evalStartLine,
  evaluationLines,
  mostCommonConfusion,
  predictionLine,
} from '../../src-main/cli/eval-format';
import { evaluation, runId } from './events';

describe('eval and predict in a terminal', () => {
  it('shows progress over the test set before the result', () => {
    expect(evalStartLine(runId)).toBe(`Evaluating run ${runId}: loading…`);
    expect(evalProgressLine(4000, 10_000, 200)).toBe(
      `Evaluating  ${'█'.repeat(12)}${'░'.repeat(18)}  4,000/10,000 test images`,
    );
    expect([...evalProgressLine(4000, 10_000, 30)]).toHaveLength(29);
  });

  it('finds the digit a row of the confusion matrix most often becomes, never itself', () => {
    expect(mostCommonConfusion([90, 3, 0, 7, 0, 0, 0, 0, 0, 0], 0)).toEqual({ digit: 3, count: 7 });
    // A tie goes to the lower digit; a perfect row has none.
    expect(mostCommonConfusion([0, 0, 5, 99, 5, 0, 0, 0, 0, 0], 3)).toEqual({ digit: 2, count: 5 });
    expect(mostCommonConfusion([0, 0, 0, 99, 0, 0, 0, 0, 0, 0], 3)).toBeNull();
  });

  it('prints overall accuracy, a table by digit and the most confident mistakes', () => {
    expect(evaluationLines(evaluation)).toEqual([
      `Run ${runId}, epoch 2: accuracy 88.93 % on 1,012 test images (112 wrong), loss 0.2877`,
      '',
      'digit  images  accuracy  most often read as',
      '    0     100   90.00 %  1 (10 times)',
      '    1     100   90.00 %  2 (10 times)',
      '    2     100   90.00 %  3 (10 times)',
      '    3     100   90.00 %  4 (10 times)',
      '    4     100   90.00 %  5 (10 times)',
      '    5     100   90.00 %  6 (10 times)',
      '    6     100   90.00 %  7 (10 times)',
      '    7     112   80.36 %  1 (12 times)',
      '    8     100   90.00 %  9 (10 times)',
      '    9     100   90.00 %  0 (10 times)',
      '',
      'Most confident mistakes (test image: digit → read as, confidence):',
      '#1234: 4 → 9, 99.00 %; #42: 7 → 1, 80.00 %',
    ]);
  });

  it('leaves out the mistakes when there are none, and says "—" for a digit never confused', () => {
    const confusion = evaluation.confusion.map((row, actual) =>
      row.map((c, predicted) => (actual === 0 ? (predicted === 0 ? 100 : 0) : c)),
    );
    const lines = evaluationLines({ ...evaluation, confusion, mistakes: [] });
    expect(lines[3]).toBe('    0     100   90.00 %  —');
    expect(lines.at(-1)).toBe('    9     100   90.00 %  0 (10 times)');
  });

  it('names the digit, how sure, and the next two guesses', () => {
    expect(
      predictionLine({
        runId,
        epoch: 2,
        digit: 7,
        probabilities: [0, 0.0102, 0, 0, 0, 0, 0, 0.9821, 0, 0.004],
      }),
    ).toBe(`Run ${runId}, epoch 2: 7 (98.21 % sure); then 1 (1.02 %), 9 (0.40 %)`);
  });
});
