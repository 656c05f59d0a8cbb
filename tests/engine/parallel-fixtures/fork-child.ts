import * as tf from '@tensorflow/tfjs';
import { resolveTrainConfig } from '../../../src-main/contract/config';
import { selectBackend } from '../../../src-main/engine/backend';
import { buildModel, compileModel } from '../../../src-main/engine/models';
import { DataParallel } from '../../../src-main/engine/parallel/data-parallel';

// Run by the tests with child_process.fork(…, { execArgv: ['--import', 'tsx'] }), as the app's
// engine worker runs: one data-parallel step on the default (TypeScript) thread entry.
await selectBackend('wasm');
const config = resolveTrainConfig({ model: 'mlp', hiddenUnits: 8, seed: 3 });
const model = buildModel(config);
compileModel(model, 0.01);
const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
const parallel = await DataParallel.start(model, variables, { threads: 2, backend: 'wasm' });
try {
  const n = 6;
  const xs = Float32Array.from({ length: n * 784 }, (_, i) => (i % 7) / 7);
  const ys = Int32Array.from({ length: n }, (_, i) => i % 10);
  const [loss, correct] = await parallel.step(xs, ys, { n, rows: 28, cols: 28 });
  process.send?.({
    loss: loss.dataSync()[0],
    correct: correct.dataSync()[0],
    threads: parallel.threads,
  });
  tf.dispose([loss, correct]);
} finally {
  await parallel.close();
}
