import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers';
import { findChromium, type Machine } from './find-chromium';

const root = tempDir('find-chromium-');
let made = 0;

/** A fresh folder under this file's temp dir. */
function folder(name: string): string {
  const dir = path.join(root, `${made++}-${name}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A stub file at dir/...parts, executable unless said otherwise. */
function stub(dir: string, parts: string[], executable = true): string {
  const file = path.join(dir, ...parts);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, '#!/bin/sh\n');
  chmodSync(file, executable ? 0o755 : 0o644);
  return file;
}

const linux = (env: Record<string, string>, home = folder('empty-home')): Machine => ({
  env,
  platform: 'linux',
  home,
});

describe('findChromium', () => {
  it('takes CHROMIUM_PATH first, over anything on PATH', () => {
    const bin = folder('bin');
    stub(bin, ['chromium']);
    const mine = stub(folder('mine'), ['my-chrome']);
    expect(findChromium(linux({ CHROMIUM_PATH: mine, PATH: bin }))).toEqual({
      path: mine,
      via: 'CHROMIUM_PATH',
    });
  });

  it('says so when CHROMIUM_PATH names nothing executable, rather than using another browser', () => {
    const bin = folder('bin');
    stub(bin, ['chromium']);
    const notExecutable = stub(folder('mine'), ['chrome'], false);
    for (const wrong of [notExecutable, path.join(root, 'no-such-file'), bin]) {
      expect(findChromium(linux({ CHROMIUM_PATH: wrong, PATH: bin }))).toEqual({
        problem: expect.stringContaining(`CHROMIUM_PATH is ${wrong}, which is not an executable`),
      });
    }
  });

  it('searches PATH in order for chromium, chromium-browser, google-chrome, google-chrome-stable', () => {
    const first = folder('first');
    const second = folder('second');
    const stable = stub(first, ['google-chrome-stable']);
    expect(findChromium(linux({ PATH: `${first}:${second}` }))).toEqual({
      path: stable,
      via: 'google-chrome-stable on PATH',
    });
    // A better name anywhere on PATH wins over a worse one earlier on it.
    const browser = stub(second, ['chromium-browser']);
    expect(findChromium(linux({ PATH: `${first}:${second}` }))).toEqual({
      path: browser,
      via: 'chromium-browser on PATH',
    });
    // The same name: the first folder on PATH wins, as in a shell.
    stub(second, ['chromium']);
    const chromium = stub(first, ['chromium']);
    expect(findChromium(linux({ PATH: `${first}:${second}` }))).toEqual({
      path: chromium,
      via: 'chromium on PATH',
    });
  });

  it('skips files on PATH that are not executable, and folders of the same name', () => {
    const bin = folder('bin');
    stub(bin, ['chromium'], false);
    mkdirSync(path.join(bin, 'chromium-browser'));
    const chrome = stub(bin, ['google-chrome']);
    expect(findChromium(linux({ PATH: bin }))).toMatchObject({ path: chrome });
  });

  it("finds Playwright's newest Chromium in ~/.cache/ms-playwright on Linux", () => {
    const home = folder('home');
    const cache = path.join(home, '.cache', 'ms-playwright');
    stub(cache, ['chromium-1140', 'chrome-linux', 'chrome']);
    const newest = stub(cache, ['chromium-1200', 'chrome-linux64', 'chrome']);
    stub(cache, ['chromium_headless_shell-1300', 'chrome-linux', 'headless_shell']);
    mkdirSync(path.join(cache, 'chromium-1300')); // an interrupted download: nothing inside
    expect(findChromium(linux({ PATH: folder('bin') }, home))).toEqual({
      path: newest,
      via: "Playwright's cache",
    });
  });

  it('prefers a browser on PATH over the cache, and follows XDG_CACHE_HOME', () => {
    const xdg = folder('xdg');
    const cached = stub(xdg, ['ms-playwright', 'chromium-1200', 'chrome-linux64', 'chrome']);
    expect(findChromium(linux({ XDG_CACHE_HOME: xdg }))).toMatchObject({ path: cached });
    const bin = folder('bin');
    const onPath = stub(bin, ['google-chrome']);
    expect(findChromium(linux({ XDG_CACHE_HOME: xdg, PATH: bin }))).toMatchObject({
      path: onPath,
    });
  });

  it('follows PLAYWRIGHT_BROWSERS_PATH', () => {
    const browsers = folder('browsers');
    const chrome = stub(browsers, ['chromium-1200', 'chrome-linux64', 'chrome']);
    expect(findChromium(linux({ PLAYWRIGHT_BROWSERS_PATH: browsers }))).toMatchObject({
      path: chrome,
    });
  });

  it('knows the macOS and Windows cache layouts', () => {
    const home = folder('mac-home');
    const app = stub(path.join(home, 'Library', 'Caches', 'ms-playwright'), [
      'chromium-1200',
      'chrome-mac-arm64',
      'Google Chrome for Testing.app',
      'Contents',
      'MacOS',
      'Google Chrome for Testing',
    ]);
    expect(findChromium({ env: {}, platform: 'darwin', home })).toMatchObject({ path: app });

    const local = folder('local-app-data');
    const exe = stub(local, ['ms-playwright', 'chromium-1140', 'chrome-win', 'chrome.exe']);
    expect(
      findChromium({ env: { LOCALAPPDATA: local }, platform: 'win32', home: folder('win-home') }),
    ).toMatchObject({ path: exe });
  });

  it('finds chrome.exe on a Windows PATH through PATHEXT', () => {
    const bin = folder('win-bin');
    const exe = stub(bin, ['google-chrome.exe']);
    expect(
      findChromium({ env: { Path: bin, PATHEXT: '.COM;.EXE' }, platform: 'win32', home: root }),
    ).toMatchObject({ path: exe });
  });

  it('with none anywhere, says in one line where it looked and how to install one', () => {
    const home = folder('bare-home');
    const found = findChromium(linux({ PATH: folder('bin') }, home));
    expect(found).toEqual({
      problem:
        'No Chromium for the e2e tests (none on PATH as chromium, chromium-browser, google-chrome, ' +
        `google-chrome-stable, none in Playwright's cache ${home}/.cache/ms-playwright, ` +
        'CHROMIUM_PATH unset): install one with `apt-get install chromium` (Debian, Ubuntu) or ' +
        '`npx playwright install chromium`, or set CHROMIUM_PATH to a Chromium or Chrome executable.',
    });
    expect((found as { problem: string }).problem).not.toContain('\n');
  });
});
