/**
 * Writes winograd.c (Winograd F(2×2, 3×3)'s input and output transforms) and winograd4.c
 * (F(4×4, 3×3)'s input, output, dy and filter transforms) from the transform matrices below:
 * `npx tsx src-main/engine/accel/native/simd/generate-winograd.ts`. Each transform is unrolled
 * (the loads, the two matrix products, the stores) once as f32x4 code and once as the scalar
 * tail, which is what this saves writing by hand. A test checks that both files are what this
 * writes.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const WINOGRAD_C = path.join(path.dirname(fileURLToPath(import.meta.url)), 'winograd.c');

/** V = Bᵀ d B for a 4×4 input patch d. */
const BT = [
  [1, 0, -1, 0],
  [0, 1, 1, 0],
  [0, -1, 1, 0],
  [0, 1, 0, -1],
];
/** Y = Aᵀ M A for a transformed 4×4 tile M. */
const AT = [
  [1, 1, 1, 0],
  [0, 1, -1, -1],
];

interface Ops {
  type: string;
  load: (ptr: string) => string;
  store: (ptr: string, value: string) => string;
  add: (a: string, b: string) => string;
  sub: (a: string, b: string) => string;
  /** c·t for a constant c. */
  scale: (c: number, t: string) => string;
}

const VECTOR: Ops = {
  type: 'v128_t',
  load: (p) => `wasm_v128_load(${p} + k)`,
  store: (p, v) => `wasm_v128_store(${p} + k, ${v});`,
  add: (a, b) => `wasm_f32x4_add(${a}, ${b})`,
  sub: (a, b) => `wasm_f32x4_sub(${a}, ${b})`,
  scale: (c, t) => `wasm_f32x4_mul(wasm_f32x4_splat(${literal(c)}), ${t})`,
};

const SCALAR: Ops = {
  type: 'float',
  load: (p) => `${p}[k]`,
  store: (p, v) => `${p}[k] = ${v};`,
  add: (a, b) => `${a} + ${b}`,
  sub: (a, b) => `${a} - ${b}`,
  scale: (c, t) => `${literal(c)} * ${t}`,
};

/** A float literal: integers exactly, fractions (F(4×4)'s filter transform) to float precision. */
function literal(c: number): string {
  return Number.isInteger(c) ? `${c}.0f` : `${c.toPrecision(9)}f`;
}

/**
 * Σ coefs[i]·terms[i] over the non-zero coefficients: the first positive term (or, in a row
 * with none, the first term times its negative coefficient), then the others left to right, so
 * every rounding happens in a fixed, documented order. A coefficient other than ±1 is one
 * multiply by a constant; there is no fused multiply-add, so both builds round alike.
 */
function combination(ops: Ops, coefs: number[], terms: string[]): string {
  const used = coefs.map((c, i) => ({ c, t: terms[i]! })).filter(({ c }) => c !== 0);
  if (used.length === 0) throw new Error('a row needs a non-zero coefficient');
  const first = Math.max(
    0,
    used.findIndex(({ c }) => c > 0),
  );
  const scaled = (c: number, t: string) => (c === 1 ? t : ops.scale(c, t));
  let acc = scaled(used[first]!.c, used[first]!.t);
  used.forEach(({ c, t }, i) => {
    if (i !== first) acc = c > 0 ? ops.add(acc, scaled(c, t)) : ops.sub(acc, scaled(-c, t));
  });
  return acc;
}

/**
 * out = L · inp · Lᵀ for square-indexed names: inp[r][c] is `${inName}${r}${c}` (n×n, n = L's
 * width; single-digit indices), out is L's height squared. Returns the statements declaring
 * the intermediate (L · inp) and the outputs.
 */
function sandwich(ops: Ops, L: number[][], inName: string, midName: string, outName: string) {
  const lines: string[] = [];
  const n = L[0]!.length;
  const name = (base: string, r: number, c: number) => `${base}${r}${c}`;
  for (let r = 0; r < L.length; r++)
    for (let c = 0; c < n; c++) {
      const terms = L[0]!.map((_, k) => name(inName, k, c));
      lines.push(`${ops.type} ${name(midName, r, c)} = ${combination(ops, L[r]!, terms)};`);
    }
  for (let r = 0; r < L.length; r++)
    for (let c = 0; c < L.length; c++) {
      const terms = L[0]!.map((_, k) => name(midName, r, k));
      lines.push(`${ops.type} ${name(outName, r, c)} = ${combination(ops, L[c]!, terms)};`);
    }
  return lines;
}

const grid = (n: number, m: number) =>
  Array.from({ length: n }, (_, r) => Array.from({ length: m }, (_, c) => [r, c] as const)).flat();

function inputBody(ops: Ops): string[] {
  return [
    ...grid(4, 4).map(([r, c]) => `${ops.type} d${r}${c} = ${ops.load(`p${r}${c}`)};`),
    ...sandwich(ops, BT, 'd', 'u', 'v'),
    ...grid(4, 4).map(([r, c]) => ops.store(`o${r * 4 + c}`, `v${r}${c}`)),
  ];
}

function outputBody(ops: Ops): string[] {
  return [
    ...grid(4, 4).map(([r, c]) => `${ops.type} m${r}${c} = ${ops.load(`p${r * 4 + c}`)};`),
    ...sandwich(ops, AT, 'm', 's', 'y'),
    ...grid(2, 2).map(([r, c]) => ops.store(`q${r}${c}`, `y${r}${c}`)),
  ];
}

/** The channel loop: f32x4 while 4 channels are left, then one at a time. */
function channelLoops(count: string, body: (ops: Ops) => string[]): string[] {
  const indent = (lines: string[]) => lines.map((l) => `      ${l}`);
  return [
    '    int k = 0;',
    `    for (; k + 4 <= ${count}; k += 4) {`,
    ...indent(body(VECTOR)),
    '    }',
    `    for (; k < ${count}; k++) {`,
    ...indent(body(SCALAR)),
    '    }',
  ];
}

export function winogradSource(): string {
  const inputPointers = grid(4, 4).map(
    ([r, c]) =>
      `    const float *p${r}${c} = yin${r} && xin${c} ? x + ((b * h + y0 + ${r}) * w + x0 + ${c}) * c : zero;`,
  );
  const outputPointers = grid(2, 2).map(
    ([r, c]) =>
      `    float *q${r}${c} = ty2 + ${r} < oh && tx2 + ${c} < ow ? y + ((b * oh + ty2 + ${r}) * ow + tx2 + ${c}) * co : dump;`,
  );
  const planes = (name: string, base: string, channels: string, ptr: string) =>
    Array.from(
      { length: 16 },
      (_, k) =>
        `    ${ptr} *${name}${k} = ${base} + (t - t0) * ${channels} + ${k} * stride * ${channels};`,
    );
  return [
    '// Generated by generate-winograd.ts; do not edit.',
    '//',
    '// Winograd F(2×2, 3×3) transforms for a stride-1 3×3 convolution (kernels/Conv2D.ts), tiles',
    '// t0 ≤ t < t1 of the n·th·tw output tiles (2×2 outputs each, tile t = (b·th + ty)·tw + tx).',
    '// winograd_input: V[k][t − t0][c] = (Bᵀ d B)[k] for the 4×4 input patch d at rows',
    '// 2·ty − pt + 0..3, columns 2·tx − pl + 0..3 of image b, k = 4·row + col, the 16 matrices',
    '// `stride` rows apart. Pixels outside the image read `zero` (c zeros) instead, so the channel',
    '// loop has no branches.',
    '// winograd_output: y[b, 2·ty + i, 2·tx + j, o] = (Aᵀ M A)[i][j] from M[k][t − t0][o] laid out',
    '// like V; outputs past the bottom/right edge (odd oh or ow) go to `dump` (co floats of',
    '// scratch). Channels are explicit f32x4 vectors with a scalar tail: the loop vectoriser would',
    '// not vectorise 16 stores at an unknown stride apart without runtime checks.',
    `//   Bᵀ = ${JSON.stringify(BT)}`,
    `//   Aᵀ = ${JSON.stringify(AT)}`,
    '#include <wasm_simd128.h>',
    '',
    '#include "simd.h"',
    '',
    'void EXPORT(winograd_input)(const float *restrict x, const float *restrict zero,',
    '                            float *restrict v, int h, int w, int c, int th, int tw, int pt,',
    '                            int pl, int t0, int t1, int stride) {',
    '  if (t0 >= t1 || c <= 0) return;',
    '  const int per = th * tw;',
    '  for (int t = t0; t < t1; t++) {',
    '    const int b = t / per;',
    '    const int y0 = (t % per / tw) * 2 - pt;',
    '    const int x0 = (t % per % tw) * 2 - pl;',
    ...[0, 1, 2, 3].map((i) => `    const int yin${i} = y0 + ${i} >= 0 && y0 + ${i} < h;`),
    ...[0, 1, 2, 3].map((i) => `    const int xin${i} = x0 + ${i} >= 0 && x0 + ${i} < w;`),
    ...inputPointers,
    ...planes('o', 'v', 'c', 'float'),
    ...channelLoops('c', inputBody),
    '  }',
    '}',
    '',
    'void EXPORT(winograd_output)(const float *restrict m, float *restrict y, float *restrict dump,',
    '                             int oh, int ow, int co, int th, int tw, int t0, int t1,',
    '                             int stride) {',
    '  if (t0 >= t1 || co <= 0) return;',
    '  const int per = th * tw;',
    '  for (int t = t0; t < t1; t++) {',
    '    const int b = t / per;',
    '    const int ty2 = (t % per / tw) * 2;',
    '    const int tx2 = (t % per % tw) * 2;',
    ...outputPointers,
    ...planes('p', 'm', 'co', 'const float'),
    ...channelLoops('co', outputBody),
    '  }',
    '}',
    '',
  ].join('\n');
}

/** F(4×4, 3×3) (Lavin and Gray, 2016, interpolation points 0, ±1, ±2, ∞): V = Bᵀ d B, d 6×6. */
const BT4 = [
  [4, 0, -5, 0, 1, 0],
  [0, -4, -4, 1, 1, 0],
  [0, 4, -4, -1, 1, 0],
  [0, -2, -1, 2, 1, 0],
  [0, 2, -1, -2, 1, 0],
  [0, 4, 0, -5, 0, 1],
];
/** Y = Aᵀ M A for a transformed 6×6 tile M; its transpose A carries a 4×4 dy tile back: A dY Aᵀ. */
const AT4 = [
  [1, 1, 1, 1, 1, 0],
  [0, 1, -1, 2, -2, 0],
  [0, 1, 1, 4, 4, 0],
  [0, 1, -1, 8, -8, 1],
];
const A4 = AT4[0]!.map((_, c) => AT4.map((row) => row[c]!));
/** B, which carries a patch's gradient back from V's: dd = B dV Bᵀ. */
const B4 = BT4[0]!.map((_, c) => BT4.map((row) => row[c]!));
/** U = G g Gᵀ for a 3×3 filter g; its transpose carries the gradient back: dg = Gᵀ dU G. */
const G4 = [
  [1 / 4, 0, 0],
  [-1 / 6, -1 / 6, -1 / 6],
  [-1 / 6, 1 / 6, -1 / 6],
  [1 / 24, 1 / 12, 1 / 6],
  [1 / 24, -1 / 12, 1 / 6],
  [0, 0, 1],
];
const GT4 = G4[0]!.map((_, c) => G4.map((row) => row[c]!));

export const WINOGRAD4_C = path.join(path.dirname(WINOGRAD_C), 'winograd4.c');

/** winograd4.c: F(4×4, 3×3)'s transforms for the forward pass and the filter gradient. */
export function winograd4Source(): string {
  // V and G go where the layout puts them (see the top): `off` is channel k's place in a tile.
  const placed = (ops: Ops): Ops => ({
    ...ops,
    store: (p, v) => (ops === VECTOR ? `wasm_v128_store(${p} + off, ${v});` : `${p}[off] = ${v};`),
  });
  const offset = 'const int off = (k >> 2) / groups * panel + (k >> 2) % groups * 4 + (k & 3);';
  const input = (ops: Ops) => [
    offset,
    ...grid(6, 6).map(([r, c]) => `${ops.type} d${r}${c} = ${ops.load(`p${r}${c}`)};`),
    ...sandwich(ops, BT4, 'd', 'u', 'v'),
    ...grid(6, 6).map(([r, c]) => placed(ops).store(`o${r * 6 + c}`, `v${r}${c}`)),
  ];
  const output = (ops: Ops) => [
    ...grid(6, 6).map(([r, c]) => `${ops.type} m${r}${c} = ${ops.load(`p${r * 6 + c}`)};`),
    ...sandwich(ops, AT4, 'm', 's', 'y'),
    ...grid(4, 4).map(([r, c]) => ops.store(`q${r}${c}`, `y${r}${c}`)),
  ];
  const gradient = (ops: Ops) => [
    offset,
    ...grid(4, 4).map(([r, c]) => `${ops.type} g${r}${c} = ${ops.load(`p${r}${c}`)};`),
    ...sandwich(ops, A4, 'g', 'e', 'z'),
    ...grid(6, 6).map(([r, c]) => placed(ops).store(`o${r * 6 + c}`, `z${r}${c}`)),
  ];
  // dx[patch] += B dV Bᵀ: patches overlap (stride 4, size 6), so every tile adds into dx.
  const inputGradient = (ops: Ops) => [
    ...grid(6, 6).map(([r, c]) => `${ops.type} e${r}${c} = ${ops.load(`p${r * 6 + c}`)};`),
    ...sandwich(ops, B4, 'e', 'h', 'w'),
    ...grid(6, 6).map(([r, c]) =>
      ops.store(`q${r}${c}`, ops.add(ops.load(`q${r}${c}`), `w${r}${c}`)),
    ),
  ];
  const filter = (ops: Ops) => [
    ...grid(3, 3).map(([r, c]) => `${ops.type} g${r}${c} = ${ops.load(`p${r * 3 + c}`)};`),
    ...sandwich(ops, G4, 'g', 'h', 'u'),
    ...grid(6, 6).map(([r, c]) => ops.store(`o${r * 6 + c}`, `u${r}${c}`)),
  ];
  const filterGradient = (ops: Ops) => [
    ...grid(6, 6).map(([r, c]) => `${ops.type} d${r}${c} = ${ops.load(`p${r * 6 + c}`)};`),
    ...sandwich(ops, GT4, 'd', 'h', 'w'),
    ...grid(3, 3).map(([r, c]) => ops.store(`o${r * 3 + c}`, `w${r}${c}`)),
  ];
  const spaced = (count: number, name: string, base: string, ptr: string) =>
    Array.from({ length: count }, (_, k) => `  ${ptr} *${name}${k} = ${base} + ${k} * cc;`);
  const indent = (lines: string[]) => lines.map((l) => l.slice(2));
  const patchPointers = [
    ...Array.from(
      { length: 6 },
      (_, i) => `    const int yin${i} = y0 + ${i} >= 0 && y0 + ${i} < h;`,
    ),
    ...Array.from(
      { length: 6 },
      (_, i) => `    const int xin${i} = x0 + ${i} >= 0 && x0 + ${i} < w;`,
    ),
    ...grid(6, 6).map(
      ([r, c]) =>
        `    float *q${r}${c} = yin${r} && xin${c} ? dx + ((b * h + y0 + ${r}) * w + x0 + ${c}) * c : dump;`,
    ),
  ];
  const outputPointers = grid(4, 4).map(
    ([r, c]) =>
      `    float *q${r}${c} = ty4 + ${r} < oh && tx4 + ${c} < ow ? y + ((b * oh + ty4 + ${r}) * ow + tx4 + ${c}) * co : dump;`,
  );
  const laidOut = (name: string, base: string) =>
    Array.from(
      { length: 36 },
      (_, k) => `    float *${name}${k} = ${base} + (t - t0) * tile + ${k} * plane;`,
    );
  const planes = (name: string, base: string, channels: string, ptr: string) =>
    Array.from(
      { length: 36 },
      (_, k) =>
        `    ${ptr} *${name}${k} = ${base} + (t - t0) * ${channels} + ${k} * stride * ${channels};`,
    );
  const pointers = (size: number, ptr: string, map: string, ch: string, h: string, w: string) => [
    ...Array.from(
      { length: size },
      (_, i) => `    const int yin${i} = y0 + ${i} >= 0 && y0 + ${i} < ${h};`,
    ),
    ...Array.from(
      { length: size },
      (_, i) => `    const int xin${i} = x0 + ${i} >= 0 && x0 + ${i} < ${w};`,
    ),
    ...grid(size, size).map(
      ([r, c]) =>
        `    const float *${ptr}${r}${c} = yin${r} && xin${c} ? ${map} + ((b * ${h} + y0 + ${r}) * ${w} + x0 + ${c}) * ${ch} : zero;`,
    ),
  ];
  return [
    '// Generated by generate-winograd.ts; do not edit.',
    '//',
    '// Winograd F(4×4, 3×3) transforms for a stride-1 3×3 convolution (kernels/winograd4.ts), tiles',
    '// t0 ≤ t < t1 of the n·th·tw output tiles (4×4 outputs each, tile t = (b·th + ty)·tw + tx).',
    '// k = 6·row + col numbers the 36 transformed matrices; pixels outside a map read `zero` (enough',
    '// zeros for a row of channels), outputs past its edge go to `dump`. M (winograd4_output) is',
    '// [36][stride][co]. V and G are written where the GEMM reads them: element (t, c) of matrix k',
    '// at k·plane + (t − t0)·tile + ⌊c/4⌋/groups·panel + ⌊c/4⌋ mod groups·4 + c mod 4, which is',
    "// [36][stride][c] (tile = c, groups ≥ c/4), or gemm.c's packed A panels of 4 channels",
    '// (tile 4, groups 1, panel 4·tiles) or packed B panels of 8 (tile 8, groups 2, panel 8·tiles).',
    '// winograd4_input: V[k][t − t0][c] = (Bᵀ d B)[k] for the 6×6 input patch d at rows',
    '//   4·ty − pt + 0..5, columns 4·tx − pl + 0..5 of image b.',
    '// winograd4_output: y[b, 4·ty + i, 4·tx + j, o] = (Aᵀ M A)[i][j] from M[k][t − t0][o].',
    '// winograd4_gradient: G[k][t − t0][o] = (A dY Aᵀ)[k] for the 4×4 tile of dy at rows 4·ty + 0..3,',
    '//   columns 4·tx + 0..3: the filter gradient is then Σ_t V[k][t]ᵀ · G[k][t], carried back by',
    "//   the filter transform's transpose.",
    '// winograd4_input_gradient: dx[patch of tile t] += (B dV Bᵀ) for dV[k][t − t0][c] laid out like',
    '//   M, the 6×6 patch as winograd4_input reads it; dx must start at 0, and pixels outside the map',
    '//   go to `dump` (c floats of scratch).',
    '// winograd4_filter: U[k][e] = (G g Gᵀ)[k] for the 3×3 filter g[i][j] = f[(3·i + j)·cc + e], e',
    '//   running over the cc = ci·co channel pairs; winograd4_filter_gradient: dw = Gᵀ dU G back.',
    `//   Bᵀ = ${JSON.stringify(BT4)}`,
    `//   Aᵀ = ${JSON.stringify(AT4)}`,
    '//   G = [[1/4,0,0],[-1/6,-1/6,-1/6],[-1/6,1/6,-1/6],[1/24,1/12,1/6],[1/24,-1/12,1/6],[0,0,1]]',
    '#include <wasm_simd128.h>',
    '',
    '#include "simd.h"',
    '',
    'void EXPORT(winograd4_input)(const float *restrict x, const float *restrict zero,',
    '                             float *restrict v, int h, int w, int c, int th, int tw, int pt,',
    '                             int pl, int t0, int t1, int plane, int tile, int groups,',
    '                             int panel) {',
    '  if (t0 >= t1 || c <= 0) return;',
    '  const int per = th * tw;',
    '  for (int t = t0; t < t1; t++) {',
    '    const int b = t / per;',
    '    const int y0 = (t % per / tw) * 4 - pt;',
    '    const int x0 = (t % per % tw) * 4 - pl;',
    ...pointers(6, 'p', 'x', 'c', 'h', 'w'),
    ...laidOut('o', 'v'),
    ...channelLoops('c', input),
    '  }',
    '}',
    '',
    'void EXPORT(winograd4_output)(const float *restrict m, float *restrict y, float *restrict dump,',
    '                              int oh, int ow, int co, int th, int tw, int t0, int t1,',
    '                              int stride) {',
    '  if (t0 >= t1 || co <= 0) return;',
    '  const int per = th * tw;',
    '  for (int t = t0; t < t1; t++) {',
    '    const int b = t / per;',
    '    const int ty4 = (t % per / tw) * 4;',
    '    const int tx4 = (t % per % tw) * 4;',
    ...outputPointers,
    ...planes('p', 'm', 'co', 'const float'),
    ...channelLoops('co', output),
    '  }',
    '}',
    '',
    'void EXPORT(winograd4_gradient)(const float *restrict dy, const float *restrict zero,',
    '                                float *restrict g, int oh, int ow, int co, int th, int tw,',
    '                                int t0, int t1, int plane, int tile, int groups,',
    '                                int panel) {',
    '  if (t0 >= t1 || co <= 0) return;',
    '  const int per = th * tw;',
    '  for (int t = t0; t < t1; t++) {',
    '    const int b = t / per;',
    '    const int y0 = (t % per / tw) * 4;',
    '    const int x0 = (t % per % tw) * 4;',
    ...pointers(4, 'p', 'dy', 'co', 'oh', 'ow'),
    ...laidOut('o', 'g'),
    ...channelLoops('co', gradient),
    '  }',
    '}',
    '',
    'void EXPORT(winograd4_input_gradient)(const float *restrict dv, float *restrict dx,',
    '                                      float *restrict dump, int h, int w, int c, int th,',
    '                                      int tw, int pt, int pl, int t0, int t1, int stride) {',
    '  if (t0 >= t1 || c <= 0) return;',
    '  const int per = th * tw;',
    '  for (int t = t0; t < t1; t++) {',
    '    const int b = t / per;',
    '    const int y0 = (t % per / tw) * 4 - pt;',
    '    const int x0 = (t % per % tw) * 4 - pl;',
    ...patchPointers,
    ...planes('p', 'dv', 'c', 'const float'),
    ...channelLoops('c', inputGradient),
    '  }',
    '}',
    '',
    'void EXPORT(winograd4_filter)(const float *restrict f, float *restrict u, int cc) {',
    ...spaced(9, 'p', 'f', 'const float'),
    ...spaced(36, 'o', 'u', 'float'),
    ...indent(channelLoops('cc', filter)),
    '}',
    '',
    'void EXPORT(winograd4_filter_gradient)(const float *restrict du, float *restrict dw, int cc) {',
    ...spaced(36, 'p', 'du', 'const float'),
    ...spaced(9, 'o', 'dw', 'float'),
    ...indent(channelLoops('cc', filterGradient)),
    '}',
    '',
  ].join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const [file, source] of [
    [WINOGRAD_C, winogradSource()],
    [WINOGRAD4_C, winograd4Source()],
  ] as const) {
    writeFileSync(file, source);
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  }
}
