import type { SearchSpace } from '../../../contract/sweep';
import { samplePoint, trialRandom } from '../space';
import type { Proposer } from './proposer';

/** Independent uniform draws (log-uniform on log ranges), one seeded stream per trial. */
export function randomProposer(space: SearchSpace, seed: number): Proposer {
  return { propose: (trial) => samplePoint(space, trialRandom(seed, trial)) };
}
