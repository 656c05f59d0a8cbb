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

/** "25 Nov, 21:08" in the user's locale and time zone; "–" for a missing or bad date. */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '–';
  return d.toLocaleString(undefined, {
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
  });
}

/**
 * A run as a person would name it: the name the user gave it, else its model, when it started,
 * and the id's random tail, which tells apart runs started in the same minute
 * ("mlp · 25 Nov, 21:08 · c67b").
 */
export function runLabel(run: {
  runId: string;
  model: string | null;
  createdAt: string | null;
  name?: string | null;
}) {
  if (run.name) return run.name;
  if (!run.createdAt) return run.runId;
  const tail = /-([0-9a-f]{4})$/.exec(run.runId)?.[1];
  return `${run.model ?? 'run'} · ${formatDate(run.createdAt)}${tail ? ` · ${tail}` : ''}`;
}

/** Epoch times: "0.42 s" and "7.3 s" keep their precision, longer ones read like durations. */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  if (seconds < 1) return `${seconds.toFixed(2)} s`;
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  return formatDuration(seconds);
}

/** "1.2 MB", "830 KB": checkpoint sizes. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '–';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
