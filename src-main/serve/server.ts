import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import {
  DOWNLOAD_PATH_PREFIX,
  WireRequestSchema,
  type ClientEvent,
  type Status,
} from '../contract/api';
import { contentType } from '../shared/content-types';
import { handleClientRequest } from '../host/client-requests';
import type { SweepHost } from '../host/sweep-host';
import type { WorkerHost } from '../host/worker-host';
import { cookieValue, loopbackHost, ownOrigin, sameToken, tokenCookieName } from './access';
import { servePolicy, webSocketOrigin, withWebSocketSource } from './csp';
import { DOWNLOAD_TTL_MS, DownloadStore } from './downloads';
import { MalformedPathError, readStaticFile, resolveStaticPath } from './static-files';
import { TOKEN_PAGE_POLICY, tokenPage } from './token-page';

/**
 * Serve mode: the built renderer over HTTP and the renderer API over a WebSocket, on loopback
 * only. Every request needs the random token: in the URL the first time, after which an
 * HttpOnly cookie carries it for the page's own assets. The Host header must name loopback too,
 * so a web page on another origin cannot reach the server through DNS rebinding, and a WebSocket
 * upgrade must come from our own origin, so a page on another loopback port cannot use the cookie.
 *
 * Whatever a request or a frame carries, it can end only that request or that socket: every
 * socket has an 'error' listener, and errors go to `onError` instead of ending the process.
 */

/** Where serve reports an error it survived; `context` says which request or socket. */
export type ErrorLogger = (error: unknown, context: string) => void;

export interface ServeOptions {
  host: WorkerHost;
  /** Where sweeps run; without one, sweep requests are refused. */
  sweeps?: SweepHost;
  staticDir: string;
  checkpointsDir: string;
  port?: number;
  token?: string;
  /** Defaults to stderr. */
  onError?: ErrorLogger;
  /** How long an export waits to be downloaded; default DOWNLOAD_TTL_MS. */
  downloadTtlMs?: number;
}

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  /** Sends a worker or sweep event to every connected page. */
  broadcast(event: ClientEvent): void;
  close(): Promise<void>;
}

const MAX_MESSAGE_BYTES = 1 << 20;

export const logToStderr: ErrorLogger = (error, context) => {
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`serve: ${context}: ${detail}\n`);
};

// A peer that hangs up mid-request is routine, not worth a log line.
const isHangUp = (error: unknown) =>
  ['ECONNRESET', 'EPIPE'].includes((error as NodeJS.ErrnoException).code ?? '');

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const onError = options.onError ?? logToStderr;
  const staticRoot = path.resolve(options.staticDir);
  const indexFile = path.join(staticRoot, 'index.html');
  if (!existsSync(indexFile)) {
    throw new Error(`${staticRoot} has no index.html: build the renderer first (npm run build)`);
  }
  // Fail at start, not on the first page load, if the page's CSP cannot take our WebSocket.
  withWebSocketSource(readFileSync(indexFile, 'utf8'), 'ws://127.0.0.1');
  const context: Pick<Status, 'mode' | 'checkpointsDir'> = {
    mode: 'serve',
    checkpointsDir: options.checkpointsDir,
  };
  let port = 0;
  const cookie = () => tokenCookieName(port);
  const downloads = new DownloadStore(options.downloadTtlMs ?? DOWNLOAD_TTL_MS);

  async function respond(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const hostHeader = req.headers.host;
    if (!hostHeader || !loopbackHost(hostHeader, port)) return deny(res, 403, 'forbidden host');
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://127.0.0.1');
    } catch {
      return deny(res, 400, 'malformed URL');
    }
    const queryToken = url.searchParams.get('token');
    const cookieToken = cookieValue(req.headers.cookie, cookie());
    if (!sameToken(queryToken, token) && !sameToken(cookieToken, token)) {
      res.writeHead(401, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': TOKEN_PAGE_POLICY,
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-store',
      });
      return void res.end(tokenPage(queryToken || cookieToken ? 'stale' : 'missing'));
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return deny(res, 405, 'method not allowed');
    if (url.pathname.startsWith(DOWNLOAD_PATH_PREFIX)) {
      // A HEAD would use up the one fetch a download gets without delivering it.
      if (req.method !== 'GET') return deny(res, 405, 'method not allowed');
      return downloads.send(url.pathname.slice(DOWNLOAD_PATH_PREFIX.length), res);
    }
    let file: string | null;
    try {
      file = resolveStaticPath(staticRoot, url.pathname);
    } catch (error) {
      if (error instanceof MalformedPathError) return deny(res, 400, 'malformed URL');
      throw error;
    }
    let body = file && (await readStaticFile(file));
    if (!file || !body) return deny(res, 404, 'not found');
    const wsOrigin = webSocketOrigin(hostHeader);
    if (file === indexFile) body = Buffer.from(withWebSocketSource(body.toString(), wsOrigin));
    const headers: http.OutgoingHttpHeaders = {
      'content-type': contentType(file),
      'content-length': body.length,
      'content-security-policy': servePolicy(wsOrigin),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    };
    if (sameToken(queryToken, token)) {
      headers['set-cookie'] = `${cookie()}=${token}; HttpOnly; SameSite=Strict; Path=/`;
    }
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  const server = http.createServer((req, res) => {
    respond(req, res).catch((error: unknown) => {
      onError(error, `${req.method} ${withoutToken(req.url)}`);
      if (!res.headersSent) deny(res, 500, 'internal error');
      else res.destroy();
    });
  });
  // Without this listener Node answers a malformed request silently; this one logs it too.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!isHangUp(error)) onError(error, 'HTTP client');
    if (!socket.writable) return void socket.destroy();
    // The statuses Node itself would send without this listener.
    const status =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? '431 Request Header Fields Too Large'
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? '408 Request Timeout'
          : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  wss.on('error', (error) => onError(error, 'WebSocket server'));
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    // From here on Node's HTTP server no longer listens on this socket; without a listener of
    // our own, a reset during the handshake would end the process.
    socket.on('error', (error) => {
      if (!isHangUp(error)) onError(error, 'WebSocket upgrade');
    });
    try {
      upgrade(req, socket, head);
    } catch (error) {
      onError(error, `upgrade ${withoutToken(req.url)}`);
      refuse(socket, 500, 'Internal Server Error');
    }
  });

  function upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    if (!loopbackHost(req.headers.host, port) || !ownOrigin(req.headers.origin, port)) {
      return refuse(socket, 403, 'Forbidden');
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://127.0.0.1');
    } catch {
      return refuse(socket, 400, 'Bad Request');
    }
    const authorised =
      url.pathname === '/ws' &&
      (sameToken(url.searchParams.get('token'), token) ||
        sameToken(cookieValue(req.headers.cookie, cookie()), token));
    if (!authorised) return refuse(socket, 401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  }

  const clients = new Set<WebSocket>();
  wss.on('connection', (ws: WebSocket) => {
    clients.add(ws);
    // A bad frame (invalid UTF-8, no mask, reserved opcode or bit, bad close code, too big) is
    // reported here; ws then closes this socket with 1002, 1007 or 1009 by itself.
    ws.on('error', (error) => onError(error, 'WebSocket'));
    ws.on('close', () => clients.delete(ws));
    ws.on('message', (data) => {
      try {
        answer(ws, data.toString());
      } catch (error) {
        onError(error, 'WebSocket message');
      }
    });
  });

  function answer(ws: WebSocket, text: string): void {
    let wire: z.infer<typeof WireRequestSchema>;
    try {
      wire = WireRequestSchema.parse(JSON.parse(text));
    } catch {
      return send(ws, {
        id: null,
        ok: false,
        error: 'invalid message: expected {"id": number, "request": {...}}',
      });
    }
    Promise.resolve()
      .then(() =>
        handleClientRequest(options.host, wire.request, context, options.sweeps ?? null, downloads),
      )
      .then(
        (result) => send(ws, { id: wire.id, ok: true, result }),
        (error: unknown) =>
          send(ws, {
            id: wire.id,
            ok: false,
            error: error instanceof Error ? error.message : String(error),
          }),
      )
      .catch((error: unknown) => onError(error, 'WebSocket reply'));
  }

  const send = (ws: WebSocket, message: unknown) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  };

  const broadcast = (event: ClientEvent) => {
    for (const ws of clients) send(ws, { event });
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => {
      downloads.close();
      reject(error);
    });
    // Loopback only: this server drives training and reads the user's files.
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  server.on('error', (error) => onError(error, 'HTTP server'));

  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    broadcast,
    close: async () => {
      for (const ws of clients) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      downloads.close();
    },
  };
}

// Logs outlive the server: its token stays out of them.
const withoutToken = (url: string | undefined) => (url ?? '').replace(/token=[^&]*/g, 'token=…');

function deny(res: http.ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(message);
}

function refuse(socket: Duplex, status: number, reason: string): void {
  if (socket.writable) {
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  } else socket.destroy();
}
