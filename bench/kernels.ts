/**
 * Times the wasm training kernels:
 *   1. each replaced kernel at the models' real shapes, built-in vs ours, in one run;
 *   2. one full training step (forward + backward + Adam, as the trainer runs it) of each model
 *      preset at its preset batch size, with the kernels as they were before the BatchMatMul,
 *      _FusedMatMul, Mean, Tile, Identity and Cast overrides and the Conv2DBackpropFilter
 *      changes (single-channel strategy, batch chunks), and without our SIMD kernels (accel/native/simd:
 *      MaxPoolGrad, the filter gradient's direct sum and gather, the Winograd Conv2D) ("before")
 *      and with all of ours
 *      ("after"), steps interleaved, plus a per-kernel breakdown.
 *
 *   node --no-liftoff --import tsx bench/kernels.ts [--reps N] [--cpu] [--models mlp,cnn,cnn-strong]
 *   node --no-liftoff --import tsx bench/kernels.ts --winograd [--reps N]
 *   node --no-liftoff --import tsx bench/kernels.ts --gemm [--reps N]
 *   node --no-liftoff --import tsx bench/kernels.ts --no-gemm-before [--reps N] [--models ...]
 *   node --no-liftoff --import tsx bench/kernels.ts --no-winograd4-before [--reps N] [--models ...]
 *   node --no-liftoff --import tsx bench/kernels.ts --no-conv-pool-before [--reps N] [--models ...]
 *   node --no-liftoff --import tsx bench/kernels.ts --no-dense-gemm-before [--reps N] [--models ...]
 *
 * --winograd only times the Winograd Conv2D (accel/kernels/Conv2D.ts) against the built-in
 * XNNPACK Conv2D on the cnn's 3×3 convolutions, calls interleaved, and a cnn training step with
 * each.
 *
 * --gemm times each convolution pass (Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter) at the
 * models' shapes with the paths from before our GEMM (convGemm 'never'), with im2col + GEMM in
 * the relaxed build and in the SIMD128 build, and as the kernels choose ('auto'), calls
 * interleaved.
 *
 * --no-gemm-before skips the per-kernel table and makes the steps' "before" all of our kernels
 * with AccelTuning.convGemm 'never' (the convolutions as they ran before our GEMM);
 * --no-winograd4-before likewise with AccelTuning.winograd4 'never' (before F(4×4, 3×3)), and
 * --no-conv-pool-before with AccelTuning.convPool false (before the fused Conv2D+ReLU+max pool),
 * --no-dense-gemm-before with AccelTuning.denseGemm false (the Dense layers' products on XNNPACK).
 *
 * --cpu also times the missing Conv2DBackpropFilter on the pure-JS cpu
 * backend (the only fallback upstream offers); that alone takes about a minute.
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { MODEL_PRESETS, type ModelPreset, PRESET_DEFAULTS } from '../src-main/contract/config';
import { crossEntropySum } from '../src-main/engine/evaluate';
import { buildModel as buildPreset, compileModel } from '../src-main/engine/models';
import {
  accelTuning,
  DEFAULT_TUNING,
  registerAccelKernels,
  unregisterAccelKernels,
} from '../src-main/engine/accel/index';
import { conv2DConfig } from '../src-main/engine/accel/kernels/Conv2D';
import { conv2DBackpropFilterConfig } from '../src-main/engine/accel/kernels/Conv2DBackpropFilter';
import { conv2DBackpropInputConfig } from '../src-main/engine/accel/kernels/Conv2DBackpropInput';
import type { AccelTuning, FilterGeometry, FilterStrategy } from '../src-main/engine/accel/tuning';

const BATCH = 128;
const repsArg = process.argv.indexOf('--reps');
const REPS = repsArg > 0 ? Number(process.argv[repsArg + 1]) : 10;
const WITH_CPU = process.argv.includes('--cpu');
/** The steps' "before" as all of our kernels with one of them off (see the top), by flag. */
const ONE_OFF: Record<string, [label: string, tuning: Partial<AccelTuning>]> = {
  '--no-gemm-before': ["convGemm 'never'", { convGemm: 'never' }],
  '--no-winograd4-before': ["winograd4 'never'", { winograd4: 'never' }],
  '--no-conv-pool-before': ['convPool false', { convPool: false }],
  '--no-dense-gemm-before': ['denseGemm false', { denseGemm: false }],
};
const oneOffFlag = Object.keys(ONE_OFF).find((flag) => process.argv.includes(flag));
const NO_GEMM_BEFORE = oneOffFlag !== undefined;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Two decimals below 10 ms: the dense-layer kernels take fractions of a millisecond. */
function fmt2(ms: number): string {
  return ms < 10 ? ms.toFixed(2) : ms.toFixed(1);
}

/**
 * Wall time of one kernel call on backend-level buffers, median over reps. Each call gets fresh
 * copies of the inputs (not timed), as in training: XNNPACK caches packed weights per buffer,
 * which would flatter any kernel that passes an input straight to a matmul or convolution.
 */
function timeKernel(
  config: tf.KernelConfig,
  backend: BackendWasm,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap,
  reps: number,
): number {
  const copy = (t: tf.TensorInfo): tf.TensorInfo => {
    const c = backend.makeOutput(t.shape, t.dtype);
    (backend.typedArrayFromHeap(c) as Float32Array).set(backend.typedArrayFromHeap(t));
    return c;
  };
  const once = (): number => {
    const fresh = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, copy(t!)]));
    const t0 = performance.now();
    const out = config.kernelFunc({ inputs: fresh, backend, attrs });
    const dt = performance.now() - t0;
    for (const o of Array.isArray(out) ? out : [out]) backend.disposeData(o.dataId);
    for (const t of Object.values(fresh)) backend.disposeData(t.dataId);
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
    label: 'strong conv2 dW x[128,26,26,32] 3x3→32',
    kernel: 'Conv2DBackpropFilter',
    inputs: () => ({
      x: tf.randomNormal([BATCH, 26, 26, 32]),
      dy: tf.randomNormal([BATCH, 24, 24, 32]),
    }),
    attrs: { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [3, 3, 32, 32] },
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
  {
    label: 'mlp dense1 dW  x[32,784]ᵀ·dy[32,128]',
    kernel: 'BatchMatMul',
    inputs: () => ({ a: tf.randomNormal([1, 32, 784]), b: tf.randomNormal([1, 32, 128]) }),
    attrs: { transposeA: true, transposeB: false },
  },
  {
    label: 'mlp dense2 dx  dy[32,10]·W[128,10]ᵀ',
    kernel: 'BatchMatMul',
    inputs: () => ({ a: tf.randomNormal([1, 32, 10]), b: tf.randomNormal([1, 128, 10]) }),
    attrs: { transposeA: false, transposeB: true },
  },
  {
    label: 'cnn dense dW  x[128,1600]ᵀ·dy[128,10]',
    kernel: 'BatchMatMul',
    inputs: () => ({ a: tf.randomNormal([1, BATCH, 1600]), b: tf.randomNormal([1, BATCH, 10]) }),
    attrs: { transposeA: true, transposeB: false },
  },
  {
    label: 'cnn dense dx  dy[128,10]·W[1600,10]ᵀ',
    kernel: 'BatchMatMul',
    inputs: () => ({ a: tf.randomNormal([1, BATCH, 10]), b: tf.randomNormal([1, 1600, 10]) }),
    attrs: { transposeA: false, transposeB: true },
  },
  {
    label: 'strong dense dW x[128,1024]ᵀ·dy[128,128]',
    kernel: 'BatchMatMul',
    inputs: () => ({ a: tf.randomNormal([1, BATCH, 1024]), b: tf.randomNormal([1, BATCH, 128]) }),
    attrs: { transposeA: true, transposeB: false },
  },
  {
    label: 'strong dense dx dy[128,128]·W[1024,128]ᵀ',
    kernel: 'BatchMatMul',
    inputs: () => ({ a: tf.randomNormal([1, BATCH, 128]), b: tf.randomNormal([1, 1024, 128]) }),
    attrs: { transposeA: false, transposeB: true },
  },
  {
    label: 'BN grad  [1,1,1,32] → [128,26,26,32]',
    kernel: 'Tile',
    inputs: () => ({ x: tf.randomNormal([1, 1, 1, 32]) }),
    attrs: { reps: [BATCH, 26, 26, 1] },
  },
  {
    label: 'BN moments  [128,26,26,32] over 0,1,2',
    kernel: 'Mean',
    inputs: () => ({ x: tf.randomNormal([BATCH, 26, 26, 32]) }),
    attrs: { axis: [0, 1, 2], keepDims: true },
  },
];

/** Kernels whose built-in this file compares against (Conv2DBackpropFilter has none). */
const KERNELS = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'MaxPoolGrad',
  'Sum',
  'BatchMatMul',
  '_FusedMatMul',
  'Mean',
  'Tile',
  'Identity',
  'Cast',
];
/** The overrides added for the mlp and BatchNorm findings: "before" runs their built-ins. */
const NEW_KERNELS = ['BatchMatMul', '_FusedMatMul', 'Mean', 'Tile', 'Identity', 'Cast'];

/** Conv2DBackpropFilter's strategy choice before single-channel inputs got their own. */
const previousFilterRule = (g: FilterGeometry): FilterStrategy =>
  g.kh * g.kw * g.ci <= g.co ? 'im2col' : 'convolution';

/** Our Conv2D as production registers it (Winograd where it applies). */
const winograd = conv2DConfig(DEFAULT_TUNING);

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
  unregisterAccelKernels();
  for (const name of KERNELS) builtin.set(name, tf.getKernel(name, 'wasm'));
  registerAccelKernels();

  console.log(`\nPer-kernel, the models' shapes (median ms of ${REPS}):`);
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
      beforeCell = fmt2(beforeMs);
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
      `| ${c.label.padEnd(43)} | ${c.kernel.padEnd(20)} | ${beforeCell.padStart(18)} | ${fmt2(oursMs).padStart(5)} | ${speedup.padStart(10)} |`,
    );
  }
}

type KernelTotals = Map<string, { ms: number; calls: number }>;

interface StepResult {
  stepMs: number;
  /** The fastest step: what other processes' load disturbs least. */
  minMs: number;
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
  return { stepMs: median(v.times), minMs: Math.min(...v.times), byKernel };
}

/**
 * Times the same model and optimizer under each kernel variant, alternating
 * variants step by step so that load from other processes hits both alike.
 * The step is the trainer's (src-main/engine/trainer.ts) without its bookkeeping.
 */
async function benchSteps(preset: ModelPreset, variants: Variant[]): Promise<StepResult[]> {
  const config = PRESET_DEFAULTS[preset];
  const n = config.batchSize;
  const model = buildPreset(config);
  compileModel(model, config.learningRate);
  const optimizer = model.optimizer;
  const xs = tf.randomUniform([n, 28, 28, 1]);
  const ys = tf.randomUniform([n], 0, 10, 'int32') as tf.Tensor1D;
  const step = (): void => {
    tf.tidy(() => {
      const loss = optimizer.minimize(() => {
        const probs = model.apply(xs, { training: true }) as tf.Tensor2D;
        return tf.div(crossEntropySum(probs, ys), n) as tf.Scalar;
      }, true);
      loss?.dataSync();
    });
  };
  // Fast models get more steps: their times are fractions of a scheduler tick.
  const reps = preset === 'mlp' ? REPS * 20 : REPS;
  for (const v of variants) {
    v.install();
    for (let i = 0; i < (preset === 'mlp' ? 20 : 2); i++) step();
  }
  for (let i = 0; i < reps; i++) {
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

function parseModels(): ModelPreset[] {
  const i = process.argv.indexOf('--models');
  if (i < 0) return [...MODEL_PRESETS];
  const names = (process.argv[i + 1] ?? '').split(',');
  for (const name of names) {
    if (!(MODEL_PRESETS as readonly string[]).includes(name)) {
      throw new Error(`unknown model '${name}', expected some of ${MODEL_PRESETS.join(', ')}`);
    }
  }
  return names as ModelPreset[];
}

async function main(): Promise<void> {
  await tf.setBackend('wasm');
  console.log(`tfjs ${tf.version.tfjs}, backend ${tf.getBackend()}, one thread`);
  // Other processes skew wall-clock numbers; record how busy the machine was.
  const load = (): string => loadavg()[0]!.toFixed(2);
  console.log(`load average at start: ${load()}`);

  if (!NO_GEMM_BEFORE) await benchKernels();

  // "Before" keeps the kernels that predate the BatchMatMul/Mean/Tile/Identity/Cast overrides
  // (the filter gradient must stay: upstream wasm has none, but it chooses its strategy and
  // convolves the whole batch at once as it used to) and puts those built-ins back.
  unregisterAccelKernels();
  const builtins = NEW_KERNELS.map((name) => tf.getKernel(name, 'wasm'));
  registerAccelKernels();
  const BEFORE = accelTuning({
    simd: false,
    filterStrategy: previousFilterRule,
    convolutionChunkLimit: Infinity,
  });
  const NO_GEMM = accelTuning(oneOffFlag === undefined ? {} : ONE_OFF[oneOffFlag]![1]);
  const before = (): void => {
    if (NO_GEMM_BEFORE) {
      registerAccelKernels(NO_GEMM);
      return;
    }
    registerAccelKernels(BEFORE);
    for (const [i, name] of NEW_KERNELS.entries()) {
      tf.unregisterKernel(name, 'wasm');
      const original = builtins[i];
      if (original !== undefined) tf.registerKernel(original);
    }
  };
  const after = (): void => {
    for (const name of NEW_KERNELS) {
      if (tf.getKernel(name, 'wasm') !== undefined) tf.unregisterKernel(name, 'wasm');
    }
    registerAccelKernels();
  };

  const summary: string[] = [];
  for (const preset of parseModels()) {
    const batch = PRESET_DEFAULTS[preset].batchSize;
    const [b, a] = (await benchSteps(preset, [
      { install: before, times: [], profiles: [] },
      { install: after, times: [], profiles: [] },
    ])) as [StepResult, StepResult];
    after();
    summary.push(
      `| ${`${preset} b${batch}`.padEnd(15)} | ${fmt2(b.stepMs).padStart(7)} | ${fmt2(a.stepMs).padStart(7)} | ${`${(b.stepMs / a.stepMs).toFixed(2)}x`.padStart(8)} |`,
    );

    console.log(
      `\n${preset} b${batch}: full training step (forward + backward + Adam), median ms, variants interleaved:`,
    );
    console.log(
      NO_GEMM_BEFORE
        ? `  before (all of ours, ${ONE_OFF[oneOffFlag!]![0]}): ${fmt2(b.stepMs)} ms`
        : `  before (built-in ${NEW_KERNELS.join(', ')}): ${fmt2(b.stepMs)} ms`,
    );
    console.log(`  after (all of ours): ${fmt2(a.stepMs)} ms`);
    console.log(`  fastest steps: before ${fmt2(b.minMs)} ms, after ${fmt2(a.minMs)} ms`);
    console.log('Per-kernel time inside one step (tf.profile, median of 5 steps), ms:');
    console.log('| kernel                 | calls | before | after |');
    console.log('|------------------------|-------|--------|-------|');
    const names = [...new Set([...b.byKernel.keys(), ...a.byKernel.keys()])].sort(
      (x, y) =>
        Math.max(b.byKernel.get(y)?.ms ?? 0, a.byKernel.get(y)?.ms ?? 0) -
        Math.max(b.byKernel.get(x)?.ms ?? 0, a.byKernel.get(x)?.ms ?? 0),
    );
    const threshold = preset === 'mlp' ? 0.05 : 1;
    const rest = { before: 0, after: 0 };
    for (const name of names) {
      const bk = b.byKernel.get(name);
      const ak = a.byKernel.get(name);
      if ((ak?.ms ?? 0) < threshold && (bk?.ms ?? 0) < threshold) {
        rest.before += bk?.ms ?? 0;
        rest.after += ak?.ms ?? 0;
        continue;
      }
      const calls = ak?.calls ?? bk?.calls ?? 0;
      console.log(
        `| ${name.padEnd(22)} | ${String(calls).padStart(5)} | ${fmt2(bk?.ms ?? 0).padStart(6)} | ${fmt2(ak?.ms ?? 0).padStart(5)} |`,
      );
    }
    console.log(
      `| ${'(all others)'.padEnd(22)} |       | ${fmt2(rest.before).padStart(6)} | ${fmt2(rest.after).padStart(5)} |`,
    );
  }

  console.log(`\nPer-step summary (median ms, one thread), load average now ${load()}:`);
  console.log('| model           | before  | after   | speed-up |');
  console.log('|-----------------|---------|---------|----------|');
  for (const line of summary) console.log(line);
}

interface ConvCase {
  label: string;
  x: number[];
  filter: number[];
  pad: 'valid' | 'same' | tf.backend_util.ExplicitPadding;
}

/**
 * Built-in Conv2D vs Winograd on the same fresh inputs, the two interleaved call by call so
 * that load from other processes hits both alike; then Winograd's pass size swept.
 */
function benchWinograd(): void {
  const backend = tf.backend() as BackendWasm;
  const builtin = tf.getKernel('Conv2D', 'wasm')!;
  const full: tf.backend_util.ExplicitPadding = [
    [0, 0],
    [2, 2],
    [2, 2],
    [0, 0],
  ];
  const cases: ConvCase[] = [64, 128].flatMap((b) => [
    {
      label: `cnn conv2 x[${b},13,13,32] 3x3→64`,
      x: [b, 13, 13, 32],
      filter: [3, 3, 32, 64],
      pad: 'valid' as const,
    },
    {
      label: `cnn conv1 x[${b},28,28,1] 3x3→32`,
      x: [b, 28, 28, 1],
      filter: [3, 3, 1, 32],
      pad: 'valid' as const,
    },
    {
      label: `conv2 dx (full) dy[${b},11,11,64]→32`,
      x: [b, 11, 11, 64],
      filter: [3, 3, 64, 32],
      pad: full,
    },
    {
      label: `fast conv3 x[${b},5,5,64] 3x3→128`,
      x: [b, 5, 5, 64],
      filter: [3, 3, 64, 128],
      pad: 'valid' as const,
    },
    {
      label: `fast conv3 dx (full) dy[${b},3,3,128]→64`,
      x: [b, 3, 3, 128],
      filter: [3, 3, 128, 64],
      pad: full,
    },
    {
      label: `strong x[${b},26,26,32] 3x3→32`,
      x: [b, 26, 26, 32],
      filter: [3, 3, 32, 32],
      pad: 'valid' as const,
    },
  ]);
  console.log(
    `\nConv2D forward, built-in (XNNPACK) vs Winograd F(2x2,3x3), median ms of ${REPS}, interleaved:`,
  );
  console.log('| call                                   | built-in | winograd | speed-up |');
  console.log('|----------------------------------------|----------|----------|----------|');
  for (const c of cases) {
    const inputs = tf.tidy(() => ({ x: tf.randomNormal(c.x), filter: tf.randomNormal(c.filter) }));
    const attrs = { strides: 1, pad: c.pad, dataFormat: 'NHWC', dilations: 1 };
    const a: number[] = [];
    const w: number[] = [];
    for (let i = 0; i < REPS; i++) {
      a.push(timeKernel(builtin, backend, inputs, attrs, 1));
      w.push(timeKernel(winograd, backend, inputs, attrs, 1));
    }
    const [am, wm] = [median(a), median(w)];
    console.log(
      `| ${c.label.padEnd(38)} | ${fmt2(am).padStart(8)} | ${fmt2(wm).padStart(8)} | ${`${(am / wm).toFixed(2)}x`.padStart(8)} |`,
    );
    tf.dispose(Object.values(inputs));
  }
  console.log(
    '\nWinograd pass size (bytes of V and M per pass), cnn conv2 x[128,13,13,32], median ms:',
  );
  const inputs = tf.tidy(() => ({
    x: tf.randomNormal([128, 13, 13, 32]),
    filter: tf.randomNormal([3, 3, 32, 64]),
  }));
  const attrs = { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1 };
  for (const bytes of [1 << 18, 1 << 19, 1 << 20, 1 << 21, 1 << 22, Infinity]) {
    const config = conv2DConfig(accelTuning({ winogradPassBytes: bytes }));
    console.log(
      `  ${String(bytes).padStart(8)}: ${fmt2(timeKernel(config, backend, inputs, attrs, REPS))}`,
    );
  }
  tf.dispose(Object.values(inputs));
}

/** One cnn training step with all our kernels, the built-in Conv2D vs Winograd, interleaved. */
async function benchWinogradStep(): Promise<void> {
  unregisterAccelKernels();
  const builtin = tf.getKernel('Conv2D', 'wasm')!;
  registerAccelKernels();
  const use = (config: tf.KernelConfig) => (): void => {
    tf.unregisterKernel('Conv2D', 'wasm');
    tf.registerKernel(config);
  };
  const [without, withW] = (await benchSteps('cnn', [
    { install: use(builtin), times: [], profiles: [] },
    { install: use(winograd), times: [], profiles: [] },
  ])) as [StepResult, StepResult];
  use(winograd)();
  console.log(
    `\ncnn b${PRESET_DEFAULTS.cnn.batchSize} training step, one thread, median ms of ${REPS}, interleaved:`,
  );
  console.log(`  built-in Conv2D ${fmt2(without.stepMs)}, Winograd ${fmt2(withW.stepMs)}`);
  console.log('  per kernel (tf.profile, median of 5 steps): built-in → Winograd');
  for (const name of ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter']) {
    const before = fmt2(without.byKernel.get(name)?.ms ?? 0);
    const after = fmt2(withW.byKernel.get(name)?.ms ?? 0);
    console.log(`  ${name.padEnd(22)} ${before.padStart(6)} → ${after}`);
  }
}

interface PassCase {
  label: string;
  x: number[];
  filter: number[];
  pad?: 'same' | 'valid';
}

/** Each convolution pass at the models' 3×3 'valid' layers, batch 128, per convGemm variant. */
function benchGemm(): void {
  const backend = tf.backend() as BackendWasm;
  const layers: PassCase[] = [
    { label: 'cnn conv1 28×28 1→32', x: [BATCH, 28, 28, 1], filter: [3, 3, 1, 32] },
    { label: 'cnn conv2 13×13 32→64', x: [BATCH, 13, 13, 32], filter: [3, 3, 32, 64] },
    { label: 'fast conv3 5×5 64→128', x: [BATCH, 5, 5, 64], filter: [3, 3, 64, 128] },
    { label: 'strong conv2 26×26 32→32', x: [BATCH, 26, 26, 32], filter: [3, 3, 32, 32] },
    { label: 'strong conv3 12×12 32→64', x: [BATCH, 12, 12, 32], filter: [3, 3, 32, 64] },
    { label: 'strong conv4 10×10 64→64', x: [BATCH, 10, 10, 64], filter: [3, 3, 64, 64] },
    // No model has a 'same' layer; its input gradient is the case the full correlation suits.
    {
      label: "'same' 14×14 32→64",
      x: [BATCH, 14, 14, 32],
      filter: [3, 3, 32, 64],
      pad: 'same',
    },
  ];
  const variants: Array<[string, Readonly<AccelTuning>]> = [
    ['before', accelTuning({ convGemm: 'never', winograd4: 'never' })],
    ['gemm', accelTuning({ convGemm: 'always', winograd4: 'never' })],
    ['gemm128', accelTuning({ convGemm: 'always', winograd4: 'never', relaxedSimd: false })],
    ['f4', accelTuning({ winograd4: 'always' })],
    ['auto', DEFAULT_TUNING],
  ];
  const passes = [
    { name: 'Conv2D', config: conv2DConfig },
    { name: 'Conv2DBackpropInput', config: conv2DBackpropInputConfig },
    { name: 'Conv2DBackpropFilter', config: conv2DBackpropFilterConfig },
  ];
  console.log(
    `\nConvolution passes, median ms of ${REPS}, variants interleaved call by call (gemm: relaxed build, gemm128: SIMD128 build, f4: Winograd F(4×4, 3×3)):`,
  );
  console.log(
    `| ${'layer'.padEnd(26)} | ${'pass'.padEnd(20)} | ${variants.map(([v]) => v.padStart(7)).join(' | ')} | gemm/before | f4/gemm | auto/before |`,
  );
  console.log(
    `|${'-'.repeat(28)}|${'-'.repeat(22)}|${variants.map(() => '-'.repeat(9)).join('|')}|-------------|---------|-------------|`,
  );
  for (const l of layers) {
    const info = tf.backend_util.computeConv2DInfo(
      l.x as [number, number, number, number],
      l.filter as [number, number, number, number],
      1,
      1,
      l.pad ?? 'valid',
    );
    const pad = l.pad ?? 'valid';
    for (const pass of passes) {
      // The first layer's input gradient is never asked for (the model's input has none).
      if (pass.name === 'Conv2DBackpropInput' && l.x[3] === 1) continue;
      const inputs = tf.tidy((): Record<string, tf.Tensor> => {
        const x = tf.randomNormal(l.x);
        const filter = tf.randomNormal(l.filter);
        const dy = tf.randomNormal(info.outShape);
        return pass.name === 'Conv2D'
          ? { x, filter }
          : pass.name === 'Conv2DBackpropInput'
            ? { dy, filter }
            : { x, dy };
      });
      const attrs: tf.NamedAttrMap =
        pass.name === 'Conv2D'
          ? { strides: 1, pad, dataFormat: 'NHWC', dilations: 1 }
          : pass.name === 'Conv2DBackpropInput'
            ? { strides: 1, pad, dataFormat: 'NHWC', inputShape: l.x }
            : { strides: 1, pad, dataFormat: 'NHWC', filterShape: l.filter };
      const configs = variants.map(([, t]) => pass.config(t));
      const times = variants.map((): number[] => []);
      for (let i = 0; i < REPS; i++) {
        configs.forEach((c, v) => {
          // The registry too: the full correlation (dx) and the convolution strategy (dW) run
          // the registered Conv2D, which must follow the same tuning.
          registerAccelKernels(variants[v]![1]);
          times[v]!.push(timeKernel(c, backend, inputs, attrs, 1));
        });
      }
      const ms = times.map(median);
      console.log(
        `| ${l.label.padEnd(26)} | ${pass.name.padEnd(20)} | ${ms.map((t) => fmt2(t).padStart(7)).join(' | ')} | ${`${(ms[0]! / ms[1]!).toFixed(2)}x`.padStart(11)} | ${`${(ms[1]! / ms[3]!).toFixed(2)}x`.padStart(7)} | ${`${(ms[0]! / ms[4]!).toFixed(2)}x`.padStart(11)} |`,
      );
      tf.dispose(Object.values(inputs));
    }
  }
}

if (process.argv.includes('--gemm')) {
  await tf.setBackend('wasm');
  registerAccelKernels();
  console.log(
    `tfjs ${tf.version.tfjs}, backend ${tf.getBackend()}, one thread, load ${loadavg()[0]!.toFixed(2)}`,
  );
  benchGemm();
  registerAccelKernels();
  console.log(`load average now ${loadavg()[0]!.toFixed(2)}`);
} else if (process.argv.includes('--winograd')) {
  await tf.setBackend('wasm');
  console.log(
    `tfjs ${tf.version.tfjs}, backend ${tf.getBackend()}, one thread, load ${loadavg()[0]!.toFixed(2)}`,
  );
  benchWinograd();
  await benchWinogradStep();
  console.log(`load average now ${loadavg()[0]!.toFixed(2)}`);
} else {
  await main();
}
