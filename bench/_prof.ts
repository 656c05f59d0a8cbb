import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerAccelKernels } from '../src-main/engine/accel/index';
import { buildModel, compileModel } from '../src-main/engine/models';
import { resolveTrainConfig } from '../src-main/contract/config';
await tf.setBackend('wasm');
registerAccelKernels();
const preset = (process.argv[2] ?? 'cnn-fast') as 'cnn-fast';
const cfg = resolveTrainConfig({ model: preset });
const model = buildModel(cfg); compileModel(model, 1e-3);
const xs = tf.randomUniform([128, 28, 28, 1]); const ys = tf.oneHot(tf.randomUniform([128], 0, 10, 'int32'), 10);
const step = () => tf.tidy(() => { (model.optimizer as tf.Optimizer).minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar); });
step(); step();
const totals = new Map<string, [number, number]>();
for (let r = 0; r < 3; r++) {
  const p = await tf.profile(step);
  for (const k of p.kernels) { const t = totals.get(k.name) ?? [0, 0]; t[0] += (k.kernelTimeMs as number) / 3; t[1] += 1 / 3; totals.set(k.name, t); }
}
const rows = [...totals].sort((a, b) => b[1][0] - a[1][0]);
let sum = 0; for (const [n, [ms, c]] of rows) { sum += ms; if (ms > 0.5) console.log(n.padEnd(24), c.toFixed(0).padStart(4), ms.toFixed(1)); }
console.log('sum', sum.toFixed(1));
const p = await tf.profile(step);
for (const k of p.kernels) if ((k.kernelTimeMs as number) > 0.3) console.log(k.name.padEnd(22), (k.kernelTimeMs as number).toFixed(2).padStart(7), JSON.stringify(k.inputShapes), '→', JSON.stringify(k.outputShapes));
