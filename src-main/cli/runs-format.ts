import type { ResultOf, RunInfo } from '../contract/messages';
import { percent, plural } from './terminal-line';

/** What `list` and `delete` print in a terminal. */

/** "2026-11-30 01:58 UTC": to the minute, which tells a day's runs apart. */
const when = (iso: string | null) => (iso ? `${iso.slice(0, 16).replace('T', ' ')} UTC` : null);

function size(bytes: number): string {
  if (bytes >= 1_000_000) return `${(bytes / 1_000_000).toFixed(1)} MB`;
  return bytes >= 1000 ? `${Math.round(bytes / 1000)} kB` : `${bytes} B`;
}

/** A line per run, its checkpoints indented below it; newest first, as the worker lists them. */
export function runsLines(runs: readonly RunInfo[], checkpointsDir: string): string[] {
  if (runs.length === 0) return [`No runs in ${checkpointsDir}.`];
  return runs.flatMap((run) => {
    const status = run.reason ? `${run.status} (${run.reason})` : run.status;
    const best = run.evaluations.reduce<RunInfo['evaluations'][number] | null>(
      (b, e) => (b === null || e.accuracy > b.accuracy ? e : b),
      null,
    );
    const head = [
      run.runId,
      run.name === null ? null : `"${run.name}"`,
      run.model ?? 'unknown model',
      when(run.createdAt),
      status,
      plural(run.epochsDone, 'epoch'),
      run.bestValAccuracy === null ? null : `best val accuracy ${percent(run.bestValAccuracy)}`,
      best === null ? null : `test accuracy ${percent(best.accuracy)} (epoch ${best.epoch})`,
      run.branchedFrom
        ? `branched from ${run.branchedFrom.runId} at epoch ${run.branchedFrom.epoch}`
        : null,
    ];
    const checkpoints = run.checkpoints.map((c) => {
      const figures =
        c.status === 'damaged'
          ? `damaged: ${c.reason ?? 'unreadable'}`
          : c.metrics?.valAccuracy != null
            ? `val accuracy ${percent(c.metrics.valAccuracy)}`
            : c.metrics
              ? `accuracy ${percent(c.metrics.accuracy)}`
              : 'ok';
      return `  epoch ${c.epoch}  ${figures}  ${size(c.bytes)}`;
    });
    return [head.filter((part) => part !== null).join('  ·  '), ...checkpoints];
  });
}

export function deletedLine(result: ResultOf<'deleteRun'>): string {
  return result.epoch === null
    ? `Deleted run ${result.runId}.`
    : `Deleted the checkpoint of epoch ${result.epoch} of run ${result.runId}.`;
}

export function renamedLine(result: ResultOf<'renameRun'>): string {
  return result.name === null
    ? `Run ${result.runId} has no name now.`
    : `Run ${result.runId} is now named "${result.name}".`;
}
