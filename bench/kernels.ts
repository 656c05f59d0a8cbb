/**
 * Times the wasm training kernels on the Keras mnist_convnet at batch 128:
 *   1. each replaced kernel at the model's real shapes, built-in vs ours, in one run;
 *   2. one full training step (forward + backward + Adam), with a per-kernel breakdown.
 *
 *   npx tsx bench/kernels.ts [--reps N] [--cpu]
 *
 * --cpu also times the missing Conv2DBackpropFilter on the pure-JS cpu
 * backend (the only fallback upstream offers); that alone takes about a minute.
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  registerWasmTrainingKernels,
  unregisterWasmTrainingKernels,
} from '../src-main/engine/wasm-kernels/index';

const BATCH = 128;
const repsArg = process.argv.indexOf('--reps');
const REPS = repsArg > 0 ? Number(process.argv[repsArg + 1]) : 10;
const WITH_CPU = process.argv.includes('--cpu');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function fmt(ms: number | undefined): string {
  return ms === undefined ? 'n/a' : ms.toFixed(1);
}

function buildModel(): tf.Sequential {
  const model = tf.sequential();
  model.add(
    tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu' }),
  );
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dropout({ rate: 0.5 }));
  model.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
  return model;
}

/** Wall time of one kernel call on backend-level buffers, median over reps. */
function timeKernel(
  config: tf.KernelConfig,
  backend: BackendWasm,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap,
  reps: number,
): number {
  const once = (): number => {
    const t0 = performance.now();
    const out = config.kernelFunc({ inputs, backend, attrs });
    const dt = performance.now() - t0;
    for (const o of Array.isArray(out) ? out : [out]) backend.disposeData(o.dataId);
    return dt;
  };
  once();
  return median(Array.from({ length: reps }, once));
}

interface KernelCase {
  label: string;
  kernel: string;
  inputs: () => Record<string, tf.Tensor>;
  attrs: tf.NamedAttrMap;
}

const kernelCases: KernelCase[] = [
  {
    label: 'conv1 dW  x[128,28,28,1] dy[128,26,26,32]',
    kernel: 'Conv2DBackpropFilter',
    inputs: () => ({
      x: tf.randomNormal([BATCH, 28, 28, 1]),
      dy: tf.randomNormal([BATCH, 26, 26, 32]),
    }),
    attrs: { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [3, 3, 1, 32] },
  },
  {
    label: 'conv2 dW  x[128,13,13,32] dy[128,11,11,64]',
    kernel: 'Conv2DBackpropFilter',
    inputs: () => ({
      x: tf.randomNormal([BATCH, 13, 13, 32]),
      dy: tf.randomNormal([BATCH, 11, 11, 64]),
    }),
    attrs: { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [3, 3, 32, 64] },
  },
  {
    label: 'conv2 dx  dy[128,11,11,64] W[3,3,32,64]',
    kernel: 'Conv2DBackpropInput',
    inputs: () => ({
      dy: tf.randomNormal([BATCH, 11, 11, 64]),
      filter: tf.randomNormal([3, 3, 32, 64]),
    }),
    attrs: { strides: 1, pad: 'valid', dataFormat: 'NHWC', inputShape: [BATCH, 13, 13, 32] },
  },
  {
    label: 'pool1 dx  x[128,26,26,32]',
    kernel: 'MaxPoolGrad',
    inputs: () => {
      const input = tf.relu(tf.randomNormal([BATCH, 26, 26, 32]));
      const output = tf.maxPool(input as tf.Tensor4D, 2, 2, 'valid');
      return { input, output, dy: tf.randomNormal(output.shape) };
    },
    attrs: { filterSize: 2, strides: 2, pad: 'valid' },
  },
  {
    label: 'pool2 dx  x[128,11,11,64]',
    kernel: 'MaxPoolGrad',
    inputs: () => {
      const input = tf.relu(tf.randomNormal([BATCH, 11, 11, 64]));
      const output = tf.maxPool(input as tf.Tensor4D, 2, 2, 'valid');
      return { input, output, dy: tf.randomNormal(output.shape) };
    },
    attrs: { filterSize: 2, strides: 2, pad: 'valid' },
  },
];

async function cpuReference(c: KernelCase): Promise<number> {
  // The wasm backend has no built-in Conv2DBackpropFilter, so the only
  // "before" that exists is falling back to the pure-JS cpu backend.
  const inputs = tf.tidy(c.inputs);
  const data = await Promise.all(
    Object.entries(inputs).map(async ([k, t]) => [k, await t.data(), t.shape] as const),
  );
  tf.dispose(Object.values(inputs));
  await tf.setBackend('cpu');
  const cpuInputs = Object.fromEntries(data.map(([k, d, s]) => [k, tf.tensor(d, s)]));
  const t0 = performance.now();
  const out = tf.engine().runKernel(c.kernel, cpuInputs, c.attrs) as tf.Tensor;
  const dt = performance.now() - t0;
  tf.dispose([out, ...Object.values(cpuInputs)]);
  await tf.setBackend('wasm');
  return dt;
}

async function benchKernels(): Promise<void> {
  const backend = tf.backend() as BackendWasm;
  const builtin = new Map<string, tf.KernelConfig | undefined>();
  unregisterWasmTrainingKernels();
  for (const name of ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPoolGrad']) {
    builtin.set(name, tf.getKernel(name, 'wasm'));
  }
  registerWasmTrainingKernels();

  console.log(`\nPer-kernel, mnist_convnet shapes, batch ${BATCH} (median ms of ${REPS}):`);
  console.log(
    '| call                                        | kernel               | built-in wasm      | ours  | speed-up   |',
  );
  console.log(
    '|---------------------------------------------|----------------------|--------------------|-------|------------|',
  );
  for (const c of kernelCases) {
    const inputs = tf.tidy(c.inputs);
    const ours = tf.getKernel(c.kernel, 'wasm')!;
    const oursMs = timeKernel(ours, backend, inputs, c.attrs, REPS);
    const before = builtin.get(c.kernel);
    let beforeCell: string;
    let speedup: string;
    if (before !== undefined) {
      const beforeMs = timeKernel(
        before,
        backend,
        inputs,
        c.attrs,
        Math.max(3, Math.ceil(REPS / 3)),
      );
      beforeCell = fmt(beforeMs);
      speedup = `${(beforeMs / oursMs).toFixed(1)}x`;
    } else if (WITH_CPU) {
      const cpuMs = await cpuReference(c);
      beforeCell = `missing; cpu ${cpuMs.toFixed(0)}`;
      speedup = `${(cpuMs / oursMs).toFixed(0)}x vs cpu`;
    } else {
      beforeCell = 'missing';
      speedup = '-';
    }
    tf.dispose(Object.values(inputs));
    console.log(
      `| ${c.label.padEnd(43)} | ${c.kernel.padEnd(20)} | ${beforeCell.padStart(18)} | ${fmt(oursMs).padStart(5)} | ${speedup.padStart(10)} |`,
    );
  }
}

type KernelTotals = Map<string, { ms: number; calls: number }>;

interface StepResult {
  stepMs: number;
  byKernel: KernelTotals;
}

interface Variant {
  /** Puts this variant's kernels into the registry. */
  install: () => void;
  times: number[];
  profiles: KernelTotals[];
}

function summarize(v: Variant): StepResult {
  const byKernel: KernelTotals = new Map();
  for (const name of v.profiles[0]!.keys()) {
    byKernel.set(name, {
      ms: median(v.profiles.map((t) => t.get(name)?.ms ?? 0)),
      calls: v.profiles[0]!.get(name)!.calls,
    });
  }
  return { stepMs: median(v.times), byKernel };
}

/**
 * Times the same model and optimizer under each kernel variant, alternating
 * variants step by step so that load from other processes hits both alike.
 */
async function benchSteps(variants: Variant[]): Promise<StepResult[]> {
  const model = buildModel();
  const optimizer = tf.train.adam(1e-3);
  const xs = tf.randomUniform([BATCH, 28, 28, 1]);
  const ys = tf.oneHot(tf.randomUniform([BATCH], 0, 10, 'int32') as tf.Tensor1D, 10);
  const step = (): void => {
    tf.tidy(() => {
      const loss = optimizer.minimize(() => {
        const pred = model.apply(xs, { training: true }) as tf.Tensor;
        return tf.losses.softmaxCrossEntropy(ys, pred).mean() as tf.Scalar;
      }, true);
      loss?.dataSync();
    });
  };
  for (const v of variants) {
    v.install();
    step();
    step();
  }
  for (let i = 0; i < REPS; i++) {
    for (const v of variants) {
      v.install();
      const t0 = performance.now();
      step();
      v.times.push(performance.now() - t0);
    }
  }
  // Per-kernel times come from tf.profile; each kernel's median over several
  // profiled steps, again alternating.
  for (let i = 0; i < 5; i++) {
    for (const v of variants) {
      v.install();
      const profile = await tf.profile(step);
      const totals: KernelTotals = new Map();
      for (const k of profile.kernels) {
        const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
        const e = totals.get(k.name) ?? { ms: 0, calls: 0 };
        e.ms += ms;
        e.calls += 1;
        totals.set(k.name, e);
      }
      v.profiles.push(totals);
    }
  }
  tf.dispose([xs, ys]);
  optimizer.dispose();
  model.dispose();
  return variants.map(summarize);
}

async function main(): Promise<void> {
  await tf.setBackend('wasm');
  console.log(`tfjs ${tf.version.tfjs}, backend ${tf.getBackend()}, batch ${BATCH}`);
  // Other processes skew wall-clock numbers; record how busy the machine was.
  const load = (): string => loadavg()[0]!.toFixed(2);
  console.log(`load average at start: ${load()}`);

  await benchKernels();

  // "Before" on a pure-wasm step is impossible (no Conv2DBackpropFilter), so
  // the baseline keeps our filter kernel and restores the built-in
  // Conv2DBackpropInput and MaxPoolGrad.
  registerWasmTrainingKernels();
  const ourFilter = tf.getKernel('Conv2DBackpropFilter', 'wasm')!;
  const [before, after] = (await benchSteps([
    {
      install: () => {
        unregisterWasmTrainingKernels();
        tf.registerKernel(ourFilter);
      },
      times: [],
      profiles: [],
    },
    {
      install: () => {
        if (tf.getKernel('Conv2DBackpropFilter', 'wasm') === ourFilter) {
          tf.unregisterKernel('Conv2DBackpropFilter', 'wasm');
        }
        registerWasmTrainingKernels();
      },
      times: [],
      profiles: [],
    },
  ])) as [StepResult, StepResult];
  registerWasmTrainingKernels();

  console.log(
    `\nFull training step (forward + backward + Adam), median ms of ${REPS}, variants interleaved:`,
  );
  console.log(
    `  built-in Conv2DBackpropInput/MaxPoolGrad + our filter kernel: ${fmt(before.stepMs)} ms`,
  );
  console.log(
    `  all three of our kernels:                                    ${fmt(after.stepMs)} ms`,
  );

  console.log('\nPer-kernel time inside one step (tf.profile, median of 5 steps), ms:');
  console.log('| kernel                 | calls | built-in* | ours  |');
  console.log('|------------------------|-------|-----------|-------|');
  const names = [...after.byKernel.keys()].sort(
    (a, b) => (after.byKernel.get(b)?.ms ?? 0) - (after.byKernel.get(a)?.ms ?? 0),
  );
  let rest = { before: 0, after: 0 };
  for (const name of names) {
    const a = after.byKernel.get(name)!;
    const b = before.byKernel.get(name);
    if (a.ms < 1 && (b?.ms ?? 0) < 1) {
      rest = { before: rest.before + (b?.ms ?? 0), after: rest.after + a.ms };
      continue;
    }
    console.log(
      `| ${name.padEnd(22)} | ${String(a.calls).padStart(5)} | ${fmt(b?.ms).padStart(9)} | ${fmt(a.ms).padStart(5)} |`,
    );
  }
  console.log(
    `| ${'(all others)'.padEnd(22)} |       | ${fmt(rest.before).padStart(9)} | ${fmt(rest.after).padStart(5)} |`,
  );
  console.log(
    '* built-in Conv2DBackpropInput and MaxPoolGrad; Conv2DBackpropFilter is always ours.',
  );
}

await main();
