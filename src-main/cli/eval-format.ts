import type { Evaluation, Prediction, TestExample } from '../contract/messages';
import { fitToWidth, percent, plural, progressBar, thousands } from './terminal-line';

/** What `eval` and `predict` print in a terminal. */

/** An evaluation as the CLI has it: mistakes as test-set indices, without their pixels. */
export type EvaluationSummary = Omit<Evaluation, 'mistakes'> & {
  mistakes: Omit<TestExample, 'pixels'>[];
};

/** Shown until the first chunk is scored: loading the checkpoint and the test set takes a while. */
export const evalStartLine = (runId: string): string => `Evaluating run ${runId}: loading…`;

export function evalProgressLine(done: number, total: number, columns: number | undefined): string {
  return fitToWidth(
    `Evaluating  ${progressBar(done / total, 30)}  ${thousands(done)}/${thousands(total)} test images`,
    columns,
  );
}

/** The digit a row of the confusion matrix most often becomes, other than itself. */
export function mostCommonConfusion(
  row: readonly number[],
  digit: number,
): { digit: number; count: number } | null {
  let best: { digit: number; count: number } | null = null;
  for (let predicted = 0; predicted < row.length; predicted++) {
    const count = row[predicted]!;
    if (predicted !== digit && count > 0 && (!best || count > best.count))
      best = { digit: predicted, count };
  }
  return best;
}

const MISTAKES_SHOWN = 5;

/** The overall figures, a table by digit, and the model's most confident mistakes. */
export function evaluationLines(result: EvaluationSummary): string[] {
  const right = result.confusion.reduce((sum, row, digit) => sum + row[digit]!, 0);
  const header = ['digit', 'images', 'accuracy', 'most often read as'];
  const rows = result.confusion.map((row, digit) => {
    const confusion = mostCommonConfusion(row, digit);
    return [
      String(digit),
      thousands(row.reduce((a, b) => a + b, 0)),
      percent(result.perClass[digit]!),
      confusion ? `${confusion.digit} (${plural(confusion.count, 'time')})` : '—',
    ];
  });
  // Right-aligned numbers, the last column left-aligned: it is words.
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const lines = [
    `Run ${result.runId}, epoch ${result.epoch}: accuracy ${percent(result.accuracy)} on ` +
      `${thousands(result.count)} test images (${thousands(result.count - right)} wrong), loss ${result.loss.toFixed(4)}`,
    '',
    line(header),
    ...rows.map(line),
  ];
  const mistakes = result.mistakes.slice(0, MISTAKES_SHOWN);
  if (mistakes.length > 0) {
    lines.push(
      '',
      'Most confident mistakes (test image: digit → read as, confidence):',
      mistakes
        .map(
          (m) =>
            `#${m.index}: ${m.label} → ${m.predicted}, ${percent(m.probabilities[m.predicted]!)}`,
        )
        .join('; '),
    );
  }
  return lines;
}

/** "Run …, epoch 2: 7 (98.21 % sure); then 1 (1.02 %), 9 (0.40 %)" */
export function predictionLine(result: Prediction): string {
  const others = result.probabilities
    .map((p, digit) => ({ p, digit }))
    .filter(({ digit }) => digit !== result.digit)
    .sort((a, b) => b.p - a.p)
    .slice(0, 2)
    .map(({ p, digit }) => `${digit} (${percent(p)})`);
  const sure = percent(result.probabilities[result.digit]!);
  return `Run ${result.runId}, epoch ${result.epoch}: ${result.digit} (${sure} sure); then ${others.join(', ')}`;
}
