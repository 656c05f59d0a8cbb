import { copyFileSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WorkerHost } from '../../src-main/host/worker-host';
import { forkWorker } from '../../src-main/host/fork-worker';
import { startServer, type RunningServer } from '../../src-main/serve/server';
import { tempDir } from '../helpers';
import { closePayload, frame, openRaw, upgradeResponse } from './raw-socket';

const checkpoints = tempDir();
let server: RunningServer;
let host: WorkerHost;
/** Errors the server survived and logged; a test takes the ones it expects, the rest fail it. */
const logged: { error: unknown; context: string }[] = [];
const takeLogged = () => logged.splice(0);
afterEach(() => expect(takeLogged()).toEqual([]));

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
    onError: (error, context) => logged.push({ error, context }),
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

/** A raw GET, so the path reaches the server byte for byte (fetch would normalise it). */
function rawGet(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    import('node:http')
      .then(({ default: http }) => {
        http
          .get({ host: '127.0.0.1', port: server.port, path, headers }, (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
          })
          .on('error', reject);
      })
      .catch(reject);
  });
}

describe('serve mode survives what a URL carries', () => {
  it('answers malformed %-escapes with 400 and goes on', async () => {
    for (const bad of ['/%', '/%zz', '/%E0%A4%A', '/assets/%C0%AF.js']) {
      expect((await rawGet(`${bad}?token=${server.token}`)).status, bad).toBe(400);
    }
    expect((await rawGet(`/%00?token=${server.token}`)).status).toBe(404);
    expect((await rawGet(`/?token=${server.token}`)).status).toBe(200);
  });

  /** A second server over its own copy of the built page, recording the errors it reports. */
  async function serverOverCopy() {
    const staticDir = tempDir();
    copyFileSync(
      path.join(import.meta.dirname, '../../out/renderer/index.html'),
      path.join(staticDir, 'index.html'),
    );
    const errors: unknown[] = [];
    const other = await startServer({
      host,
      staticDir,
      checkpointsDir: checkpoints,
      onError: (error) => errors.push(error),
    });
    return { staticDir, errors, other };
  }

  it('answers a file it cannot read with 500, logs why, and goes on', async () => {
    // Real faults, as root too: sysfs refuses to open a write-only attribute for reading
    // (EACCES even for root, unlike chmod), and /proc/self/mem opens but fails to read (EIO).
    const { staticDir, errors, other } = await serverOverCopy();
    symlinkSync('/sys/bus/cpu/uevent', path.join(staticDir, 'denied.js'));
    symlinkSync('/proc/self/mem', path.join(staticDir, 'broken.js'));
    try {
      const get = async (file: string) =>
        (await fetch(`http://127.0.0.1:${other.port}/${file}?token=${other.token}`)).status;
      expect(await get('denied.js')).toBe(500);
      expect(await get('broken.js')).toBe(500);
      expect(await get('index.html')).toBe(200);
      expect(errors.map((e) => (e as NodeJS.ErrnoException).code)).toEqual(['EACCES', 'EIO']);
    } finally {
      await other.close();
    }
  });

  it('answers an error of its own with 500 and reports it, instead of a page without CSP', async () => {
    const { staticDir, errors, other } = await serverOverCopy();
    const index = path.join(staticDir, 'index.html');
    try {
      // A rebuild while serving replaced the page with one whose CSP cannot be completed.
      writeFileSync(index, '<!doctype html><title>no policy</title>');
      const res = await fetch(`http://127.0.0.1:${other.port}/?token=${other.token}`);
      expect(res.status).toBe(500);
      expect(errors).toMatchObject([
        { message: expect.stringMatching(/no Content-Security-Policy/) },
      ]);
    } finally {
      await other.close();
    }
  });

  it('logs a malformed HTTP request and answers it with 400', async () => {
    const net = await import('node:net');
    const reply = await new Promise<string>((resolve) => {
      const socket = net.connect(server.port, '127.0.0.1', () =>
        socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\n\r\n'),
      );
      let data = '';
      socket.on('data', (c: Buffer) => (data += c.toString()));
      socket.on('close', () => resolve(data));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect(takeLogged()).toMatchObject([{ context: 'HTTP client' }]);
  });

  it('shows a page explaining what to do when the token is old or missing', async () => {
    for (const [url, reason] of [
      [`/?token=${'x'.repeat(32)}`, 'stale'],
      ['/', 'missing'],
    ] as const) {
      const res = await rawGet(url);
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['content-security-policy']).toMatch(/^default-src 'none';/);
      expect(res.body).toContain(`data-reason="${reason}"`);
      expect(res.body).toContain('Open the URL that <code>npm run serve</code> printed');
    }
    // A cookie of an earlier start on this port is an old token too.
    const res = await rawGet('/', { cookie: `studio_token_${server.port}=old` });
    expect(res.body).toContain('data-reason="stale"');
    expect(res.body).toContain('no longer valid');
  });

  it('names its cookie after its port, so two servers in one browser keep theirs', async () => {
    const page = await fetch(server.url);
    expect(page.headers.get('set-cookie')).toMatch(
      new RegExp(`^studio_token_${server.port}=${server.token};`),
    );
    // Another server's cookie, under its own name, does not stand in for ours.
    const foreign = await rawGet('/', { cookie: `studio_token_1=${server.token}` });
    expect(foreign.status).toBe(401);
  });
});

describe('the page CSP', () => {
  it('has no ws: source in the built renderer (the Electron window needs none)', () => {
    const html = readFileSync(
      path.join(import.meta.dirname, '../../out/renderer/index.html'),
      'utf8',
    );
    expect(html).toMatch(/connect-src 'self' data:;/);
    expect(html).not.toContain('ws:');
  });

  it('allows exactly the page’s own WebSocket origin when served', async () => {
    for (const name of ['127.0.0.1', 'localhost']) {
      const origin = `${name}:${server.port}`;
      const res = await rawGet(`/?token=${server.token}`, { host: origin });
      const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]*)"/.exec(res.body)![1]!;
      for (const policy of [meta, res.headers['content-security-policy'] as string]) {
        expect(policy.match(/wss?:[^\s;]*/g), policy).toEqual([`ws://${origin}`]);
        expect(policy).toContain(`connect-src 'self' data: ws://${origin};`);
      }
    }
  });
});

describe('serve mode survives what a WebSocket carries', () => {
  const wsPath = () => `/ws?token=${server.token}`;
  let bystander: WebSocket;
  const events: { type: string; runId?: string }[] = [];
  let runId = '';
  const survived: unknown[] = [];

  beforeAll(async () => {
    // A page that stays connected and a run that keeps training while the bad frames arrive.
    bystander = await wsOpen(`ws://127.0.0.1:${server.port}${wsPath()}`);
    bystander.on('message', (data) => {
      const message = JSON.parse(data.toString()) as { event?: { type: string } };
      if (message.event) events.push(message.event);
    });
    const started = await ask(bystander, {
      id: 1,
      request: {
        type: 'train',
        config: {
          model: 'mlp',
          epochs: 2,
          batchSize: 32,
          learningRate: 0.001,
          learningRateDecay: 1,
          hiddenUnits: 16,
          dropout: 0,
          validationSize: 200,
          limit: 2000,
          seed: 1,
          augment: false,
          backend: 'cpu',
        },
      },
    });
    expect(started).toMatchObject({ ok: true });
    runId = (started.result as { runId: string }).runId;
  });
  afterAll(() => bystander.close());

  const megabytes = (n: number) => Buffer.alloc(Math.round(n * 1024 * 1024), 0x20);
  const cases: [string, () => Buffer[], number, RegExp][] = [
    [
      'a text frame with invalid UTF-8',
      () => [frame({ opcode: 0x1, payload: Buffer.from([0x7b, 0xc3, 0x28, 0x7d]) })],
      1007,
      /invalid UTF-8/,
    ],
    [
      'an unmasked client frame',
      () => [frame({ opcode: 0x1, payload: Buffer.from('{}'), masked: false })],
      1002,
      /MASK must be set/,
    ],
    ['a reserved opcode', () => [frame({ opcode: 0x3 })], 1002, /invalid opcode 3/],
    [
      'RSV1 set without an extension',
      () => [frame({ opcode: 0x1, rsv1: true, payload: Buffer.from('{}') })],
      1002,
      /RSV1 must be clear/,
    ],
    [
      'close code 999',
      () => [frame({ opcode: 0x8, payload: closePayload(999) })],
      1002,
      /invalid status code 999/,
    ],
    [
      'a 1.5 MB message',
      () => [frame({ opcode: 0x1, payload: megabytes(1.5) })],
      1009,
      /Max payload size exceeded/,
    ],
    [
      'a 50 MB message (the header says so; the rest never needs to arrive)',
      () => [frame({ opcode: 0x2, payload: megabytes(0.0625), claimedLength: 50 * 1024 * 1024 })],
      1009,
      /Max payload size exceeded/,
    ],
    [
      'two fragments adding up to more than the limit',
      () => [
        frame({ opcode: 0x1, fin: false, payload: megabytes(0.6) }),
        frame({ opcode: 0x0, payload: megabytes(0.6) }),
      ],
      1009,
      /Max payload size exceeded/,
    ],
  ];

  it.each(cases)('closes only the socket that sent %s', async (_name, frames, code, message) => {
    const raw = await openRaw({ port: server.port, path: wsPath() });
    for (const f of frames()) raw.socket.write(f);
    expect(await raw.closed).toBe(code);
    const errors = takeLogged();
    survived.push(...errors);
    expect(errors).toMatchObject([{ context: 'WebSocket', error: { message } }]);
    // Everyone else carries on: the other page, its requests, and the run.
    expect(bystander.readyState).toBe(WebSocket.OPEN);
    const status = await ask(bystander, { id: 2, request: { type: 'status' } });
    expect(status).toMatchObject({ ok: true, result: { mode: 'serve' } });
  });

  it('kept training the run through every bad frame it survived', async () => {
    expect(survived).toHaveLength(cases.length);
    await expect
      .poll(() => events.find((e) => e.type === 'finished' || e.type === 'error'), {
        timeout: 60_000,
      })
      .toMatchObject({ type: 'finished', runId });
    expect(events.some((e) => e.type === 'epoch')).toBe(true);
  });

  it('refuses a WebSocket upgrade from another origin, even with the token', async () => {
    const refused = [
      `http://127.0.0.1:${server.port + 1}`,
      `http://localhost:${server.port + 1}`,
      `https://127.0.0.1:${server.port}`,
      'null',
    ];
    for (const origin of refused) {
      const response = await upgradeResponse({
        port: server.port,
        path: wsPath(),
        headers: { origin },
      });
      expect(response, origin).toMatch(/^HTTP\/1\.1 403/);
    }
    for (const origin of [`http://127.0.0.1:${server.port}`, `http://localhost:${server.port}`]) {
      const response = await upgradeResponse({
        port: server.port,
        path: wsPath(),
        headers: { origin },
      });
      expect(response, origin).toMatch(/^HTTP\/1\.1 101/);
    }
  });
});
