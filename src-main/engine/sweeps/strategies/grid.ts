import { gridSize, type SearchSpace } from '../../../contract/sweep';
import { shuffledIndices } from '../../random';
import { gridPoint, trialRandom } from '../space';
import type { Proposer } from './proposer';

/** Keeps the grid's shuffle apart from the random stream trial 0 of another strategy uses. */
const GRID_ORDER_STREAM = 1;

/**
 * Every point of the grid once, in a seeded shuffled order (as Optuna's GridSampler does): a
 * budget smaller than the grid then still spreads over the whole space instead of sweeping
 * only the first values of the slowest-varying parameter.
 */
export function gridProposer(space: SearchSpace, gridPoints: number, seed: number): Proposer {
  const size = gridSize(space, gridPoints);
  let order: Uint32Array | null = null;
  return {
    propose(trial) {
      if (trial < 1 || trial > size) return null;
      order ??= shuffledIndices(size, trialRandom(seed, 0, GRID_ORDER_STREAM));
      return gridPoint(space, order[trial - 1]!, gridPoints);
    },
  };
}
