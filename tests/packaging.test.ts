import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { ClientRequestSchema } from '../src-main/contract/api';
import { REQUEST_TYPES } from '../src-main/contract/channels';

const repo = path.join(import.meta.dirname, '..');

/** electron-builder cannot run here (it downloads Electron), so its config is checked instead. */
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

  it('package.json points Electron at the built main process and keeps native TensorFlow optional', () => {
    const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8'));
    expect(pkg.main).toBe('./out/main/index.js');
    expect(Object.keys(pkg.optionalDependencies)).toEqual([
      '@tensorflow/tfjs-node',
      '@tensorflow/tfjs-node-gpu',
    ]);
    expect(pkg.dependencies['@tensorflow/tfjs-node']).toBeUndefined();
    expect(pkg.scripts.dist).toContain('electron-builder');
  });

  it('the preload exposes exactly the contract: one function per request type', () => {
    const fromSchema = ClientRequestSchema.options.map((o) => o.shape.type.value);
    expect([...REQUEST_TYPES].sort()).toEqual([...fromSchema].sort());
  });
});
