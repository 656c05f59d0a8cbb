import type { ChoiceValue, SweepEvent, SweepEventOfType } from '../contract/sweep';
import type { SweepSummary } from '../engine/sweeps/catalog';
import { duration, percent, plural } from './terminal-line';

/** What `sweep`, `sweep resume`, `sweep list` and `sweep delete` print in a terminal. */

/** One trial as the terminal table shows it, gathered from the sweep's events. */
export interface TrialRow {
  trial: number;
  runId: string | null;
  status: 'running' | 'finished' | 'pruned' | 'failed' | 'interrupted';
  epochs: number;
  totalEpochs: number;
  best: number | null;
  point: Record<string, ChoiceValue>;
}

/** Folds an event into the rows (by trial number). */
export function updateRows(rows: Map<number, TrialRow>, event: SweepEvent): void {
  if (event.type === 'trial-started') {
    const before = rows.get(event.trial);
    rows.set(event.trial, {
      trial: event.trial,
      runId: event.runId,
      status: 'running',
      epochs: event.fromEpoch,
      totalEpochs: event.epochs,
      best: event.fromEpoch > 0 ? (before?.best ?? null) : null,
      point: event.point,
    });
    return;
  }
  if (!('trial' in event)) return;
  const row = rows.get(event.trial);
  if (!row) return;
  switch (event.type) {
    case 'trial-epoch':
      row.epochs = event.epoch;
      row.best = row.best === null ? event.valAccuracy : Math.max(row.best, event.valAccuracy);
      return;
    case 'trial-pruned':
      row.status = 'pruned';
      return;
    case 'trial-finished':
      row.status = 'finished';
      return;
    case 'trial-failed':
      row.status = 'failed';
      return;
    case 'trial-interrupted':
      row.status = 'interrupted';
      return;
  }
}

const showValue = (v: ChoiceValue): string =>
  typeof v === 'number' ? String(Number(v.toPrecision(4))) : JSON.stringify(v);

export const pointText = (point: Record<string, ChoiceValue>): string =>
  Object.keys(point)
    .sort()
    .map((k) => `${k} ${showValue(point[k]!)}`)
    .join(', ');

export function sweepEventLines(event: SweepEvent): string[] {
  switch (event.type) {
    case 'sweep-started':
      return startedLines(event);
    case 'trial-started':
      return [
        `trial ${event.trial} ${event.fromEpoch > 0 ? `resumed from epoch ${event.fromEpoch}` : 'started'}` +
          `${event.attempt > 1 && event.fromEpoch === 0 ? ' again' : ''}: ${pointText(event.point)}  (run ${event.runId})`,
      ];
    case 'trial-epoch':
      return [
        `trial ${event.trial}  epoch ${event.epoch}/${event.epochs}  val accuracy ${percent(event.valAccuracy)}  ${duration(event.seconds)}`,
      ];
    case 'trial-pruned':
      return [`trial ${event.trial} ${event.reason} (checkpoints up to epoch ${event.epoch} kept)`];
    case 'trial-finished':
      return [
        `trial ${event.trial} finished: ${plural(event.epochs, 'epoch')}` +
          (event.bestValAccuracy === null
            ? ''
            : `, best val accuracy ${percent(event.bestValAccuracy)}`),
      ];
    case 'trial-failed':
      return [`trial ${event.trial} failed: ${event.reason}`];
    case 'trial-interrupted':
      return [
        `trial ${event.trial} interrupted after epoch ${event.epoch}; \`sweep resume\` continues it`,
      ];
    case 'sweep-finished':
      return finishedLines(event);
  }
}

function startedLines(event: SweepEventOfType<'sweep-started'>): string[] {
  const budget = [
    event.budget.maxTrials === undefined ? null : plural(event.budget.maxTrials, 'trial'),
    event.budget.maxSeconds === undefined ? null : duration(event.budget.maxSeconds),
  ]
    .filter((b) => b !== null)
    .join(' or ');
  const parallel =
    event.parallelism === 'auto'
      ? `as many trials at once as ${plural(event.cores, 'core')} serve`
      : `${plural(event.parallelism, 'trial')} at once`;
  return [
    `${event.resumed ? 'Resuming' : 'Sweep'} ${event.sweepId} (${event.preset}, ${event.strategy}): ` +
      `up to ${budget}, ${parallel}.`,
    ...(event.resumed && event.trialsBefore > 0
      ? [`${plural(event.trialsBefore, 'trial')} proposed in earlier sessions.`]
      : []),
    ...event.rungs.map((r) => `early stopping ${r}`),
  ];
}

function finishedLines(event: SweepEventOfType<'sweep-finished'>): string[] {
  const t = event.trials;
  const counts = [
    [t.finished, 'finished'],
    [t.pruned, 'pruned'],
    [t.failed, 'failed'],
    [t.interrupted, 'interrupted'],
    [t.pending, 'pending'],
  ]
    .filter(([n]) => (n as number) > 0)
    .map(([n, what]) => `${n} ${what}`)
    .join(', ');
  const best = event.best
    ? [
        `Best: trial ${event.best.trial}, val accuracy ${percent(event.best.valAccuracy)} at epoch ${event.best.epoch}` +
          `${event.best.runId ? ` (run ${event.best.runId})` : ''}: ${pointText(event.best.point)}.`,
      ]
    : [];
  return [
    `Sweep ${event.sweepId} ${event.status} after ${duration(event.seconds)}: ${counts || 'no trials'}.`,
    ...best,
    ...(event.status === 'stopped'
      ? [`Resume it with: npm run cli -- sweep resume --sweep ${event.sweepId}`]
      : []),
  ];
}

/** The trials, best first, as an aligned table. */
export function trialsTable(rows: readonly TrialRow[]): string[] {
  if (rows.length === 0) return [];
  const sorted = [...rows].sort((a, b) => (b.best ?? -1) - (a.best ?? -1) || a.trial - b.trial);
  const cells = sorted.map((r) => [
    String(r.trial),
    r.status,
    `${r.epochs}/${r.totalEpochs}`,
    r.best === null ? '—' : percent(r.best),
    pointText(r.point),
  ]);
  const head = ['trial', 'status', 'epochs', 'best val acc', 'settings'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    c
      .map((cell, i) => (i === c.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), ...cells.map(line)];
}

export function sweepListLines(sweeps: readonly SweepSummary[], checkpointsDir: string): string[] {
  if (sweeps.length === 0) return [`No sweeps in ${checkpointsDir}.`];
  return sweeps.map((s) => {
    if (s.status === 'damaged') return `${s.sweepId}  ·  damaged: ${s.reason}`;
    const t = s.trials;
    const total = t.pending + t.running + t.interrupted + t.finished + t.pruned + t.failed;
    return [
      s.sweepId,
      `${s.preset}, ${s.strategy}`,
      s.status,
      `${plural(total, 'trial')} (${t.finished} finished, ${t.pruned} pruned, ${t.failed} failed)`,
      s.best
        ? `best val accuracy ${percent(s.best.valAccuracy)} (trial ${s.best.trial})`
        : 'no scores yet',
      duration(s.seconds),
    ].join('  ·  ');
  });
}

export function sweepDeletedLine(result: { sweepId: string; runsDeleted: string[] }): string {
  return result.runsDeleted.length > 0
    ? `Deleted sweep ${result.sweepId} and its ${plural(result.runsDeleted.length, 'run')}.`
    : `Deleted sweep ${result.sweepId} (its trial runs are kept; --runs deletes them too).`;
}
