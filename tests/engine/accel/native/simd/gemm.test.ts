import { describe, expect, it } from 'vitest';
import {
  simdKernels,
  type SimdBuild,
} from '../../../../../src-main/engine/accel/native/simd/module';
import { heapBuffer, random, read, useWasmHeap } from '../heap';

const heap = useWasmHeap();
const BUILDS: SimdBuild[] = ['baseline', 'relaxed'];

/** C = A·B in float64, A [m, k] and B [k, n] row-major. */
function reference(a: Float32Array, b: Float32Array, m: number, n: number, k: number): number[] {
  const c: number[] = [];
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += a[i * k + t]! * b[t * n + j]!;
      c.push(s);
    }
  return c;
}

function transpose(x: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = x[r * cols + c]!;
  return t;
}

/** Largest |got − want| relative to Σ|a||b| (1 for these inputs in [−1, 1)) times k. */
function worst(got: Float32Array, want: number[], k: number): number {
  let err = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i]! - want[i]!);
    err = Number.isNaN(e) ? Infinity : Math.max(err, e);
  }
  return err / Math.max(1, k);
}

// Ragged sizes: m not a multiple of the 4 rows, n not of the 8 columns, k not of the block.
const SHAPES: Array<[number, number, number]> = [
  [1, 1, 1],
  [3, 5, 7],
  [4, 8, 16],
  [13, 21, 37],
  [9, 64, 288],
  [33, 17, 300],
  [6, 9, 0],
];

describe.each(BUILDS)('gemm (%s build) against a plain product', (build) => {
  const packed = (n: number, k: number) => heapBuffer(new Float32Array(Math.ceil(n / 8) * 8 * k));
  /** A packed for gemm from a buffer where its element (i, kk) is at [i·rs + kk·ks]. */
  const packA = (build: SimdBuild, a: number, rs: number, ks: number, m: number, k: number) => {
    const ap = heapBuffer(new Float32Array(Math.ceil(m / 4) * 4 * k).fill(NaN));
    simdKernels(heap.backend, build).pack_a(a, rs, ks, m, k, ap);
    return ap;
  };

  it.each(SHAPES)('A·B, B packed from [k, n], m=%i n=%i k=%i', (m, n, k) => {
    const kern = simdKernels(heap.backend, build);
    const a = random(m * k, m + 1);
    const b = random(k * n, n + 2);
    const bp = packed(n, k);
    kern.pack_b(heapBuffer(b), n, k, n, bp);
    // Padding around C: the stores must stay inside its rows.
    const ldc = n + 3;
    const c = heapBuffer(new Float32Array(m * ldc).fill(7));
    kern.gemm(packA(build, heapBuffer(a), k, 1, m, k), bp, c, ldc, m, n, k, 0, 16);
    const got = read(c, m * ldc);
    const rows = Float32Array.from(
      { length: m * n },
      (_, i) => got[Math.floor(i / n) * ldc + (i % n)]!,
    );
    expect(worst(rows, reference(a, b, m, n, k), k)).toBeLessThan(1e-6);
    for (let i = 0; i < m; i++) for (let j = n; j < ldc; j++) expect(got[i * ldc + j]).toBe(7);
  });

  it.each(SHAPES)('A·Tᵀ and accumulation, B packed from T [n, k], m=%i n=%i k=%i', (m, n, k) => {
    const kern = simdKernels(heap.backend, build);
    const a = random(m * k, m + 3);
    const b = random(k * n, n + 4);
    const bp = packed(n, k);
    kern.pack_bt(heapBuffer(transpose(b, k, n)), k, k, n, bp);
    const c0 = random(m * n, 5);
    const c = heapBuffer(c0);
    kern.gemm(packA(build, heapBuffer(a), k, 1, m, k), bp, c, n, m, n, k, 1, 0);
    const want = reference(a, b, m, n, k).map((v, i) => v + c0[i]!);
    expect(worst(read(c, m * n), want, k)).toBeLessThan(1e-6);
  });

  it.each(SHAPES)('Aᵀ·B, A packed from Aᵀ [k, m], m=%i n=%i k=%i', (m, n, k) => {
    const kern = simdKernels(heap.backend, build);
    const a = random(m * k, m + 6);
    const b = random(k * n, n + 7);
    const bp = packed(n, k);
    kern.pack_b(heapBuffer(b), n, k, n, bp);
    const c = heapBuffer(new Float32Array(m * n).fill(NaN));
    kern.gemm(packA(build, heapBuffer(transpose(a, m, k)), 1, m, m, k), bp, c, n, m, n, k, 0, 5);
    expect(worst(read(c, m * n), reference(a, b, m, n, k), k)).toBeLessThan(1e-6);
  });
});
