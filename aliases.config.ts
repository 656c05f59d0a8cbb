import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Alias } from 'vite';

interface PathsConfig {
  compilerOptions: { paths: Record<string, [string]> };
}

/**
 * The renderer's aliases for code it shares with main ($contract/*, $shared/*), as Vite
 * aliases for the renderer build and the tests. Read from tsconfig.paths.json, which both
 * tsconfigs extend, so the type checker, svelte-check, eslint and the bundler resolve one list.
 */
export function sharedAliases(): Alias[] {
  const file = resolve(import.meta.dirname, 'tsconfig.paths.json');
  const { paths } = (JSON.parse(readFileSync(file, 'utf8')) as PathsConfig).compilerOptions;
  return Object.entries(paths).map(([pattern, [target]]) => {
    const escaped = pattern.replace(/[$.]/g, '\\$&');
    const absolute = resolve(import.meta.dirname, target);
    return pattern.endsWith('/*')
      ? {
          find: new RegExp(`^${escaped.slice(0, -1)}(.*)$`),
          replacement: `${absolute.slice(0, -1)}$1`,
        }
      : { find: new RegExp(`^${escaped}$`), replacement: absolute };
  });
}
