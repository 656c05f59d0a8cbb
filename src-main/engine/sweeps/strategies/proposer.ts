import type { Point } from '../space';

/** A trial the strategy can learn from: its point and how well it did. */
export interface Observation {
  /** Trial number, from 1 in the order trials were proposed. */
  trial: number;
  point: Point;
  /** Validation accuracy (higher is better). */
  score: number;
  /** Trained every epoch it was given; false when pruned (its score is from fewer epochs). */
  complete: boolean;
  /** Epochs the score was reached in, to rank pruned trials: further along ranks higher. */
  epochs: number;
}

/** A trial proposed and not yet scored (running, or about to start). */
export interface PendingTrial {
  trial: number;
  point: Point;
}

/**
 * What every strategy does: the point for trial number `trial` (from 1), given what is known so
 * far and the trials still running, or null when the strategy has nothing left to propose (a
 * grid walked to its end). The same trial number with the same history and pending trials
 * always gives the same point.
 */
export interface Proposer {
  propose(
    trial: number,
    history: readonly Observation[],
    pending?: readonly PendingTrial[],
  ): Point | null;
}
