import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import type { ClientEvent, Status } from '../contract/api';
import { handleClientRequest } from '../host/client-requests';
import type { WorkerHost } from '../host/worker-host';

/**
 * Serve mode: the built renderer over HTTP and the renderer API over a WebSocket, on loopback
 * only. Every request needs the random token: in the URL the first time, after which an
 * HttpOnly cookie carries it for the page's own assets. The Host header must name loopback too,
 * so a web page on another origin cannot reach the server through DNS rebinding.
 */

export interface ServeOptions {
  host: WorkerHost;
  staticDir: string;
  checkpointsDir: string;
  port?: number;
  token?: string;
}

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  /** Sends a worker event to every connected page. */
  broadcast(event: ClientEvent): void;
  close(): Promise<void>;
}

const TOKEN_COOKIE = 'studio_token';
const MAX_MESSAGE_BYTES = 1 << 20;

export const WireRequestSchema = z.object({
  id: z.number().int().nonnegative(),
  request: z.unknown(),
});

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

// The renderer's own CSP, plus the WebSocket back to this server.
const CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self' data: ws://127.0.0.1:* ws://localhost:*; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

function sameToken(given: string | null | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieToken(header: string | undefined): string | null {
  for (const part of (header ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === TOKEN_COOKIE) return value.join('=');
  }
  return null;
}

function loopbackHost(hostHeader: string | undefined, port: number): boolean {
  return hostHeader === `127.0.0.1:${port}` || hostHeader === `localhost:${port}`;
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const staticRoot = path.resolve(options.staticDir);
  if (!existsSync(path.join(staticRoot, 'index.html'))) {
    throw new Error(`${staticRoot} has no index.html: build the renderer first (npm run build)`);
  }
  const context: Pick<Status, 'mode' | 'checkpointsDir'> = {
    mode: 'serve',
    checkpointsDir: options.checkpointsDir,
  };
  let port = 0;

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const queryToken = url.searchParams.get('token');
    if (!loopbackHost(req.headers.host, port)) return deny(res, 403, 'forbidden host');
    if (!sameToken(queryToken, token) && !sameToken(cookieToken(req.headers.cookie), token)) {
      return deny(res, 401, 'missing or wrong token');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return deny(res, 405, 'method not allowed');
    const relative =
      decodeURIComponent(url.pathname) === '/'
        ? 'index.html'
        : decodeURIComponent(url.pathname).slice(1);
    const file = path.resolve(staticRoot, relative);
    if (!file.startsWith(staticRoot + path.sep) || !existsSync(file) || !statSync(file).isFile()) {
      return deny(res, 404, 'not found');
    }
    const headers: http.OutgoingHttpHeaders = {
      'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    };
    if (sameToken(queryToken, token)) {
      headers['set-cookie'] = `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;
    }
    res.writeHead(200, headers);
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const authorised =
      loopbackHost(req.headers.host, port) &&
      url.pathname === '/ws' &&
      (sameToken(url.searchParams.get('token'), token) ||
        sameToken(cookieToken(req.headers.cookie), token));
    if (!authorised) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  const clients = new Set<WebSocket>();
  wss.on('connection', (ws) => {
    clients.add(ws);
    ws.on('close', () => clients.delete(ws));
    ws.on('message', (data) => {
      let wire: z.infer<typeof WireRequestSchema>;
      try {
        wire = WireRequestSchema.parse(JSON.parse(data.toString()));
      } catch {
        ws.send(
          JSON.stringify({
            id: null,
            ok: false,
            error: 'invalid message: expected {"id": number, "request": {...}}',
          }),
        );
        return;
      }
      handleClientRequest(options.host, wire.request, context).then(
        (result) => ws.send(JSON.stringify({ id: wire.id, ok: true, result })),
        (error: unknown) =>
          ws.send(
            JSON.stringify({
              id: wire.id,
              ok: false,
              error: error instanceof Error ? error.message : String(error),
            }),
          ),
      );
    });
  });

  const broadcast = (event: ClientEvent) => {
    const text = JSON.stringify({ event });
    for (const ws of clients) if (ws.readyState === ws.OPEN) ws.send(text);
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Loopback only: this server drives training and reads the user's files.
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    broadcast,
    close: async () => {
      for (const ws of clients) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function deny(res: http.ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(message);
}
