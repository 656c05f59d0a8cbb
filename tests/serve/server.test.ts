import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WorkerHost } from '../../src-main/host/worker-host';
import { forkWorker } from '../../src-main/host/fork-worker';
import { startServer, type RunningServer } from '../../src-main/serve/server';
import { tempDir } from '../helpers';

const checkpoints = tempDir();
let server: RunningServer;
let host: WorkerHost;

beforeAll(async () => {
  host = new WorkerHost({
    spawn: forkWorker(),
    checkpointsDir: checkpoints,
    dataDir: null,
    backend: 'cpu',
    onEvent: (e) => server?.broadcast(e),
  });
  server = await startServer({
    host,
    staticDir: path.join(import.meta.dirname, '../../out/renderer'),
    checkpointsDir: checkpoints,
  });
});
afterAll(async () => {
  await server.close();
  host.dispose();
});

const base = () => `http://127.0.0.1:${server.port}`;

function wsOpen(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

function ask(ws: WebSocket, message: unknown): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const parsed = JSON.parse(data.toString()) as Record<string, unknown>;
      if ('event' in parsed) return;
      ws.off('message', onMessage);
      resolve(parsed);
    };
    ws.on('message', onMessage);
    ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  });
}

describe('serve mode', () => {
  it('listens on loopback only and prints a URL with its token', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{32}$/);
    // Every non-loopback address of this machine refuses the connection.
    const os = await import('node:os');
    const external = Object.values(os.networkInterfaces())
      .flat()
      .filter((i) => i && i.family === 'IPv4' && !i.internal)
      .map((i) => i!.address);
    for (const address of external) {
      await expect(
        fetch(`http://${address}:${server.port}/?token=${server.token}`),
      ).rejects.toThrow();
    }
  });

  it('rejects HTTP requests without the token, or with a wrong one', async () => {
    expect((await fetch(`${base()}/`)).status).toBe(401);
    expect((await fetch(`${base()}/?token=wrong`)).status).toBe(401);
    expect((await fetch(`${base()}/index.html?token=${server.token}x`)).status).toBe(401);
  });

  it('serves the app with the token, then its assets by cookie', async () => {
    const page = await fetch(server.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const cookie = page.headers.get('set-cookie')!.split(';')[0]!;
    const html = await page.text();
    const script = /src="\.?\/?(assets\/[^"]+\.js)"/.exec(html)![1]!;
    expect((await fetch(`${base()}/${script}`, { headers: { cookie } })).status).toBe(200);
    expect((await fetch(`${base()}/${script}`)).status).toBe(401);
  });

  it('refuses path traversal and foreign Host headers (DNS rebinding)', async () => {
    const res = await fetch(`${base()}/..%2F..%2Fpackage.json?token=${server.token}`);
    expect(res.status).toBe(404);
    const http = await import('node:http');
    const status = await new Promise<number>((resolve) => {
      http.get(
        {
          host: '127.0.0.1',
          port: server.port,
          path: `/?token=${server.token}`,
          headers: { host: 'evil.example:80' },
        },
        (r) => resolve(r.statusCode!),
      );
    });
    expect(status).toBe(403);
  });

  it('rejects WebSocket connections without the token', async () => {
    await expect(wsOpen(`ws://127.0.0.1:${server.port}/ws`)).rejects.toThrow('HTTP 401');
    await expect(wsOpen(`ws://127.0.0.1:${server.port}/ws?token=nope`)).rejects.toThrow('HTTP 401');
    await expect(
      wsOpen(`ws://127.0.0.1:${server.port}/other?token=${server.token}`),
    ).rejects.toThrow('HTTP 401');
  });

  it('answers requests over the WebSocket, and rejects odd payloads with a clear error', async () => {
    const ws = await wsOpen(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
    expect(await ask(ws, { id: 1, request: { type: 'status' } })).toMatchObject({
      id: 1,
      ok: true,
      result: { mode: 'serve', checkpointsDir: checkpoints },
    });
    expect(await ask(ws, { id: 2, request: { type: 'listRuns' } })).toEqual({
      id: 2,
      ok: true,
      result: { runs: [] },
    });
    expect(await ask(ws, 'not json')).toMatchObject({
      id: null,
      ok: false,
      error: expect.stringMatching(/^invalid message/),
    });
    expect(await ask(ws, { id: 3, request: { type: 'launchMissiles' } })).toMatchObject({
      id: 3,
      ok: false,
      error: expect.stringMatching(/^invalid request/),
    });
    expect(
      await ask(ws, { id: 4, request: { type: 'train', config: { model: 'mlp' } } }),
    ).toMatchObject({ ok: false, error: expect.stringMatching(/config\.epochs/) });
    expect(
      await ask(ws, { id: 5, request: { type: 'deleteRun', runId: '../x', epoch: null } }),
    ).toMatchObject({ ok: false, error: expect.stringMatching(/runId may only contain/) });
    ws.close();
  });
});
