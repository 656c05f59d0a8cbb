/**
 * Step time of data-parallel training on 1, 2, … threads, alternated in one run (this machine is
 * shared and noisy: compare the ranges, not single figures), with where a multi-thread step's
 * time goes and the serial fraction Amdahl's law takes from the 1 → 2 speedup.
 *
 *   node --no-liftoff --import tsx bench/threads.ts [--model cnn] [--batch 128] [--steps 20]
 *                                                   [--rounds 3] [--threads 1,2,2u]
 *   node --no-liftoff --import tsx bench/threads.ts --serial [--model cnn]
 *
 * 1 thread is the trainer's own step (variableGrads, then Adam's applyGradients, timed apart);
 * N threads are DataParallel.step (parallel/data-parallel.ts), as runTraining runs it, with the
 * reduction and Adam's update sharded over the threads; Nu is the unsharded path on N threads
 * (DataParallel.gradients + apply: tfjs adds the gradients and applies Adam on the leader).
 * --serial times only what one thread does after the gradients for N = 2 … 16 threads, on one
 * core: unsharded, the leader adds N gradient tensors and runs tfjs' Adam over every weight;
 * sharded, each thread runs reduceAndUpdate over N buffers and 1/N of the weights.
 */
import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { resolveTrainConfig, type ModelPreset } from '../src-main/contract/config';
import { selectBackend } from '../src-main/engine/backend';
import { loadDataset } from '../src-main/engine/data';
import { crossEntropySum } from '../src-main/engine/evaluate';
import { buildModel, compileModel } from '../src-main/engine/models';
import { DataParallel } from '../src-main/engine/parallel/data-parallel';
import { reduceAndUpdate, slices } from '../src-main/engine/parallel/shard-update';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'cnn' },
    batch: { type: 'string', default: '128' },
    steps: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '3' },
    threads: { type: 'string', default: '1,2,2u' },
    serial: { type: 'boolean', default: false },
  },
});
const model = values.model as ModelPreset;
const n = Number(values.batch);
const steps = Number(values.steps);
const rounds = Number(values.rounds);
const variants = values.threads.split(',');
const WARMUP = 3;

await selectBackend('wasm');

if (values.serial) {
  const config = resolveTrainConfig({ model, seed: 1 });
  const m = buildModel(config);
  compileModel(m, config.learningRate);
  const variables = m.trainableWeights.map((w) => w.read() as tf.Variable);
  const total = variables.reduce((a, v) => a + v.size, 0);
  const REPS = 50;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(
    `${model}: ${total} weights, median of ${REPS} repetitions, load ${os.loadavg()[0]!.toFixed(2)}`,
  );
  for (const threads of [2, 4, 8, 16]) {
    const grads = Array.from({ length: threads }, (_, t) =>
      variables.map((v) => tf.randomNormal(v.shape, 0, 1e-3, 'float32', t)),
    );
    const unsharded: number[] = [];
    for (let r = 0; r < REPS; r++) {
      const t0 = performance.now();
      const sum = tf.tidy(() => {
        const out: tf.NamedTensorMap = {};
        variables.forEach((v, i) => {
          let g = grads[0]![i]!;
          for (let t = 1; t < threads; t++) g = tf.add(g, grads[t]![i]!);
          out[v.name] = g;
        });
        return out;
      });
      m.optimizer.applyGradients(sum);
      variables[0]!.dataSync();
      unsharded.push(performance.now() - t0);
      tf.dispose(Object.values(sum).filter((g) => !grads[0]!.includes(g)));
    }
    const flat = Array.from({ length: threads }, () =>
      Float32Array.from({ length: total }, () => Math.random() * 1e-3),
    );
    const weights = new Float32Array(total);
    const mm = new Float32Array(total);
    const vv = new Float32Array(total);
    const slice = slices(total, threads)[0]!;
    const adam = {
      learningRate: 1e-3,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-7,
      accBeta1: 0.9,
      accBeta2: 0.999,
    };
    const sharded: number[] = [];
    for (let r = 0; r < REPS; r++) {
      const t0 = performance.now();
      reduceAndUpdate(flat, weights, mm, vv, [slice], adam);
      sharded.push(performance.now() - t0);
    }
    console.log(
      `${String(threads).padStart(2)} threads: unsharded (leader, all weights) ` +
        `${median(unsharded).toFixed(2)} ms, sharded (each thread, 1/${threads}) ${median(sharded).toFixed(3)} ms`,
    );
    tf.dispose(grads.flat());
  }
  process.exit(0);
}
const data = loadDataset(null).train;
const batches = Array.from({ length: steps + WARMUP }, (_, b) => {
  const at = (b * n) % (data.count - n);
  return {
    xs: data.images.slice(at * 784, (at + n) * 784),
    ys: Int32Array.from(data.labels.subarray(at, at + n)),
  };
});

interface Row {
  variant: string;
  threads: number;
  ms: number;
  /** Per step: the parts that run on one thread, whatever the thread count. */
  serialMs: number;
  parts: string;
}

async function time(variant: string): Promise<Row> {
  const threads = Number.parseInt(variant, 10);
  const unsharded = variant.endsWith('u');
  const config = resolveTrainConfig({ model, batchSize: n, seed: 1 });
  const m = buildModel(config);
  compileModel(m, config.learningRate);
  const variables = m.trainableWeights.map((w) => w.read() as tf.Variable);
  try {
    if (threads === 1) {
      let gradMs = 0;
      let adamMs = 0;
      let started = 0;
      for (const [b, { xs, ys }] of batches.entries()) {
        if (b === WARMUP) [gradMs, adamMs, started] = [0, 0, performance.now()];
        const t0 = performance.now();
        const { grads, value } = tf.tidy(() => {
          const x = tf.tensor4d(xs, [n, 28, 28, 1]);
          const y = tf.tensor1d(ys, 'int32');
          return tf.variableGrads(() => {
            const probs = m.apply(x, { training: true }) as tf.Tensor2D;
            return tf.div(crossEntropySum(probs, y), n) as tf.Scalar;
          }, variables);
        });
        value.dataSync();
        const t1 = performance.now();
        m.optimizer.applyGradients(grads);
        variables[0]!.dataSync();
        tf.dispose([value, ...Object.values(grads)]);
        gradMs += t1 - t0;
        adamMs += performance.now() - t1;
      }
      const ms = (performance.now() - started) / steps;
      return {
        variant,
        threads,
        ms,
        serialMs: adamMs / steps,
        parts: `gradients ${(gradMs / steps).toFixed(1)}, Adam ${(adamMs / steps).toFixed(2)}`,
      };
    }
    const parallel = await DataParallel.start(m, variables, { threads, backend: 'wasm' });
    try {
      let started = 0;
      for (const [b, { xs, ys }] of batches.entries()) {
        if (b === WARMUP) {
          Object.assign(parallel.stats, {
            sendMs: 0,
            leaderMs: 0,
            waitMs: 0,
            applyMs: 0,
            followerMs: 0,
          });
          started = performance.now();
        }
        const shape = { n, rows: 28, cols: 28 };
        if (unsharded) {
          const { grads, lossSum, correct } = await parallel.gradients(xs, ys, shape);
          parallel.apply(grads);
          tf.dispose([lossSum, correct]);
        } else tf.dispose(await parallel.step(xs, ys, shape));
      }
      const ms = (performance.now() - started) / steps;
      const s = parallel.stats;
      const per = (x: number) => (x / steps).toFixed(2);
      return {
        variant,
        threads,
        ms,
        serialMs: (s.sendMs + s.applyMs) / steps,
        parts:
          `send ${per(s.sendMs)}, leader's share ${per(s.leaderMs)}, ` +
          `followers' shares ${per(s.followerMs / Math.max(1, threads - 1))}, ` +
          `wait ${per(s.waitMs)}, reduce + Adam ${per(s.applyMs)}`,
      };
    } finally {
      await parallel.close();
    }
  } finally {
    m.optimizer.dispose();
    m.dispose();
  }
}

console.log(
  `${model}, batch ${n}, ${steps} steps (+${WARMUP} warm-up) × ${rounds} rounds, ` +
    `threads ${variants.join(' ↔ ')} alternated; ${os.availableParallelism()} cores, ` +
    `load ${os.loadavg()[0]!.toFixed(2)}`,
);
const rows: Row[] = [];
for (let r = 0; r < rounds; r++) {
  for (const variant of r % 2 === 0 ? variants : [...variants].reverse()) {
    const row = await time(variant);
    rows.push(row);
    console.log(
      `round ${r + 1}  ${variant.padEnd(3)}: ${row.ms.toFixed(1)} ms/step ` +
        `(serial ${row.serialMs.toFixed(2)} ms: ${row.parts})`,
    );
  }
}
const range = (xs: number[]) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`;
const one = rows.filter((r) => r.variant === '1').map((r) => r.ms);
for (const variant of variants.filter((v) => v !== '1')) {
  const threads = Number.parseInt(variant, 10);
  const many = rows.filter((r) => r.variant === variant).map((r) => r.ms);
  // Per round, the speedup over that round's 1-thread time (same load, minutes apart).
  const speedups = many.map((ms, i) => one[i]! / ms);
  const best = Math.max(...speedups);
  // Amdahl: S(N) = 1 / (s + (1 − s) / N), so s = (N / S − 1) / (N − 1).
  const s = (threads / best - 1) / (threads - 1);
  const model4 = [4, 8, 16].map((c) => `${c}: ${(1 / (s + (1 - s) / c)).toFixed(2)}x`);
  console.log(
    `1 → ${variant}: ${range(one)} → ${range(many)} ms/step, speedup ` +
      `${Math.min(...speedups).toFixed(2)}–${best.toFixed(2)}x; serial fraction from the best ` +
      `round ${(s * 100).toFixed(1)} %; Amdahl ${model4.join(', ')}`,
  );
}
// The serial parts timed directly (the leader's send + reduce/update/apply): their share of a
// 1-thread step, and what Amdahl makes of it.
for (const variant of variants.filter((v) => v !== '1')) {
  const serial = rows.filter((r) => r.variant === variant).map((r) => r.serialMs);
  const direct = Math.max(...serial) / Math.min(...one);
  const model = [2, 4, 8, 16].map((c) => `${c}: ${(1 / (direct + (1 - direct) / c)).toFixed(2)}x`);
  console.log(
    `${variant} serial parts timed: ${range(serial)} ms/step = ≤ ${(direct * 100).toFixed(1)} % ` +
      `of the fastest 1-thread step; Amdahl ${model.join(', ')}`,
  );
}
