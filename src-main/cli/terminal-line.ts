/**
 * Pieces of a terminal line that redraws itself: a bar, numbers as people read them, and a
 * width limit.
 */

/** Back to the start of the line and erase it: what a redrawn line writes before itself. */
export const CLEAR_LINE = '\r\x1b[2K';

export function progressBar(fraction: number, width: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

/**
 * The line cut to the terminal's width: a line that wraps cannot be redrawn with \r, and every
 * redraw would leave a stale copy above. One column short, as a character written in the last
 * column wraps on some terminals.
 */
export function fitToWidth(line: string, columns: number | undefined): string {
  if (!columns || columns < 2) return line;
  const chars = [...line];
  return chars.length < columns ? line : chars.slice(0, columns - 1).join('');
}

export const percent = (fraction: number): string => `${(fraction * 100).toFixed(2)} %`;

export const thousands = (n: number): string => n.toLocaleString('en-US');

export function duration(seconds: number): string {
  if (seconds < 59.95) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
}

/** "1 epoch", "2 epochs", "3 batches" */
export const plural = (n: number, word: string, words = `${word}s`): string =>
  `${thousands(n)} ${n === 1 ? word : words}`;
