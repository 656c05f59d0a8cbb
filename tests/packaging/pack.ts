import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * `electron-builder --dir` without the network: Electron's own binary cannot be downloaded here,
 * so the app is packed around a stand-in Electron distribution, with everything else the
 * packager does (file selection, node_modules collection, asar and asarUnpack, fuses) for real.
 */

export const repo = path.join(import.meta.dirname, '../..');

// electron-builder's own modules, resolved the way electron-builder itself resolves them: the
// same copies of @electron/asar and @electron/fuses that packed the app read it back.
const fromBuilder = createRequire(createRequire(import.meta.url).resolve('electron-builder'));
const fromAppBuilder = createRequire(fromBuilder.resolve('app-builder-lib'));

/** One entry of an asar header: a file (packed at `offset`, or `unpacked` beside the archive). */
export interface AsarEntry {
  size?: number;
  offset?: string;
  unpacked?: boolean;
  files?: Record<string, unknown>;
  link?: string;
}
export const asar = fromAppBuilder('@electron/asar') as {
  listPackage(archive: string, options: { isPack: boolean }): string[];
  statFile(archive: string, filename: string, followLinks?: boolean): AsarEntry;
  extractAll(archive: string, dest: string): void;
};

export const fuses = fromAppBuilder('@electron/fuses') as {
  FuseV1Options: Record<string, number>;
  getCurrentFuseWire(electronPath: string): Promise<Record<number, number>>;
};

/** Fuse states as bytes in the binary (@electron/fuses' FuseState). */
export const FUSE = { disabled: '0'.charCodeAt(0), enabled: '1'.charCodeAt(0) } as const;

/**
 * A stand-in for Electron's Linux binary that electron-builder can flip fuses in: a shell script
 * that exits, then the fuse wire where Electron keeps it (after @electron/fuses' sentinel:
 * version 1, the wire's length, one byte per fuse). The wire holds Electron's defaults (RunAsNode,
 * NodeOptions, CLI inspect and file:// privileges on; cookie encryption, asar integrity,
 * asar-only and the browser V8 snapshot off), so every fuse the config flips is seen to change.
 * Without the sentinel electron-builder fails ("Could not find sentinel"), and a test that
 * dropped `electronFuses` instead would no longer pack the app as it ships.
 */
export const STAND_IN_WIRE = '10110001';

function writeStandInElectron(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const binary = path.join(dir, 'electron');
  writeFileSync(
    binary,
    Buffer.concat([
      Buffer.from('#!/bin/sh\nexit 0\n'),
      Buffer.from('dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX'),
      Buffer.from([1, STAND_IN_WIRE.length]),
      Buffer.from(STAND_IN_WIRE),
    ]),
  );
  chmodSync(binary, 0o755);
}

export interface PackedApp {
  /** dist/linux-unpacked: the folder the AppImage and deb are made from. */
  appOutDir: string;
  /** The packaged executable (the stand-in, with the config's fuses flipped). */
  executable: string;
  /** resources/app.asar; its unpacked files are in app.asar.unpacked beside it. */
  archive: string;
}

const execFileAsync = promisify(execFile);

/** Packs the built app (out/, from `electron-vite build`) into `outDir` with the repo's config. */
export async function packApp(outDir: string): Promise<PackedApp> {
  if (!existsSync(path.join(repo, 'out/main/index.js')))
    throw new Error(
      'out/main/index.js is missing: run `electron-vite build` first (npm test does)',
    );
  const electronDist = path.join(outDir, 'electron-dist');
  writeStandInElectron(electronDist);
  const electronVersion = (
    JSON.parse(
      readFileSync(createRequire(import.meta.url).resolve('electron/package.json'), 'utf8'),
    ) as { version: string }
  ).version;
  const output = path.join(outDir, 'dist');
  const cli = fromBuilder.resolve('electron-builder/cli.js');
  await execFileAsync(
    process.execPath,
    [
      cli,
      '--dir',
      '--linux',
      `--${process.arch}`,
      '--publish',
      'never',
      // electron-builder.yml is read as usual; these only replace what would need the network.
      `--config.electronDist=${electronDist}`,
      // Normally read from the downloaded zip's version file.
      `--config.electronVersion=${electronVersion}`,
      // A rebuild compiles native modules against Electron's headers, downloaded first. None of
      // ours needs it: dawn.node and tfjs-node ship prebuilt N-API binaries.
      '--config.npmRebuild=false',
      `--config.directories.output=${output}`,
    ],
    {
      cwd: repo,
      // A download electron-builder still tried would fail (ECONNREFUSED), never reach out.
      env: {
        ...process.env,
        HTTP_PROXY: 'http://127.0.0.1:9',
        HTTPS_PROXY: 'http://127.0.0.1:9',
        ELECTRON_GET_USE_PROXY: '1',
        ELECTRON_BUILDER_CACHE: path.join(outDir, 'cache'),
      },
      maxBuffer: 64 * 1024 * 1024,
    },
  ).catch((error: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(
      `electron-builder failed:\n${error.stdout ?? ''}${error.stderr ?? error.message}`,
    );
  });
  const appOutDir = path.join(
    output,
    `linux-${process.arch === 'x64' ? '' : `${process.arch}-`}unpacked`,
  );
  const packageName = (
    JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { name: string }
  ).name;
  return {
    appOutDir,
    executable: path.join(appOutDir, packageName),
    archive: path.join(appOutDir, 'resources/app.asar'),
  };
}

/**
 * The app as Electron's processes see it, on disk for plain Node (which cannot read an asar):
 * the archive's packed files, plus its unpacked ones copied from app.asar.unpacked, where
 * Electron would read them. Only files the archive lists arrive: a file electron-builder left
 * out of the package is missing here too.
 */
export function extractApp(archive: string, dest: string): string {
  // Node looks for packages in every node_modules above the importing file: one above `dest`
  // would supply what the package lacks, and the test would pass without it.
  for (let dir = path.dirname(dest); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'node_modules')))
      throw new Error(`${dir} has a node_modules folder: extract the app somewhere else`);
    if (path.dirname(dir) === dir) break;
  }
  asar.extractAll(archive, dest);
  return dest;
}

/**
 * The entries the packaged main process starts, as it names them: electron-vite turns each
 * `?modulePath` import into `join(import.meta.dirname, "./chunks/<name>-<hash>.js")`.
 */
export function modulePaths(mainDir: string): string[] {
  const main = readFileSync(path.join(mainDir, 'index.js'), 'utf8');
  return [...main.matchAll(/join\(import\.meta\.dirname, "(\.\/chunks\/[^"]+\.js)"\)/g)].map((m) =>
    path.join(mainDir, m[1]!),
  );
}
