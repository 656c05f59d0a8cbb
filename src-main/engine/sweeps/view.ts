import { resolveTrainConfig } from '../../contract/config';
import { lastIntValue } from '../../contract/sweep';
import { MIN_IMPORTANCE_TRIALS, type SweepView, type TrialView } from '../../contract/sweep-view';
import { ashaSchedule } from './asha';
import { bestTrial } from './best';
import { hyperparameterImportance } from './importance';
import type { SweepJournal, Trial } from './journal';

/**
 * The Sweep panel's view of a journal. `now` times the running trials, so a view sent while a
 * sweep runs shows how long each has been at it.
 */
export function sweepView(journal: SweepJournal, now = new Date()): SweepView {
  const { spec } = journal;
  const trials = journal.trials.map((t) => trialView(t, now));
  const finished = trials.filter(
    (t): t is TrialView & { valAccuracy: number } =>
      t.status === 'finished' && t.valAccuracy !== null,
  );
  const maxEpochs = trialEpochs(journal);
  const stopping = spec.earlyStopping;
  const rungs =
    stopping.kind === 'asha'
      ? ashaSchedule(stopping, maxEpochs).rungs.map((r) => ({
          ...r,
          keep: 1 / stopping.reductionFactor,
        }))
      : [];
  // Pruned trials stopped at a rung: their scores are of fewer epochs and would rank settings
  // by how fast they start, not how well they end.
  const importance =
    finished.length >= MIN_IMPORTANCE_TRIALS
      ? hyperparameterImportance(
          spec.space,
          finished.map((t) => ({ point: t.point, score: t.valAccuracy })),
        )
      : null;
  return {
    id: journal.sweepId,
    spec,
    status: journal.status,
    createdAt: journal.createdAt,
    rungs,
    maxEpochs,
    trials,
    importance,
    bestTrial: bestTrial(journal)?.trial ?? null,
  };
}

export function trialView(t: Trial, now = new Date()): TrialView {
  const last = t.scores.at(-1);
  const best = t.scores.reduce<(typeof t.scores)[number] | null>(
    (b, s) => (b === null || s.valAccuracy > b.valAccuracy ? s : b),
    null,
  );
  const end = t.endedAt ?? (t.status === 'running' ? now.toISOString() : null);
  const seconds =
    t.startedAt && end ? Math.max(0, (Date.parse(end) - Date.parse(t.startedAt)) / 1000) : 0;
  return {
    trial: t.number,
    runId: t.runId,
    point: t.point,
    config: t.config,
    status: t.status,
    epochsDone: last?.epoch ?? 0,
    valAccuracy: best?.valAccuracy ?? null,
    bestEpoch: best?.epoch ?? null,
    seconds: Number.isFinite(seconds) ? seconds : 0,
    reason: t.reason,
  };
}

/** Epochs of a trial nothing prunes: the base's, or the most the space's epochs can be. */
function trialEpochs({ spec }: SweepJournal): number {
  const dim = spec.space.epochs;
  if (dim?.kind === 'int') return lastIntValue(dim);
  if (dim?.kind === 'choice') {
    const values = dim.values.filter((v): v is number => typeof v === 'number');
    if (values.length > 0) return Math.max(...values);
  }
  return resolveTrainConfig({ ...spec.base, model: spec.preset }).epochs;
}
