/** "1 h 02 min", "3 min 05 s", "42 s": how long a person would say it. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** Remaining time from the fraction done and the time spent; null until there is a basis. */
export function estimateRemaining(fractionDone: number, elapsedSeconds: number): number | null {
  if (fractionDone <= 0 || fractionDone > 1 || elapsedSeconds < 1) return null;
  return (elapsedSeconds * (1 - fractionDone)) / fractionDone;
}

export const percent = (x: number | null | undefined, digits = 2): string =>
  x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(x * 100).toFixed(digits)} %`;
