import { timingSafeEqual } from 'node:crypto';

/**
 * Who may talk to the server: a loopback Host (no DNS rebinding), the page's own Origin on a
 * WebSocket upgrade (no cross-site WebSocket hijacking), and the token.
 */

export function sameToken(given: string | null | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Cookies are not port-bound: without the port in its name, a second server on another port
 * would overwrite the first one's cookie in the same browser, and the first one's tabs get 401s.
 */
export const tokenCookieName = (port: number): string => `studio_token_${port}`;

export function cookieValue(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return null;
}

export function loopbackHost(hostHeader: string | undefined, port: number): boolean {
  return hostHeader === `127.0.0.1:${port}` || hostHeader === `localhost:${port}`;
}

/**
 * Browsers always send Origin on a WebSocket upgrade, and a page on another loopback port is the
 * same site (SameSite does not stop its cookie), so only our own origins pass. A missing Origin
 * comes from a non-browser client, which holds no cookie of ours and must know the token, so it
 * is allowed, as Jupyter and TensorBoard do.
 */
export function ownOrigin(originHeader: string | undefined, port: number): boolean {
  if (originHeader === undefined) return true;
  return originHeader === `http://127.0.0.1:${port}` || originHeader === `http://localhost:${port}`;
}
