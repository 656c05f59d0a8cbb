/**
 * Rebuilds wasm.ts from the C sources here: `npx tsx src-main/engine/accel/native/simd/build.ts`.
 *
 * Needs Debian's clang-19 and lld-19 (wasm-ld-19), only when a source changes; the app and the
 * tests use the generated file, and a test rebuilds it to prove the checked-in binaries are these
 * sources. Two modules come out: SIMD128 alone, and SIMD128 with relaxed SIMD (F32X4_MADD in
 * simd.h becomes a fused multiply-add), which Chromium (so Electron) runs by default and Node 20
 * behind a flag (module.ts picks one). clang 14 emits relaxed SIMD's pre-standard opcodes, which
 * no engine accepts any more: hence 19, pinned so the bytes do not change with Debian's default.
 * The module runs on the wasm backend's own memory (it imports it), so it must own nothing in
 * that memory: every object may import only its linear memory (no stack pointer, so no stack
 * frames; no library calls) and the linked module may have no data segments.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The translation units, one per kernel family, linked into one module. */
export const SOURCES = [
  'dense.c',
  'conv-filter-grad.c',
  'conv-direct.c',
  'max-pool-grad.c',
  'winograd.c',
  'winograd4.c',
  'batch-norm.c',
  'bias-relu.c',
  'bias-relu-pool.c',
  'gemm.c',
];
/** Everything the module is built from, hashed into wasm.ts. */
const INPUTS = ['simd.h', 'relu-pool.h', ...SOURCES];
const TARGET = path.join(here, 'wasm.ts');

const CLANG = 'clang-19';
const WASM_LD = 'wasm-ld-19';

/**
 * -ffp-contract=off: the compiler fuses no multiply-add on its own, so every rounding is the one
 * the source spells out (F32X4_MADD is the only fused operation, and only where it is written).
 */
const CLANG_FLAGS = [
  '--target=wasm32',
  '-std=c17',
  '-msimd128',
  '-mbulk-memory',
  '-O3',
  '-nostdlib',
  '-ffp-contract=off',
  '-fno-math-errno',
  '-Wall',
  '-Wextra',
  '-Werror',
];
/** Exports come from the sources' export_name attributes; --strip-all drops names and producers. */
const LINK_FLAGS = ['--no-entry', '--import-memory', '--strip-all'];

export function sourcesHash(): string {
  const hash = createHash('sha256');
  for (const name of INPUTS) hash.update(`${name}\n`).update(readFileSync(path.join(here, name)));
  return hash.digest('hex');
}

class Reader {
  pos = 0;
  constructor(readonly bytes: Uint8Array) {}
  byte(): number {
    if (this.pos >= this.bytes.length) throw new Error('wasm: unexpected end');
    return this.bytes[this.pos++]!;
  }
  leb(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
      shift += 7;
    }
  }
  name(): string {
    const len = this.leb();
    const s = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + len));
    this.pos += len;
    return s;
  }
}

interface Section {
  id: number;
  payload: Uint8Array;
}

function sections(bytes: Uint8Array): Section[] {
  const r = new Reader(bytes);
  r.pos = 8; // magic + version
  const out: Section[] = [];
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.leb();
    out.push({ id, payload: bytes.subarray(r.pos, r.pos + size) });
    r.pos += size;
  }
  return out;
}

/** The (module, field) pairs a wasm binary imports. */
function imports(bytes: Uint8Array): string[] {
  const section = sections(bytes).find((s) => s.id === 2);
  if (!section) return [];
  const r = new Reader(section.payload);
  const out: string[] = [];
  for (let count = r.leb(), i = 0; i < count; i++) {
    out.push(`${r.name()}.${r.name()}`);
    const kind = r.byte();
    if (kind === 0)
      r.leb(); // function: type index
    else if (kind === 1) {
      r.byte(); // table: element type, then limits
      if (r.byte() & 1) r.leb();
      r.leb();
    } else if (kind === 2) {
      if (r.byte() & 1) r.leb(); // memory limits
      r.leb();
    } else {
      r.byte(); // global: value type, mutability
      r.byte();
    }
  }
  return out;
}

/**
 * What an object may import: its memory, and the function table clang's objects always name
 * (the module defines an empty one; nothing here calls through it).
 */
const ALLOWED_IMPORTS = new Set(['env.__linear_memory', 'env.__indirect_function_table']);

/** Throws unless the object needs nothing but its linear memory (see the top of this file). */
export function checkObject(name: string, object: Uint8Array): void {
  const extra = imports(object).filter((i) => !ALLOWED_IMPORTS.has(i));
  if (extra.length > 0) {
    throw new Error(`${name} needs ${extra.join(', ')}; only the memory is provided`);
  }
}

const DATA = 11;

/** Throws if the linked module would place data in the backend's memory. */
export function checkModule(module: Uint8Array): void {
  if (sections(module).some((s) => s.id === DATA)) {
    throw new Error('the SIMD module has data segments, which would overwrite tfjs memory');
  }
}

function run(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd });
  if (r.error)
    throw new Error(`${cmd}: ${r.error.message} (install it: apt-get install clang-19 lld-19)`);
  if (r.status !== 0) throw new Error(`${cmd} failed:\n${r.stderr}`);
}

/** The two builds of the module: SIMD128 alone, and with relaxed SIMD (see the top). */
export type SimdVariant = 'baseline' | 'relaxed';

export function compileSimd(variant: SimdVariant): Uint8Array {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'accel-simd-'));
  const flags = variant === 'relaxed' ? [...CLANG_FLAGS, '-mrelaxed-simd'] : CLANG_FLAGS;
  try {
    const objects = SOURCES.map((source) => {
      const object = source.replace(/\.c$/, '.o');
      run(CLANG, [...flags, '-c', path.join(here, source), '-o', object], dir);
      checkObject(source, readFileSync(path.join(dir, object)));
      return object;
    });
    run(WASM_LD, [...LINK_FLAGS, ...objects, '-o', 'simd.wasm'], dir);
    const module = new Uint8Array(readFileSync(path.join(dir, 'simd.wasm')));
    checkModule(module);
    return module;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const constant = (name: string, wasm: Uint8Array) => {
    const lines =
      Buffer.from(wasm)
        .toString('base64')
        .match(/.{1,96}/g) ?? [];
    // An array joined, not a chain of `+`: prettier's parser recursed once per `+` and ran out of
    // stack at ~1,000 lines.
    return [`export const ${name} = [`, ...lines.map((l) => `  '${l}',`), "].join('');"];
  };
  const baseline = compileSimd('baseline');
  const relaxed = compileSimd('relaxed');
  writeFileSync(
    TARGET,
    [
      `// Generated by build.ts from ${INPUTS.join(', ')}; do not edit.`,
      'export const SIMD_SOURCES_SHA256 =',
      `  '${sourcesHash()}';`,
      ...constant('SIMD_WASM_BASE64', baseline),
      ...constant('SIMD_RELAXED_WASM_BASE64', relaxed),
      '',
    ].join('\n'),
  );
  console.log(
    `wrote ${path.relative(process.cwd(), TARGET)} (${baseline.length} + ${relaxed.length} bytes of wasm)`,
  );
}
