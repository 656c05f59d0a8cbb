import type { SweepSpec } from '../../../contract/sweep';
import { gridProposer } from './grid';
import type { Proposer } from './proposer';
import { randomProposer } from './random';
import { tpeProposer } from './tpe';

export type { Observation, PendingTrial, Proposer } from './proposer';

/** The spec's strategy, seeded by the spec's seed. */
export function createProposer(spec: SweepSpec): Proposer {
  switch (spec.strategy) {
    case 'grid':
      return gridProposer(spec.space, spec.gridPoints, spec.seed);
    case 'random':
      return randomProposer(spec.space, spec.seed);
    case 'tpe':
      return tpeProposer(spec.space, spec.seed, spec.tpe);
  }
}
