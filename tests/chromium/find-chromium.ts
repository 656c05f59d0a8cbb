import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Where the e2e tests find a Chromium to drive with playwright-core (which downloads none):
 * CHROMIUM_PATH, then the usual command names on PATH, then Playwright's own browser cache
 * (`npx playwright install chromium` puts one there).
 */

/** What the lookup reads, passed in so the tests can fake a machine. */
export interface Machine {
  env: Readonly<Record<string, string | undefined>>;
  platform: NodeJS.Platform;
  home: string;
}

export type ChromiumLookup = { path: string; via: string } | { problem: string };

export const PATH_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

/** One line: where we looked and how to get a browser there. */
export function notFound(machine: Machine): string {
  const cache = playwrightCacheDir(machine);
  return (
    `No Chromium for the e2e tests (none on PATH as ${PATH_NAMES.join(', ')}` +
    `${cache ? `, none in Playwright's cache ${cache}` : ''}, CHROMIUM_PATH unset): ` +
    'install one with `apt-get install chromium` (Debian, Ubuntu) or ' +
    '`npx playwright install chromium`, or set CHROMIUM_PATH to a Chromium or Chrome executable.'
  );
}

export const thisMachine = (): Machine => ({
  env: process.env,
  platform: process.platform,
  home: os.homedir(),
});

export function findChromium(machine: Machine = thisMachine()): ChromiumLookup {
  const { env } = machine;
  // A path the user chose that is wrong is their mistake to hear about, not a reason to quietly
  // test with some other browser.
  if (env.CHROMIUM_PATH) {
    return isExecutable(env.CHROMIUM_PATH)
      ? { path: env.CHROMIUM_PATH, via: 'CHROMIUM_PATH' }
      : {
          problem: `CHROMIUM_PATH is ${env.CHROMIUM_PATH}, which is not an executable file: point it at a Chromium or Chrome executable, or unset it to search PATH and Playwright's cache.`,
        };
  }
  for (const name of PATH_NAMES) {
    const found = onPath(name, machine);
    if (found) return { path: found, via: `${name} on PATH` };
  }
  const cached = inPlaywrightCache(machine);
  if (cached) return { path: cached, via: "Playwright's cache" };
  return { problem: notFound(machine) };
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function onPath(name: string, { env, platform }: Machine): string | null {
  const delimiter = platform === 'win32' ? ';' : ':';
  const dirs = (env.PATH ?? env.Path ?? '').split(delimiter).filter(Boolean);
  // Windows finds `chrome` as chrome.exe; X_OK there means only that the file exists.
  const extensions =
    platform === 'win32' ? (env.PATHEXT ?? '.COM;.EXE;.BAT;.CMD').split(';').filter(Boolean) : [''];
  for (const dir of dirs) {
    for (const ext of extensions) {
      const file = path.join(dir, name + ext.toLowerCase());
      if (isExecutable(file)) return file;
    }
  }
  return null;
}

/** Playwright's cache folder, as playwright-core computes it for each platform. */
export function playwrightCacheDir({ env, platform, home }: Machine): string | null {
  if (env.PLAYWRIGHT_BROWSERS_PATH && env.PLAYWRIGHT_BROWSERS_PATH !== '0')
    return env.PLAYWRIGHT_BROWSERS_PATH;
  switch (platform) {
    case 'linux':
      return path.join(env.XDG_CACHE_HOME || path.join(home, '.cache'), 'ms-playwright');
    case 'darwin':
      return path.join(home, 'Library', 'Caches', 'ms-playwright');
    case 'win32':
      return path.join(env.LOCALAPPDATA || path.join(home, 'AppData', 'Local'), 'ms-playwright');
    default:
      return null;
  }
}

/**
 * The executable inside a `chromium-<revision>` folder: Chrome for Testing builds since
 * Playwright 1.57 (chrome-linux64, chrome-mac-arm64, chrome-win64), Chromium builds before.
 */
const CACHE_LAYOUTS: Partial<Record<NodeJS.Platform, string[][]>> = {
  linux: [
    ['chrome-linux64', 'chrome'],
    ['chrome-linux-arm64', 'chrome'],
    ['chrome-linux', 'chrome'],
  ],
  darwin: [
    [
      'chrome-mac-arm64',
      'Google Chrome for Testing.app',
      'Contents',
      'MacOS',
      'Google Chrome for Testing',
    ],
    [
      'chrome-mac-x64',
      'Google Chrome for Testing.app',
      'Contents',
      'MacOS',
      'Google Chrome for Testing',
    ],
    ['chrome-mac', 'Chromium.app', 'Contents', 'MacOS', 'Chromium'],
  ],
  win32: [
    ['chrome-win64', 'chrome.exe'],
    ['chrome-win', 'chrome.exe'],
  ],
};

function inPlaywrightCache(machine: Machine): string | null {
  const dir = playwrightCacheDir(machine);
  const layouts = CACHE_LAYOUTS[machine.platform];
  if (!dir || !layouts) return null;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return null;
  }
  // Newest revision first: an old one left behind by an earlier Playwright may no longer start.
  const revisions = entries
    .map((name) => ({ name, revision: /^chromium-(\d+)$/.exec(name)?.[1] }))
    .filter((e): e is { name: string; revision: string } => e.revision !== undefined)
    .sort((a, b) => Number(b.revision) - Number(a.revision));
  for (const { name } of revisions) {
    for (const layout of layouts) {
      const file = path.join(dir, name, ...layout);
      if (isExecutable(file)) return file;
    }
  }
  return null;
}
