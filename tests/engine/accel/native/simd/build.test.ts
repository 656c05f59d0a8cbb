import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  checkModule,
  checkObject,
  compileSimd,
  sourcesHash,
} from '../../../../../src-main/engine/accel/native/simd/build';
import {
  WINOGRAD4_C,
  WINOGRAD_C,
  winograd4Source,
  winogradSource,
} from '../../../../../src-main/engine/accel/native/simd/generate-winograd';
import {
  SIMD_RELAXED_WASM_BASE64,
  SIMD_SOURCES_SHA256,
  SIMD_WASM_BASE64,
} from '../../../../../src-main/engine/accel/native/simd/wasm';

describe('the SIMD module (native/simd)', () => {
  it('winograd.c is what generate-winograd.ts writes (rerun it after editing the generator)', () => {
    expect(readFileSync(WINOGRAD_C, 'utf8')).toBe(winogradSource());
  });

  it('winograd4.c is what generate-winograd.ts writes (rerun it after editing the generator)', () => {
    expect(readFileSync(WINOGRAD4_C, 'utf8')).toBe(winograd4Source());
  });

  it('wasm.ts was built from the sources as they are (rerun build.ts after editing them)', () => {
    expect(sourcesHash()).toBe(SIMD_SOURCES_SHA256);
  });

  it('rebuilds both builds byte for byte from the C sources', () => {
    // Debian's clang-19 and lld-19: .ci/run installs them; without them this check cannot be made.
    expect(
      spawnSync('clang-19', ['--version']).status,
      'clang-19 not found: apt-get install clang-19',
    ).toBe(0);
    expect(
      spawnSync('wasm-ld-19', ['--version']).status,
      'wasm-ld-19 not found: apt-get install lld-19',
    ).toBe(0);
    expect(Buffer.from(compileSimd('baseline')).toString('base64')).toBe(SIMD_WASM_BASE64);
    expect(Buffer.from(compileSimd('relaxed')).toString('base64')).toBe(SIMD_RELAXED_WASM_BASE64);
  });

  it('refuses objects that need more than the memory, and modules with data', () => {
    // A minimal object importing env.__stack_pointer (a global), as a function with a stack frame would.
    const name = (s: string) => [s.length, ...Buffer.from(s)];
    const importSection = [1, ...name('env'), ...name('__stack_pointer'), 3, 0x7f, 1];
    const object = Uint8Array.from([
      0,
      0x61,
      0x73,
      0x6d,
      1,
      0,
      0,
      0,
      2,
      importSection.length,
      ...importSection,
    ]);
    expect(() => checkObject('x.c', object)).toThrow(/x\.c needs env\.__stack_pointer/);
    const data = Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 11, 1, 0]);
    expect(() => checkModule(data)).toThrow(/data segments/);
    expect(() => checkModule(Buffer.from(SIMD_WASM_BASE64, 'base64'))).not.toThrow();
  });
});
