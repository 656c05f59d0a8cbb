/**
 * Rebuilds kernels-wasm.ts from kernels.ll: `npx tsx src-main/engine/fused/build-kernels.ts`.
 *
 * Needs LLVM's opt and llc (Debian `llvm`), only when kernels.ll changes; the app and the tests
 * use the generated file. There is no wasm linker here, so llc's relocatable object is turned
 * into a module by hand: it may import nothing but its linear memory (which becomes the wasm
 * backend's) and must need no relocations, and every defined function is exported by name.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SOURCE = path.join(here, 'kernels.ll');
const TARGET = path.join(here, 'wasm.ts');
const FEATURES = '+simd128,+bulk-memory';

export function sourceHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

class Reader {
  pos = 0;
  constructor(readonly bytes: Uint8Array) {}
  byte(): number {
    if (this.pos >= this.bytes.length) throw new Error('wasm object: unexpected end');
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

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

const encodeName = (s: string): number[] => {
  const b = [...new TextEncoder().encode(s)];
  return [...leb(b.length), ...b];
};

interface Section {
  id: number;
  name: string | null;
  payload: Uint8Array;
}

function sections(bytes: Uint8Array): Section[] {
  const r = new Reader(bytes);
  r.pos = 8; // magic + version
  const out: Section[] = [];
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.leb();
    const start = r.pos;
    const name = id === 0 ? r.name() : null;
    out.push({ id, name, payload: bytes.subarray(id === 0 ? r.pos : start, start + size) });
    r.pos = start + size;
  }
  return out;
}

/** Names of the defined functions, by function index, from the object's symbol table. */
function functionNames(linking: Uint8Array): Map<number, string> {
  const r = new Reader(linking);
  if (r.leb() !== 2) throw new Error('wasm object: unknown linking section version');
  const names = new Map<number, string>();
  while (r.pos < linking.length) {
    const type = r.byte();
    const size = r.leb();
    const end = r.pos + size;
    if (type === 8) {
      const count = r.leb();
      for (let i = 0; i < count; i++) {
        const kind = r.byte();
        const flags = r.leb();
        const undefinedSym = (flags & 0x10) !== 0;
        if (kind === 1) {
          r.name();
          if (!undefinedSym) for (let j = 0; j < 3; j++) r.leb(); // segment, offset, size
        } else if (kind === 3) {
          r.leb();
        } else {
          const index = r.leb();
          const hasName = !undefinedSym || (flags & 0x40) !== 0;
          const name = hasName ? r.name() : '';
          if (kind === 0 && !undefinedSym) names.set(index, name);
        }
      }
    }
    r.pos = end;
  }
  return names;
}

function checkImports(payload: Uint8Array): void {
  const r = new Reader(payload);
  const count = r.leb();
  for (let i = 0; i < count; i++) {
    const mod = r.name();
    const field = r.name();
    const kind = r.byte();
    if (kind !== 2 || mod !== 'env' || field !== '__linear_memory') {
      throw new Error(`kernels.ll needs an import (${mod}.${field}); only the memory is provided`);
    }
    const flags = r.byte();
    r.leb();
    if (flags & 1) r.leb();
  }
}

export function objectToModule(object: Uint8Array): Uint8Array {
  const all = sections(object);
  const relocs = all.filter((s) => s.name?.startsWith('reloc.'));
  if (relocs.length > 0) throw new Error('kernels.ll compiled to code that needs relocations');
  const linking = all.find((s) => s.name === 'linking');
  if (!linking) throw new Error('wasm object: no linking section');
  const imports = all.find((s) => s.id === 2);
  if (imports) checkImports(imports.payload);
  const names = functionNames(linking.payload);
  const exportPayload = [...leb(names.size)];
  for (const [index, name] of [...names].sort((a, b) => a[0] - b[0]))
    exportPayload.push(...encodeName(name), 0, ...leb(index));

  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const emit = (id: number, payload: ArrayLike<number>) =>
    out.push(id, ...leb(payload.length), ...Array.from(payload));
  for (const s of all.filter((x) => x.id !== 0)) {
    // The export section (7) goes between the function (3) and code (10) sections.
    if (s.id === 10) emit(7, exportPayload);
    emit(s.id, s.payload);
  }
  return new Uint8Array(out);
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) throw new Error(`${cmd}: ${r.error.message} (install LLVM: apt-get install llvm)`);
  if (r.status !== 0) throw new Error(`${cmd} failed:\n${r.stderr}`);
}

export function compileKernels(): Uint8Array {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fused-kernels-'));
  try {
    const bc = path.join(dir, 'kernels.bc');
    const obj = path.join(dir, 'kernels.o');
    run('opt', ['-O3', `-mattr=${FEATURES}`, SOURCE, '-o', bc]);
    run('llc', ['-O3', `-mattr=${FEATURES}`, '-filetype=obj', bc, '-o', obj]);
    return objectToModule(readFileSync(obj));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const wasm = compileKernels();
  const base64 = Buffer.from(wasm).toString('base64');
  const lines = base64.match(/.{1,96}/g) ?? [];
  writeFileSync(
    TARGET,
    [
      '// Generated by build-kernels.ts from kernels.ll; do not edit.',
      'export const KERNELS_SOURCE_SHA256 =',
      `  '${sourceHash(readFileSync(SOURCE, 'utf8'))}';`,
      'export const SIMD_WASM_BASE64 =',
      lines.map((l) => `  '${l}'`).join(' +\n') + ';',
      '',
    ].join('\n'),
  );
  console.log(`wrote ${path.relative(process.cwd(), TARGET)} (${wasm.length} bytes of wasm)`);
}
