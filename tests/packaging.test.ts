import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { ClientRequestSchema } from '../src-main/contract/api';
import { REQUEST_TYPES } from '../src-main/contract/channels';

const repo = path.join(import.meta.dirname, '..');

/**
 * What electron-builder.yml promises, read from the file; packaging/packed-app.test.ts packs the
 * app with it and checks the result.
 */
const BuilderConfigSchema = z.object({
  appId: z.string().regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/),
  productName: z.literal('MNIST Studio'),
  files: z
    .array(z.string())
    .refine((f) => f.includes('out/**'), 'files must include the built app (out/**)'),
  asar: z.literal(true),
  asarUnpack: z
    .array(z.string())
    .refine(
      (a) => a.includes('**/*.node') && a.includes('**/*.wasm'),
      'native .node and .wasm files must be unpacked',
    ),
  linux: z.object({
    target: z.array(z.string()).refine((t) => t.includes('AppImage') && t.includes('deb')),
  }),
  mac: z.object({ target: z.array(z.string()).refine((t) => t.includes('dmg')) }),
  win: z.object({ target: z.array(z.string()).refine((t) => t.includes('nsis')) }),
});

// electron-builder's own modules, resolved the way electron-builder itself resolves them.
const fromBuilder = createRequire(createRequire(import.meta.url).resolve('electron-builder'));
const fromAppBuilder = createRequire(fromBuilder.resolve('app-builder-lib'));
const { validateConfiguration } = fromBuilder('app-builder-lib/out/util/config/config.js') as {
  validateConfiguration: (config: unknown, log: { isEnabled: boolean }) => Promise<void>;
};
const { PlatformPackager } = fromBuilder('app-builder-lib') as {
  PlatformPackager: {
    prototype: { generateFuseConfig: (fuses: unknown) => Promise<Record<number, boolean>> };
  };
};
const { FuseV1Options } = fromAppBuilder('@electron/fuses') as {
  FuseV1Options: Record<string, number>;
};

function builderConfig(): Record<string, unknown> {
  return parse(readFileSync(path.join(repo, 'electron-builder.yml'), 'utf8'));
}

describe('packaging', () => {
  it('electron-builder.yml declares every target and unpacks native and WASM binaries', () => {
    expect(() => BuilderConfigSchema.parse(builderConfig())).not.toThrow();
  });

  it("electron-builder.yml passes electron-builder's own schema", async () => {
    await expect(
      validateConfiguration(builderConfig(), { isEnabled: false }),
    ).resolves.toBeUndefined();
  });

  it('the packaged binary gets the fuses that close Node, inspect and non-asar loading', async () => {
    // The fuse wire electron-builder would flip, computed by electron-builder's own code.
    const wire = await PlatformPackager.prototype.generateFuseConfig(builderConfig().electronFuses);
    const fuse = (name: string) => wire[FuseV1Options[name]!];
    expect(fuse('RunAsNode')).toBe(false);
    expect(fuse('EnableNodeOptionsEnvironmentVariable')).toBe(false);
    expect(fuse('EnableNodeCliInspectArguments')).toBe(false);
    expect(fuse('EnableEmbeddedAsarIntegrityValidation')).toBe(true);
    expect(fuse('OnlyLoadAppFromAsar')).toBe(true);
    expect(fuse('EnableCookieEncryption')).toBe(true);
    expect(fuse('GrantFileProtocolExtraPrivileges')).toBe(false);
  });

  it('package.json points Electron at the built main process and keeps native and GPU backends optional', () => {
    const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8'));
    expect(pkg.main).toBe('./out/main/index.js');
    expect(Object.keys(pkg.optionalDependencies).sort()).toEqual([
      '@tensorflow/tfjs-backend-webgpu',
      '@tensorflow/tfjs-node',
      '@tensorflow/tfjs-node-gpu',
      'webgpu',
    ]);
    for (const optional of Object.keys(pkg.optionalDependencies))
      expect(pkg.dependencies[optional]).toBeUndefined();
    expect(pkg.scripts.dist).toContain('electron-builder');
  });

  it('the preload exposes exactly the contract: one function per request type', () => {
    const fromSchema = ClientRequestSchema.options.map((o) => o.shape.type.value);
    expect([...REQUEST_TYPES].sort()).toEqual([...fromSchema].sort());
  });
});

/**
 * npm's own range semantics (`semver`, which npm uses for EBADENGINE), resolved from the dev
 * toolchain that already installs it rather than added as one more dependency.
 */
const semver = createRequire(import.meta.url)('semver') as {
  subset(sub: string, dom: string): boolean;
  satisfies(version: string, range: string): boolean;
  minVersion(range: string): { version: string } | null;
  compare(a: string, b: string): number;
  Range: new (range: string) => { set: { semver: { version?: string } }[][] };
};

interface LockEntry {
  engines?: { node?: string };
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const lockPackages = (
  JSON.parse(readFileSync(path.join(repo, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  }
).packages;

const packageName = (at: string) => at.slice(at.lastIndexOf('node_modules/') + 13);

/** Where `dep`, required by the package at `from`, is installed (Node's lookup upwards). */
function installedAt(from: string, dep: string): string | null {
  let base = from;
  for (;;) {
    const candidate = `${base ? `${base}/` : ''}node_modules/${dep}`;
    if (lockPackages[candidate]) return candidate;
    if (!base) return null;
    const up = base.lastIndexOf('/node_modules/');
    base = up < 0 ? '' : base.slice(0, up);
  }
}

/** Every installed package reachable from the project without passing through `skip`. */
function reachable(skip: Set<string>): Set<string> {
  const seen = new Set<string>();
  const todo = [''];
  while (todo.length > 0) {
    const at = todo.pop()!;
    const entry = lockPackages[at]!;
    const deps = {
      ...entry.dependencies,
      ...entry.optionalDependencies,
      ...entry.peerDependencies,
      ...(at === '' ? entry.devDependencies : {}),
    };
    for (const dep of Object.keys(deps)) {
      const found = skip.has(dep) ? null : installedAt(at, dep);
      if (found && !seen.has(found)) {
        seen.add(found);
        todo.push(found);
      }
    }
  }
  return seen;
}

/** The lowest Node version every range accepts (it is always one of their bounds). */
function lowestAccepted(ranges: string[]): string {
  const bounds = new Set<string>();
  for (const range of ranges)
    for (const comparators of new semver.Range(range).set)
      for (const { semver: bound } of comparators) if (bound.version) bounds.add(bound.version);
  const lowest = [...bounds]
    .sort(semver.compare)
    .find((version) => ranges.every((range) => semver.satisfies(version, range)));
  if (!lowest) throw new Error('no Node version satisfies every package');
  return lowest;
}

describe('Node versions', () => {
  const engines = (
    JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as {
      engines: { node: string };
    }
  ).engines.node;
  const readme = readFileSync(path.join(repo, 'README.md'), 'utf8');
  const everything = reachable(new Set());
  // What the desktop app alone needs: Electron (its installer) and electron-builder.
  const withoutElectron = reachable(new Set(['electron', 'electron-builder']));
  const nodeRange = (at: string) => lockPackages[at]!.engines?.node;
  const ranges = (packages: Iterable<string>) =>
    [...packages].map(nodeRange).filter((r): r is string => r !== undefined);
  const stated = (use: string) =>
    new RegExp(`^- \\*\\*${use}\\*\\*[^\n]*?Node\\.js \`([^\`]+)\``, 'm').exec(readme)?.[1];

  it('engines accepts only Node versions every package outside Electron’s toolchain accepts', () => {
    for (const at of withoutElectron) {
      const range = nodeRange(at);
      if (range) expect(semver.subset(engines, range), `${at}: ${range}`).toBe(true);
    }
    // …and is no stricter than they are.
    expect(semver.minVersion(engines)?.version).toBe(lowestAccepted(ranges(withoutElectron)));
  });

  it("README states engines for serve mode, CLI and tests, and every package's range for the app", () => {
    expect(stated('Serve mode, CLI and tests')).toBe(engines);
    const desktop = stated('Desktop app');
    expect(desktop).toBeDefined();
    for (const at of everything) {
      const range = nodeRange(at);
      if (range) expect(semver.subset(desktop!, range), `${at}: ${range}`).toBe(true);
    }
    expect(semver.minVersion(desktop!)?.version).toBe(lowestAccepted(ranges(everything)));
    expect(semver.subset(desktop!, engines)).toBe(true);
  });

  it('README names exactly the packages npm warns about within engines, all Electron’s toolchain', () => {
    const warned = [...everything].filter((at) => {
      const range = nodeRange(at);
      return range !== undefined && !semver.subset(engines, range);
    });
    for (const at of warned) expect(withoutElectron.has(at), at).toBe(false);
    const sentence = /`EBADENGINE` for ([^:]+):/.exec(readme)?.[1] ?? '';
    const named = [...sentence.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    expect(named.sort()).toEqual([...new Set(warned.map(packageName))].sort());
  });
});
