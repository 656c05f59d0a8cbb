/**
 * The cnn's first-layer Conv2D (conv-direct.c) and its two MaxPoolGrad calls (max-pool-grad.c),
 * the SIMD module of another commit ("before", its wasm.ts read with git show) against this
 * tree's ("after"), calls interleaved on the same inputs, one thread:
 *
 *   node --no-liftoff --import tsx bench/conv1-pool.ts [--base <commit>] [--reps N]
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { DEFAULT_TUNING } from '../src-main/engine/accel/index';
import { conv2DDirect } from '../src-main/engine/accel/kernels/conv-gemm';
import { maxPoolGradWasm } from '../src-main/engine/accel/kernels/MaxPoolGrad';
import {
  type SimdKernels,
  relaxedSimdAvailable,
} from '../src-main/engine/accel/native/simd/module';
import {
  type BackendWasm,
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
const backend = tf.backend() as BackendWasm;
const old = baseKernels(backend);
const at = (t: tf.TensorInfo): number => backend.getMemoryOffset(t.dataId);
console.log(`base ${BASE}, relaxed ${relaxedSimdAvailable()}, load ${loadavg()[0]!.toFixed(2)}`);

type Case = { label: string; before: () => tf.TensorInfo; after: () => tf.TensorInfo };
const cases: Case[] = [];

{
  const x = tf.randomNormal([128, 28, 28, 1]);
  const filter = tf.randomNormal([3, 3, 1, 32]);
  const g = {
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
    before: () => {
      const out = makeF32(backend, [g.n, g.oh, g.ow, g.co]);
      old.conv_direct(
        at(x),
        at(filter),
        at(out),
        g.n,
        g.h,
        g.w,
        g.ci,
        g.oh,
        g.ow,
        g.co,
        g.kh,
        g.kw,
        g.sh,
        g.sw,
        g.padTop,
        g.padLeft,
      );
      return out;
    },
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
  cases.push({
    label: `pool dx x[128,${h},${h},${c}]`,
    before: () => {
      const dx = makeF32(backend, input.shape);
      const found = makeF32(backend, [c]);
      heapF32(backend, dx).fill(0);
      const bad = old.max_pool_grad_disjoint(
        at(input),
        at(output),
        at(dy),
        at(dx),
        at(found),
        128,
        h,
        h,
        c,
        oh,
        oh,
        2,
        2,
        2,
        2,
      );
      backend.disposeData(found.dataId);
      if (bad !== 0) throw new Error('bad');
      return dx;
    },
    after: () =>
      maxPoolGradWasm(
        {
          inputs: { input, output, dy },
          backend,
          attrs: { filterSize: 2, strides: 2, pad: 'valid' },
        },
        DEFAULT_TUNING,
      ),
  });
}

for (const c of cases) {
  const a = c.before();
  const b = c.after();
  const [va, vb] = [heapF32(backend, a), heapF32(backend, b)];
  let diff = 0;
  for (let i = 0; i < va.length; i++) diff = Math.max(diff, Math.abs(va[i]! - vb[i]!));
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
    `${c.label.padEnd(38)} before ${mb.toFixed(2)} ms  after ${ma.toFixed(2)} ms  ${(mb / ma).toFixed(2)}x  (max |diff| ${diff})`,
  );
}
console.log(`load ${loadavg()[0]!.toFixed(2)}`);
