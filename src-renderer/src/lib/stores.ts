import type { StudioApi } from '$contract/api';
import { CheckpointsState } from './checkpoints.svelte';
import { EvaluationState } from './evaluation-state.svelte';
import { SweepState } from './sweep.svelte';
import { TrainingState } from './training.svelte';

/** The page's state, one object per concern; panels receive the ones they show. */
export interface Stores {
  training: TrainingState;
  checkpoints: CheckpointsState;
  evaluation: EvaluationState;
  sweep: SweepState;
  /** Asks the host for what it knows now: on load, and after the connection comes back. */
  sync(): void;
}

/**
 * Creates the stores once for the page and feeds them every event. They outlive the panels'
 * visibility (panels stay mounted while hidden), so results survive tab switches.
 */
export function createStores(api: StudioApi): Stores {
  const training = new TrainingState(api);
  const checkpoints = new CheckpointsState(api);
  const evaluation = new EvaluationState(api);
  const sweep = new SweepState(api);
  api.onEvent((event) => {
    training.handle(event);
    checkpoints.handle(event);
    evaluation.handle(event);
    sweep.handle(event);
  });
  return {
    training,
    checkpoints,
    evaluation,
    sweep,
    sync: () => {
      void training.sync();
      void checkpoints.sync();
      void sweep.sync();
    },
  };
}
