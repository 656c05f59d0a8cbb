import os from 'node:os';
import type { BackendName, ModelPreset, TrainConfig } from '../../contract/config';

/**
 * How many threads a run trains on: config.threads, or when that is null (auto) 2 where the
 * second thread was measured to pay off, else 1.
 *
 * Native TensorFlow already uses every core inside each op: always 1 there. On wasm (and the
 * JavaScript cpu backend) one TensorFlow.js instance runs on one thread; a second one computing
 * half of each batch wins once a step's work outweighs what data parallelism adds per step:
 * handing the weights and the share over, adding the gradients, and the optimizer update, which
 * stays on one thread (~1 ms for the MLP's 102k weights on wasm, ~30 ms on cpu).
 *
 * Measured on 2 cores (ms per step, 1 thread → 2 threads; runs alternated, others idle):
 *   wasm  mlp         b32    4.7 →   4.8  (0.92–1.01x)   cpu  mlp  b32    47 →   43  (1.06–1.11x)
 *         mlp         b64    8.3 →   7.1  (1.17–1.26x)        mlp  b128   98 →   72  (1.36x)
 *         mlp         b128  13.0 →   9.8  (1.29–1.35x)        cnn  b32 10230 → 5460 (1.65–1.98x)
 *         mlp         b256  26.4 →  17.4  (1.48–1.51x)
 *         cnn         b16   17.0 →  12.3  (1.38–1.49x)
 *         cnn         b32   34.3 →  23.1  (1.48x)
 *         cnn         b64   74   →  43    (1.63–1.84x)
 *         cnn         b128 136   →  88    (1.46–1.93x)
 *         cnn-strong  b128 1002  → 548    (1.79–2.10x)
 * Smaller batches were not measured and stay on one thread. The wasm mlp rows were measured
 * with tfjs ops; a Dense stack on wasm now trains with the fused step (fused/dense-step.ts,
 * ~0.7 ms a step at batch 32), which the trainer runs on one thread when threads are auto.
 */
export function resolveThreads(
  config: Pick<TrainConfig, 'threads' | 'model' | 'batchSize'>,
  backend: BackendName,
  cores: number = os.availableParallelism(),
): number {
  // The gradient threads run tfjs on wasm/cpu; a GPU backend already spreads each op itself.
  if (backend === 'tensorflow' || backend === 'tensorflow-gpu' || backend === 'webgpu') return 1;
  if (config.threads !== null && config.threads !== undefined) return config.threads;
  if (cores < 2) return 1;
  return config.batchSize >= MIN_BATCH_FOR_TWO_THREADS[backend][config.model] ? 2 : 1;
}

const MIN_BATCH_FOR_TWO_THREADS: Record<'wasm' | 'cpu', Record<ModelPreset, number>> = {
  wasm: { mlp: 64, cnn: 16, 'cnn-strong': 16 },
  cpu: { mlp: 32, cnn: 16, 'cnn-strong': 16 },
};
