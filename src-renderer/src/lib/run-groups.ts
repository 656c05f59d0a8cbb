import type { RunInfo } from '$contract/messages';

/**
 * The Checkpoints list with a sweep's trial runs under one header: a sweep of twenty trials is
 * one line until it is opened, and plain runs stay where they were.
 */

export type RunListItem =
  | { kind: 'run'; run: RunInfo }
  | {
      kind: 'sweep';
      sweepId: string;
      /** Its runs in the list's order (a rerun trial has more than one). */
      runs: RunInfo[];
      /** Distinct trials among them. */
      trials: number;
      /** Best validation accuracy of any of its runs; null before one was validated. */
      bestValAccuracy: number | null;
    };

/**
 * Groups `runs` (already filtered and sorted) by sweep: a group takes the place of its first run
 * in that order, and keeps its runs in it.
 */
export function groupRuns(runs: readonly RunInfo[]): RunListItem[] {
  const items: RunListItem[] = [];
  const groups = new Map<string, Extract<RunListItem, { kind: 'sweep' }>>();
  for (const run of runs) {
    const sweepId = run.sweep?.id;
    if (sweepId === undefined) {
      items.push({ kind: 'run', run });
      continue;
    }
    let group = groups.get(sweepId);
    if (!group) {
      group = { kind: 'sweep', sweepId, runs: [], trials: 0, bestValAccuracy: null };
      groups.set(sweepId, group);
      items.push(group);
    }
    group.runs.push(run);
  }
  for (const group of groups.values()) {
    group.trials = new Set(group.runs.map((r) => r.sweep!.trial)).size;
    const scores = group.runs.flatMap((r) =>
      r.bestValAccuracy === null ? [] : [r.bestValAccuracy],
    );
    group.bestValAccuracy = scores.length ? Math.max(...scores) : null;
  }
  return items;
}
