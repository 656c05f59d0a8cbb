/**
 * The page's Content Security Policy in serve mode. The renderer's meta tag has no `ws:` source
 * (the Electron window needs none), and a meta CSP and a header CSP both apply, so serve adds its
 * one WebSocket origin, the page's own, to both.
 */

const CONNECT_SRC =
  /(<meta\s+http-equiv="Content-Security-Policy"\s+content="[^"]*connect-src [^;"]*)/;

/** `ws://127.0.0.1:PORT` for a page served as `http://127.0.0.1:PORT`. */
export const webSocketOrigin = (host: string): string => `ws://${host}`;

export function servePolicy(wsOrigin: string): string {
  return [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    `connect-src 'self' data: ${wsOrigin}`,
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** index.html with `wsOrigin` added to its meta tag's connect-src. */
export function withWebSocketSource(html: string, wsOrigin: string): string {
  if (!CONNECT_SRC.test(html)) {
    throw new Error('index.html has no Content-Security-Policy meta tag with a connect-src');
  }
  return html.replace(CONNECT_SRC, (directive) => `${directive} ${wsOrigin}`);
}
