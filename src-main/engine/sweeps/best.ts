import type { SweepBest } from '../../contract/sweep';
import type { SweepJournal, Trial } from './journal';

/**
 * The sweep's best trial, one definition for the runner's `sweep-finished`, `sweep list` and the
 * Sweep panel: the highest validation accuracy at any epoch of any trial that ended finished or
 * pruned (the earliest trial and epoch on a tie), and that epoch's checkpoint is the model to
 * restore.
 *
 * Pruned trials count: ASHA stops them after their epoch's checkpoint and the checkpoints stay,
 * so a pruned trial's best epoch is a model as real as a finished one's (a trial stopped at
 * epoch 3 can beat one that trained 10). Only ended trials count, because only theirs is a
 * score with a checkpoint for sure: a running trial's newest epoch is scored before its
 * checkpoint is written, and a failed one may have died writing it (or, on a queue, kept it
 * on its worker); an interrupted trial is still to be continued. A queued trial lands only its
 * best epoch's checkpoint, chosen the same way (queue/run-files.ts bestEpoch).
 */
export function bestTrial(journal: Pick<SweepJournal, 'trials'>): SweepBest | null {
  let best: SweepBest | null = null;
  for (const t of journal.trials) {
    if (!countsForBest(t)) continue;
    for (const s of t.scores)
      if (best === null || s.valAccuracy > best.valAccuracy)
        best = {
          trial: t.number,
          runId: t.runId,
          valAccuracy: s.valAccuracy,
          epoch: s.epoch,
          point: t.point,
        };
  }
  return best;
}

export function countsForBest(t: Pick<Trial, 'status'>): boolean {
  return t.status === 'finished' || t.status === 'pruned';
}
