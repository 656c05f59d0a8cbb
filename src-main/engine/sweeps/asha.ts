import type { AshaSettings } from '../../contract/sweep';

/**
 * Asynchronous successive halving (Li et al. 2018, "A System for Massively Parallel
 * Hyperparameter Tuning"; Ray Tune's ASHAScheduler): rungs sit at minEpochs·η^k epochs. When a
 * trial reaches a rung, its validation accuracy is compared with every result recorded at that
 * rung so far; it goes on only if it is among the top 1/η of them. No trial waits for others,
 * which is what lets parallel trials run without synchronising — the early ones at a rung are
 * judged against few results, so ASHA prunes conservatively at first.
 */

export interface Rung {
  /** 1-based, as shown to the user ("rung 1"). */
  rung: number;
  /** The epoch whose validation accuracy is judged. */
  epoch: number;
}

export interface AshaSchedule {
  rungs: Rung[];
  reductionFactor: number;
  maxEpochs: number;
}

/** One epoch's validation accuracy of one trial. */
export interface EpochScore {
  trial: number;
  epoch: number;
  score: number;
}

export type AshaDecision =
  | { action: 'continue'; rung: Rung | null; cut: number | null }
  | { action: 'prune'; rung: Rung; cut: number; reason: string };

/**
 * Rungs at minEpochs·η^k strictly below maxEpochs: a trial at maxEpochs is finished, so a rung
 * there could only stop what has already stopped (Ray Tune places its milestones the same way).
 */
export function ashaSchedule(settings: AshaSettings, maxEpochs: number): AshaSchedule {
  const rungs: Rung[] = [];
  for (let epoch = settings.minEpochs; epoch < maxEpochs; epoch *= settings.reductionFactor)
    rungs.push({ rung: rungs.length + 1, epoch });
  return { rungs, reductionFactor: settings.reductionFactor, maxEpochs };
}

/** One line per rung, for the Sweep panel and the CLI. */
export function describeSchedule(schedule: AshaSchedule): string[] {
  const eta = schedule.reductionFactor;
  return [
    ...schedule.rungs.map((r) => `rung ${r.rung}: epoch ${r.epoch}, top 1/${eta} go on`),
    `full: epoch ${schedule.maxEpochs}`,
  ];
}

/**
 * Whether `current` goes on. `recorded` holds the epoch scores known so far, of any trials and
 * epochs (the sweep's journal); at the current rung, each other trial counts once with its score
 * there, and the current trial counts with the score given — so a trial rerun after a crash is
 * judged again, never recorded twice. With n results at the rung, the top max(1, ⌊n/η⌋) go on
 * (ties with the cut go on too).
 */
export function ashaDecide(
  schedule: AshaSchedule,
  recorded: readonly EpochScore[],
  current: EpochScore,
): AshaDecision {
  const rung = schedule.rungs.find((r) => r.epoch === current.epoch) ?? null;
  if (!rung) return { action: 'continue', rung: null, cut: null };
  const atRung = new Map<number, number>();
  for (const r of recorded)
    if (r.epoch === rung.epoch && r.trial !== current.trial) atRung.set(r.trial, r.score);
  atRung.set(current.trial, current.score);
  const scores = [...atRung.values()].sort((a, b) => b - a);
  const eta = schedule.reductionFactor;
  const keep = Math.max(1, Math.floor(scores.length / eta));
  const cut = scores[keep - 1]!;
  if (current.score >= cut) return { action: 'continue', rung, cut };
  const [score, cutText] = distinct(current.score, cut);
  return {
    action: 'prune',
    rung,
    cut,
    reason:
      `val accuracy ${score} at epoch ${rung.epoch} below rung-${rung.rung} cut ${cutText} ` +
      `(top 1/${eta} of ${scores.length})`,
  };
}

/** Both numbers with three decimals, or as many more as it takes to tell them apart. */
function distinct(a: number, b: number): [string, string] {
  for (let digits = 3; digits < 10; digits++) {
    const pair: [string, string] = [a.toFixed(digits), b.toFixed(digits)];
    if (pair[0] !== pair[1]) return pair;
  }
  return [String(a), String(b)];
}
