/**
 * The cnn's first-layer Conv2D (conv-direct.c) and its two MaxPoolGrad calls (max-pool-grad.c)
 * with the SIMD module of another commit ("before": its wasm.ts read with git show, behind that
 * commit's wrappers, a fresh output for conv_direct and a zero fill for MaxPoolGrad) against
 * this tree's ("after"), one thread:
 *   1. each call at the cnn's shapes, before and after interleaved call by call;
 *   2. the cnn training step (forward + backward + Adam, batch 128) with all of our kernels,
 *      Conv2D's one-channel case and MaxPoolGrad's SIMD case from "before" or "after", steps
 *      interleaved, plus those two kernels' time inside the step (tf.profile).
 *
 *   node --no-liftoff --import tsx bench/conv1-pool.ts [--base <commit>] [--reps N] [--steps N]
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { PRESET_DEFAULTS } from '../src-main/contract/config';
import { crossEntropySum } from '../src-main/engine/evaluate';
import { buildModel, compileModel } from '../src-main/engine/models';
import { accelTuning, DEFAULT_TUNING, registerAccelKernels } from '../src-main/engine/accel/index';
import {
  type ConvAttrs,
  conv2DConfig,
  gemmGeometry,
} from '../src-main/engine/accel/kernels/Conv2D';
import {
  type ConvGeometry,
  conv2DDirect,
  directGeometry,
} from '../src-main/engine/accel/kernels/conv-gemm';
import { maxPoolGradConfig } from '../src-main/engine/accel/kernels/MaxPoolGrad';
import {
  type SimdKernels,
  relaxedSimdAvailable,
} from '../src-main/engine/accel/native/simd/module';
import {
  type BackendWasm,
  type Shape4D,
  emscripten,
  heapF32,
  makeF32,
} from '../src-main/engine/accel/wasm-backend';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const BASE = arg('--base', '84cbd57');
const REPS = Number(arg('--reps', '30'));
const STEPS = Number(arg('--steps', '20'));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

// The node typings leave out the WebAssembly JS API (as in native/simd/module.ts).
const wasmApi = (
  globalThis as unknown as {
    WebAssembly: {
      Module: new (bytes: Uint8Array) => object;
      Instance: new (module: object, imports: object) => { exports: unknown };
    };
  }
).WebAssembly;

/** The two kernels as BASE (84cbd57 and before) exports them: MaxPoolGrad took a scratch `found`. */
interface BaseKernels {
  conv_direct: SimdKernels['conv_direct'];
  max_pool_grad_disjoint(...args: number[]): number;
}

/** BASE's module (the build module.ts would pick) over this backend's memory. */
function baseKernels(backend: BackendWasm): BaseKernels {
  const src = execFileSync('git', ['show', `${BASE}:src-main/engine/accel/native/simd/wasm.ts`], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  const name = relaxedSimdAvailable() ? 'SIMD_RELAXED_WASM_BASE64' : 'SIMD_WASM_BASE64';
  const body = src.split(`export const ${name} =`)[1]!.split(';')[0]!;
  const base64 = [...body.matchAll(/'([^']*)'/g)].map((m) => m[1]).join('');
  const memory = emscripten(backend).asm!.memory;
  const module = new wasmApi.Module(Buffer.from(base64, 'base64'));
  return new wasmApi.Instance(module, { env: { memory } }).exports as unknown as BaseKernels;
}

await tf.setBackend('wasm');
// Without the fused conv+ReLU+pool layers, whose training step runs neither conv_direct on the
// first layer nor MaxPoolGrad: the step below times exactly those two kernels.
registerAccelKernels(accelTuning({ convPool: false }));
const backend = tf.backend() as BackendWasm;
const old = baseKernels(backend);
const at = (t: tf.TensorInfo): number => backend.getMemoryOffset(t.dataId);
console.log(`base ${BASE}, relaxed ${relaxedSimdAvailable()}, load ${loadavg()[0]!.toFixed(2)}`);

/** BASE's conv2DDirect. */
function oldConv(x: tf.TensorInfo, filter: tf.TensorInfo, g: ConvGeometry): tf.TensorInfo {
  const out = makeF32(backend, [g.n, g.oh, g.ow, g.co]);
  old.conv_direct(at(x), at(filter), at(out), ...directGeometry(g));
  return out;
}

interface Pool {
  n: number;
  h: number;
  w: number;
  c: number;
  oh: number;
  ow: number;
  f: number;
  s: number;
}

/** BASE's viaSimd (a zero fill, a scratch `found`, the kernel); null where it flags a window. */
function oldPoolGrad(
  input: tf.TensorInfo,
  pooled: tf.TensorInfo,
  dy: tf.TensorInfo,
  p: Pool,
): tf.TensorInfo | null {
  const dx = makeF32(backend, input.shape);
  const found = makeF32(backend, [p.c]);
  heapF32(backend, dx).fill(0);
  const bad = old.max_pool_grad_disjoint(
    at(input),
    at(pooled),
    at(dy),
    at(dx),
    at(found),
    p.n,
    p.h,
    p.w,
    p.c,
    p.oh,
    p.ow,
    p.f,
    p.f,
    p.s,
    p.s,
  );
  backend.disposeData(found.dataId);
  if (bad === 0) return dx;
  backend.disposeData(dx.dataId);
  return null;
}

// 1. The calls.
type Case = { label: string; before: () => tf.TensorInfo; after: () => tf.TensorInfo };
const cases: Case[] = [];
const newPoolGrad = maxPoolGradConfig(DEFAULT_TUNING).kernelFunc;
{
  const x = tf.randomNormal([128, 28, 28, 1]);
  const filter = tf.randomNormal([3, 3, 1, 32]);
  const g: ConvGeometry = {
    n: 128,
    h: 28,
    w: 28,
    ci: 1,
    oh: 26,
    ow: 26,
    co: 32,
    kh: 3,
    kw: 3,
    sh: 1,
    sw: 1,
    padTop: 0,
    padLeft: 0,
  };
  cases.push({
    label: 'conv1 x[128,28,28,1]→[128,26,26,32]',
    before: () => oldConv(x, filter, g),
    after: () => conv2DDirect(backend, x, filter, g, DEFAULT_TUNING),
  });
}
for (const [h, c] of [
  [26, 32],
  [11, 64],
] as const) {
  const input = tf.relu(tf.randomNormal([128, h, h, c]));
  const output = tf.maxPool(input as tf.Tensor4D, 2, 2, 'valid');
  const dy = tf.randomNormal(output.shape);
  const oh = output.shape[1];
  const p: Pool = { n: 128, h, w: h, c, oh, ow: oh, f: 2, s: 2 };
  cases.push({
    label: `pool dx x[128,${h},${h},${c}]`,
    before: () => oldPoolGrad(input, output, dy, p)!,
    after: () =>
      newPoolGrad({
        inputs: { input, output, dy },
        backend,
        attrs: { filterSize: 2, strides: 2, pad: 'valid' },
      }) as tf.TensorInfo,
  });
}

console.log(`\nPer call, median ms of ${REPS}, interleaved:`);
for (const c of cases) {
  const a = c.before();
  const b = c.after();
  const [va, vb] = [heapF32(backend, a), heapF32(backend, b)];
  let same = va.length === vb.length;
  for (let i = 0; same && i < va.length; i++) same = Object.is(va[i], vb[i]);
  backend.disposeData(a.dataId);
  backend.disposeData(b.dataId);
  const t = { before: [] as number[], after: [] as number[] };
  for (let r = 0; r < REPS; r++) {
    for (const v of ['before', 'after'] as const) {
      const t0 = performance.now();
      const out = c[v]();
      t[v].push(performance.now() - t0);
      backend.disposeData(out.dataId);
    }
  }
  const [mb, ma] = [median(t.before), median(t.after)];
  console.log(
    `  ${c.label.padEnd(38)} before ${mb.toFixed(2)}  after ${ma.toFixed(2)}  ${(mb / ma).toFixed(2)}x  ${same ? 'bit for bit' : 'RESULTS DIFFER'}`,
  );
}

// 2. The cnn step. "Before" replaces the registered Conv2D and MaxPoolGrad by ones that run
// BASE's code where ours would run conv_direct or the disjoint SIMD kernel.
const ourConv = conv2DConfig(DEFAULT_TUNING);
const ourPool = maxPoolGradConfig(DEFAULT_TUNING);
const beforeConv: tf.KernelConfig = {
  ...ourConv,
  kernelFunc: (args) => {
    const { x, filter } = args.inputs;
    const g = gemmGeometry(x, filter, args.attrs as unknown as ConvAttrs, DEFAULT_TUNING);
    return g !== null && g.ci === 1 ? oldConv(x!, filter!, g) : ourConv.kernelFunc(args);
  },
};
const beforePool: tf.KernelConfig = {
  ...ourPool,
  kernelFunc: (args) => {
    const { input, output, dy } = args.inputs;
    const a = args.attrs as unknown as tf.MaxPoolGradAttrs;
    const two = (v: number | number[]) =>
      (typeof v === 'number' ? [v, v] : v).every((e) => e === 2);
    // The cnn's pools: 2×2, stride 2, 'valid'.
    if (two(a.filterSize) && two(a.strides) && a.pad === 'valid' && output !== undefined) {
      const [n, h, w, c] = input!.shape as Shape4D;
      const p: Pool = { n, h, w, c, oh: output.shape[1]!, ow: output.shape[2]!, f: 2, s: 2 };
      const dx = oldPoolGrad(input!, output, dy!, p);
      if (dx !== null) return dx;
    }
    return ourPool.kernelFunc(args);
  },
};
const install = (conv: tf.KernelConfig, pool: tf.KernelConfig) => (): void => {
  for (const k of [conv, pool]) {
    tf.unregisterKernel(k.kernelName, 'wasm');
    tf.registerKernel(k);
  }
};
const variants = [
  { name: 'before', install: install(beforeConv, beforePool), times: [] as number[] },
  { name: 'after', install: install(ourConv, ourPool), times: [] as number[] },
];
const profiles = variants.map(() => new Map<string, number[]>());

const config = PRESET_DEFAULTS.cnn;
const model = buildModel(config);
compileModel(model, config.learningRate);
const optimizer = model.optimizer;
const xs = tf.randomUniform([config.batchSize, 28, 28, 1]);
const ys = tf.randomUniform([config.batchSize], 0, 10, 'int32') as tf.Tensor1D;
const step = (): void => {
  tf.tidy(() => {
    const loss = optimizer.minimize(() => {
      const probs = model.apply(xs, { training: true }) as tf.Tensor2D;
      return tf.div(crossEntropySum(probs, ys), config.batchSize) as tf.Scalar;
    }, true);
    loss?.dataSync();
  });
};
for (const v of variants) {
  v.install();
  step();
  step();
}
for (let i = 0; i < STEPS; i++) {
  for (const v of variants) {
    v.install();
    const t0 = performance.now();
    step();
    v.times.push(performance.now() - t0);
  }
}
for (let i = 0; i < 5; i++) {
  for (const [j, v] of variants.entries()) {
    v.install();
    const profile = await tf.profile(step);
    // Conv2D and MaxPoolGrad by their first input's shape (conv1 and conv2, pool1 and pool2).
    for (const k of profile.kernels) {
      if (k.name !== 'Conv2D' && k.name !== 'MaxPoolGrad') continue;
      const key = `${k.name} ${JSON.stringify(k.inputShapes[k.name === 'Conv2D' ? 0 : 1])}`;
      const list = profiles[j]!.get(key) ?? [];
      list.push(typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0);
      profiles[j]!.set(key, list);
    }
  }
}
console.log(
  `\ncnn b${config.batchSize} training step, median ms of ${STEPS}, interleaved; below, the calls' times inside one step (tf.profile, median of 5):`,
);
for (const v of variants) console.log(`  ${v.name.padEnd(6)} ${median(v.times).toFixed(1)}`);
for (const key of profiles[0]!.keys()) {
  const [b, a] = profiles.map((p) => median(p.get(key) ?? [0]));
  console.log(`  ${key.padEnd(32)} before ${b!.toFixed(2)}  after ${a!.toFixed(2)}`);
}
console.log(`load ${loadavg()[0]!.toFixed(2)}`);
