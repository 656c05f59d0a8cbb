import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../../contract/config';
import type { BackendWasm } from '../accel/wasm-backend';
import { planDenseStack, type DenseStackPlan } from './dense-stack';
import { FusedDenseStep } from './dense-step';

export { planDenseStack, type DenseStackPlan } from './dense-stack';
export { FusedDenseStep, type StepResult } from './dense-step';

/** The plan when a model can train with the fused step on this backend, else why not. */
export function fusedPlan(model: tf.LayersModel, backend: BackendName): DenseStackPlan | string {
  if (backend !== 'wasm' || tf.getBackend() !== 'wasm')
    return 'the fused step needs the wasm backend';
  return planDenseStack(model);
}

/**
 * The fused step for this model, or null when it cannot run here (the caller then uses tfjs'
 * own gradients, which compute the same thing more slowly).
 */
export function createFusedStep(
  model: tf.LayersModel,
  plan: DenseStackPlan,
  maxBatch: number,
): FusedDenseStep | null {
  try {
    return new FusedDenseStep(plan, model.optimizer, tf.backend() as BackendWasm, maxBatch);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    console.warn(`training without the fused Dense step: ${reason}`);
    return null;
  }
}
