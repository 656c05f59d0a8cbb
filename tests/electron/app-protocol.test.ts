import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_ENTRY_URL,
  APP_SCHEME_PRIVILEGES,
  createAppProtocolHandler,
  ELECTRON_CSP,
  resolveAppPath,
} from '../../src-main/electron/app-protocol';
import { contentType } from '../../src-main/shared/content-types';

let base: string;
let root: string;
const SECRET = 'outside the renderer folder';

beforeAll(() => {
  base = mkdtempSync(path.join(os.tmpdir(), 'app-protocol-'));
  root = path.join(base, 'renderer');
  mkdirSync(path.join(root, 'assets'), { recursive: true });
  writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(path.join(root, 'assets', 'index-1.js'), 'export {};');
  writeFileSync(path.join(root, 'assets', 'k.wasm'), Buffer.from([0, 97, 115, 109]));
  writeFileSync(path.join(root, 'favicon.svg'), '<svg/>');
  writeFileSync(path.join(base, 'secret.txt'), SECRET);
  // A sibling folder whose name starts with the root's: a prefix test would let it through.
  mkdirSync(path.join(base, 'renderer-other'));
  writeFileSync(path.join(base, 'renderer-other', 'x.js'), SECRET);
  symlinkSync(path.join(base, 'secret.txt'), path.join(root, 'assets', 'link.txt'));
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

const get = (url: string, method = 'GET') =>
  createAppProtocolHandler(root)(new Request(url, { method }));

describe('resolveAppPath', () => {
  it('maps the origin and its paths to files inside the renderer folder', () => {
    expect(resolveAppPath('app://mnist-studio/', root)).toBe(path.join(root, 'index.html'));
    expect(resolveAppPath('app://mnist-studio', root)).toBe(path.join(root, 'index.html'));
    expect(resolveAppPath(APP_ENTRY_URL, root)).toBe(path.join(root, 'index.html'));
    expect(resolveAppPath('app://mnist-studio/assets/index-1.js?v=1#x', root)).toBe(
      path.join(root, 'assets', 'index-1.js'),
    );
    expect(resolveAppPath('app://mnist-studio/a%20b.js', root)).toBe(path.join(root, 'a b.js'));
    // A doubled slash is not an absolute path on the disk.
    expect(resolveAppPath('app://mnist-studio//etc/passwd', root)).toBe(
      path.join(root, 'etc', 'passwd'),
    );
  });

  it('never leaves the folder: dot segments, encoded or not, stay inside it', () => {
    for (const url of [
      'app://mnist-studio/../secret.txt',
      'app://mnist-studio/assets/../../secret.txt',
      'app://mnist-studio/%2e%2e/secret.txt',
      'app://mnist-studio/.%2E/.%2e/secret.txt',
    ]) {
      const file = resolveAppPath(url, root);
      expect(file, url).toBe(path.join(root, 'secret.txt'));
    }
  });

  it('refuses encoded separators, NULs and malformed escapes instead of decoding them', () => {
    for (const url of [
      'app://mnist-studio/..%2fsecret.txt',
      'app://mnist-studio/..%2Fsecret.txt',
      'app://mnist-studio/..%5csecret.txt',
      'app://mnist-studio/assets%2Findex-1.js',
      'app://mnist-studio/..\\secret.txt',
      'app://mnist-studio/index.html%00.js',
      'app://mnist-studio/%E0%A4%A',
      'app://mnist-studio/%',
    ]) {
      expect(resolveAppPath(url, root), url).toBeNull();
    }
  });

  it('answers only for its own scheme and host', () => {
    for (const url of [
      'app://other/index.html',
      'app://mnist-studio.evil/index.html',
      'app://mnist-studio:8080/index.html',
      'app://user:pw@mnist-studio/index.html',
      'file:///etc/passwd',
      'http://mnist-studio/index.html',
      'not a url',
    ]) {
      expect(resolveAppPath(url, root), url).toBeNull();
    }
  });
});

describe('createAppProtocolHandler', () => {
  it('serves the page with its MIME type and the Electron CSP, which has no ws: source', async () => {
    const res = await get(APP_ENTRY_URL);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe(ELECTRON_CSP);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toContain('<title>t</title>');
    expect(ELECTRON_CSP).not.toMatch(/ws:|wss:/);
    expect(ELECTRON_CSP).toContain("connect-src 'self' data:");
    expect(ELECTRON_CSP).toContain("script-src 'self' 'wasm-unsafe-eval'");
  });

  it('serves module scripts as JavaScript and WASM as application/wasm', async () => {
    const js = await get('app://mnist-studio/assets/index-1.js');
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await js.text()).toBe('export {};');
    const wasm = await get('app://mnist-studio/assets/k.wasm');
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    expect(new Uint8Array(await wasm.arrayBuffer())).toEqual(new Uint8Array([0, 97, 115, 109]));
    expect((await get('app://mnist-studio/favicon.svg')).headers.get('content-type')).toBe(
      'image/svg+xml',
    );
    expect(contentType('x.unknown')).toBe('application/octet-stream');
  });

  it('HEAD has headers and no body; other methods are refused', async () => {
    const head = await get(APP_ENTRY_URL, 'HEAD');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect((await get(APP_ENTRY_URL, 'POST')).status).toBe(405);
    expect((await get(APP_ENTRY_URL, 'PUT')).status).toBe(405);
  });

  it('answers 404 for missing files, folders, other hosts and anything outside the folder', async () => {
    for (const url of [
      'app://mnist-studio/missing.js',
      'app://mnist-studio/assets/',
      'app://mnist-studio/../secret.txt',
      'app://mnist-studio/..%2fsecret.txt',
      'app://mnist-studio/../renderer-other/x.js',
      // A symlink inside the folder that points out of it.
      'app://mnist-studio/assets/link.txt',
      'app://elsewhere/index.html',
    ]) {
      const res = await get(url);
      expect(res.status, url).toBe(404);
      expect(await res.text(), url).not.toContain(SECRET);
    }
  });

  it('registers app: as a standard, secure scheme with fetch and nothing more', () => {
    expect(APP_SCHEME_PRIVILEGES).toEqual({
      scheme: 'app',
      privileges: { standard: true, secure: true, supportFetchAPI: true },
    });
  });
});

/** A CSP as directive → sources, for comparing policies regardless of order. */
function directives(policy: string): Map<string, string[]> {
  return new Map(
    policy
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .filter(([name]) => name)
      .map(([name, ...sources]) => [name!, sources]),
  );
}

describe('the Electron CSP', () => {
  it("is the page's own CSP without WebSocket sources (Electron talks over IPC only)", () => {
    // Both policies are enforced when the page also carries its meta tag: a source missing from
    // the header would be blocked in Electron though the page asks for it.
    const html = readFileSync(
      path.join(import.meta.dirname, '../../src-renderer/index.html'),
      'utf8',
    );
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1];
    expect(meta).toBeDefined();
    const expected = directives(meta!);
    for (const [name, sources] of expected)
      expected.set(
        name,
        sources.filter((source) => !/^wss?:/.test(source)),
      );
    // frame-ancestors is ignored in a meta tag; only a header can set it.
    expected.set('frame-ancestors', ["'none'"]);
    expect(directives(ELECTRON_CSP)).toEqual(expected);
  });
});

describe('the built renderer under app://', () => {
  const built = path.join(import.meta.dirname, '../../out/renderer');

  it('every file electron-vite emits has a known MIME type', () => {
    const files = readdirSync(built, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => path.join(entry.parentPath, entry.name));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(contentType(file), file).not.toBe('application/octet-stream');
  });

  it('the page, its scripts and the lazily imported chunk resolve and load as JavaScript', async () => {
    const handler = createAppProtocolHandler(built);
    const html = readFileSync(path.join(built, 'index.html'), 'utf8');
    const scripts = [...html.matchAll(/<script type="module"[^>]*src="([^"]+)"/g)].map(
      (m) => new URL(m[1]!, APP_ENTRY_URL).href,
    );
    expect(scripts.length).toBeGreaterThan(0);
    // Dynamic imports in the entry chunk are relative to the chunk itself.
    const lazy: string[] = [];
    for (const script of scripts) {
      const res = await handler(new Request(script));
      expect(res.status, script).toBe(200);
      expect(res.headers.get('content-type'), script).toMatch(/^text\/javascript/);
      for (const m of (await res.text()).matchAll(/import\("(\.\/[^"]+\.js)"\)/g))
        lazy.push(new URL(m[1]!, script).href);
    }
    expect(lazy.length).toBeGreaterThan(0);
    for (const url of lazy) {
      expect(url.startsWith('app://mnist-studio/assets/'), url).toBe(true);
      const res = await handler(new Request(url));
      expect(res.status, url).toBe(200);
      expect(res.headers.get('content-type'), url).toMatch(/^text\/javascript/);
    }
  });
});
