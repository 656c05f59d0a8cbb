/**
 * The index of the largest value, the first on ties; -1 for an empty row. A model's class
 * probabilities come back as a flat row, and the predicted digit is this index. NaN counts as
 * the smallest value, so a partly diverged row still names its largest real value (an all-NaN
 * row gives 0).
 */
export function argmax(row: ArrayLike<number>): number {
  if (row.length === 0) return -1;
  let best = 0;
  for (let i = 1; i < row.length; i++) {
    const v = row[i]!;
    const b = row[best]!;
    if (v > b || (Number.isNaN(b) && !Number.isNaN(v))) best = i;
  }
  return best;
}
