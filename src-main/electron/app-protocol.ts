import fs from 'node:fs';
import path from 'node:path';
import { contentType } from '../shared/content-types';

/**
 * The renderer is served from app://mnist-studio/ instead of file:// (Electron security
 * checklist, item 18): a file:// page shares its origin with every file on the disk, while a
 * standard, secure custom scheme gives the page an origin of its own — what 'self' in the CSP
 * means — and this handler decides which files exist: only those inside the built renderer.
 * Plain Node (no Electron import) so the resolution rules are tested directly.
 */
export const APP_SCHEME = 'app';
export const APP_HOST = 'mnist-studio';
export const APP_ENTRY_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/**
 * Registered before `ready`. standard: URLs resolve like http (relative and dynamic imports of
 * ./assets/*.js, an origin of its own); secure: a secure context, as the page had on file://;
 * supportFetchAPI: fetch() of the page's own files works as it does over serve mode's http.
 * Nothing more: no bypassCSP, no service workers, no CORS for other origins.
 */
export const APP_SCHEME_PRIVILEGES = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true },
} as const;

/**
 * The Electron window's CSP, sent as a header with every app:// response. No ws: source: in
 * Electron the renderer talks to main over IPC only (the WebSocket is serve mode's transport).
 * When the page also carries a meta CSP, the browser enforces both, so this header is the limit.
 */
export const ELECTRON_CSP = [
  "default-src 'self'",
  // 'wasm-unsafe-eval' lets the Draw panel compile tfjs' WebAssembly without 'unsafe-eval'.
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  // data: is where the WASM binaries are inlined (electron.vite.config.ts, virtual:tfjs-wasm).
  "connect-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

/**
 * The file an app:// URL names inside `root`, or null when the URL is not ours or could name
 * anything outside it. Chromium canonicalises standard-scheme URLs before they reach us, but the
 * rules here do not rely on that: encoded separators and NULs are refused rather than decoded
 * (one segment must never turn into several), as are malformed escapes, and the result must lie
 * inside the root.
 */
export function resolveAppPath(requestUrl: string, root: string): string | null {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return null;
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return null;
  if (url.username || url.password) return null;
  const raw = url.pathname;
  if (raw.includes('\\') || /%(2f|5c|00)/i.test(raw)) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  // The URL parser has already removed dot segments (%2e%2e included); the containment test
  // below is what guarantees the result, whatever the parser did.
  const relative = decoded.replace(/^\/+/, '');
  const base = path.resolve(root);
  const file = path.resolve(base, relative === '' ? 'index.html' : relative);
  return isInside(base, file) ? file : null;
}

function isInside(root: string, file: string): boolean {
  const relative = path.relative(root, file);
  return (
    relative !== '' &&
    relative !== '..' &&
    !relative.startsWith(`..${path.sep}`) &&
    !path.isAbsolute(relative)
  );
}

/**
 * The protocol.handle('app', …) handler: GET and HEAD of files inside `root`, with their MIME
 * type and the Electron CSP. Symlinks are followed only when they stay inside the root.
 */
export function createAppProtocolHandler(root: string): (request: Request) => Promise<Response> {
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return plain(405, 'method not allowed');
    }
    const file = resolveAppPath(request.url, root);
    if (!file) return plain(404, 'not found');
    let body: Uint8Array;
    try {
      // fs.promises, not named imports: Electron patches it at startup so paths inside
      // app.asar (where a packaged app's renderer lives) read like a folder.
      const [realRoot, realFile] = await Promise.all([
        fs.promises.realpath(root),
        fs.promises.realpath(file),
      ]);
      if (!isInside(realRoot, realFile)) return plain(404, 'not found');
      body = await fs.promises.readFile(realFile);
    } catch {
      // Missing, a directory, unreadable: the page sees the same answer for each.
      return plain(404, 'not found');
    }
    return new Response(request.method === 'HEAD' ? null : body, {
      status: 200,
      headers: {
        'content-type': contentType(file),
        'content-security-policy': ELECTRON_CSP,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'cache-control': 'no-cache',
      },
    });
  };
}

function plain(status: number, text: string): Response {
  return new Response(text, {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' },
  });
}
