import * as tf from '@tensorflow/tfjs';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ExportOutcome } from '../../src-main/contract/api';
import { forkWorker } from '../../src-main/host/fork-worker';
import { WorkerHost } from '../../src-main/host/worker-host';
import { contentDisposition, DownloadStore } from '../../src-main/serve/downloads';
import { startServer, type RunningServer } from '../../src-main/serve/server';
import { writeRun } from '../fixtures/checkpoints';
import { tempDir } from '../helpers';

/**
 * Serve mode's one-time download of an export: behind the same token as everything else, once,
 * as an attachment, gone when fetched, when nobody fetched it in time, and when the server closes.
 */

const TTL_MS = 1500;
const checkpoints = tempDir();
let server: RunningServer;
let host: WorkerHost;
let runId: string;
const logged: unknown[] = [];

beforeAll(async () => {
  await tf.setBackend('cpu');
  runId = await writeRun(checkpoints, 1);
  host = new WorkerHost({
    spawn: forkWorker(),
    checkpointsDir: checkpoints,
    dataDir: null,
    backend: 'cpu',
    onEvent: () => {},
  });
  server = await startServer({
    host,
    // Only the download route is asked for: the renderer's source page will do.
    staticDir: path.join(import.meta.dirname, '../../src-renderer'),
    checkpointsDir: checkpoints,
    downloadTtlMs: TTL_MS,
    onError: (error) => logged.push(error),
  });
});
afterAll(async () => {
  await server?.close();
  host?.dispose();
});

const base = () => `http://127.0.0.1:${server.port}`;
const cookie = () => `studio_token_${server.port}=${server.token}`;

/** An export as the page asks for it, over the WebSocket. */
async function exportOnnx(): Promise<Extract<ExportOutcome, { status: 'download' }>> {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const reply = await new Promise<Record<string, unknown>>((resolve) => {
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString()) as Record<string, unknown>;
      if (!('event' in message)) resolve(message);
    });
    ws.send(
      JSON.stringify({
        id: 1,
        request: {
          type: 'exportCheckpoint',
          runId,
          epoch: 1,
          format: 'onnx',
          withOptimizer: false,
        },
      }),
    );
  });
  ws.close();
  expect(reply).toMatchObject({ id: 1, ok: true, result: { status: 'download' } });
  return reply.result as Extract<ExportOutcome, { status: 'download' }>;
}

const get = (url: string, headers: Record<string, string> = { cookie: cookie() }) =>
  fetch(`${base()}${url}`, { headers });

describe('the download route', () => {
  it('serves an export once, to the token only, as an attachment', async () => {
    const { url, fileName, bytes } = await exportOnnx();
    expect(fileName).toBe(`${runId}-epoch1.onnx`);

    // Refusals do not use the download up.
    expect((await get(url, {})).status).toBe(401);
    expect((await get(url, { cookie: `studio_token_${server.port}=wrong` })).status).toBe(401);
    expect(
      (await fetch(`${base()}${url}`, { method: 'HEAD', headers: { cookie: cookie() } })).status,
    ).toBe(405);
    expect(
      (await fetch(`${base()}${url}`, { method: 'POST', headers: { cookie: cookie() } })).status,
    ).toBe(405);
    const foreignHost = await new Promise<number>((resolve) =>
      http.get(
        {
          host: '127.0.0.1',
          port: server.port,
          path: url,
          headers: { host: 'evil.example', cookie: cookie() },
        },
        (r) => resolve(r.statusCode!),
      ),
    );
    expect(foreignHost).toBe(403);

    const res = await get(`${url}?token=${server.token}`, {});
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('content-disposition')).toBe(
      `attachment; filename="${fileName}"; filename*=UTF-8''${fileName}`,
    );
    expect(res.headers.get('content-length')).toBe(String(bytes));
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = new Uint8Array(await res.arrayBuffer());
    expect(body.length).toBe(bytes);
    // An ONNX ModelProto starts with field 1 (ir_version), a varint: tag byte 0x08.
    expect(body[0]).toBe(0x08);

    expect((await get(url)).status).toBe(404);
  });

  it('answers ids it never gave out with 404', async () => {
    for (const id of ['AbCdEfGhIjKlMnOpQrStUvWx', '', 'x', '..%2Findex.html', '%00'])
      expect((await get(`/downloads/${id}`)).status).toBe(404);
  });

  it('lets an export nobody fetched expire', async () => {
    const { url } = await exportOnnx();
    await new Promise((resolve) => setTimeout(resolve, TTL_MS + 300));
    expect((await get(url)).status).toBe(404);
  });

  it('logged nothing it survived', () => {
    expect(logged).toEqual([]);
  });
});

describe('DownloadStore', () => {
  const offer = { fileName: 'model-epoch1.onnx', format: 'onnx' as const };

  it('keeps its files in a private folder, each removed once served, expired or discarded', async () => {
    const store = new DownloadStore(200);
    try {
      expect(path.dirname(store.root)).toBe(os.tmpdir());
      // mkdtemp makes it 0700: other local users cannot read the models meanwhile.
      if (process.platform !== 'win32') {
        const { statSync } = await import('node:fs');
        expect(statSync(store.root).mode & 0o777).toBe(0o700);
      }
      const kept = await store.choose(offer);
      writeFileSync(kept.path, 'model');
      const outcome = kept.done(5);
      expect(outcome).toMatchObject({ status: 'download', fileName: offer.fileName, bytes: 5 });
      const failed = await store.choose(offer);
      writeFileSync(failed.path, 'half');
      failed.discard();
      expect(existsSync(path.dirname(failed.path))).toBe(false);
      expect(readdirSync(store.root)).toHaveLength(1);
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(store.size).toBe(0);
      expect(readdirSync(store.root)).toEqual([]);
    } finally {
      store.close();
    }
  });

  it('removes a file once it has been sent', async () => {
    const store = new DownloadStore();
    const server = http.createServer((req, res) =>
      store.send(req.url!.slice('/downloads/'.length), res),
    );
    try {
      const place = await store.choose(offer);
      writeFileSync(place.path, 'model');
      const { url } = place.done(5) as Extract<ExportOutcome, { status: 'download' }>;
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as { port: number };
      const res = await fetch(`http://127.0.0.1:${port}${url}`);
      expect(await res.text()).toBe('model');
      await expect.poll(() => existsSync(path.dirname(place.path))).toBe(false);
      expect(readdirSync(store.root)).toEqual([]);
    } finally {
      server.close();
      store.close();
    }
  });

  it('removes everything on close and takes no more exports', async () => {
    const store = new DownloadStore();
    const place = await store.choose(offer);
    writeFileSync(place.path, 'model');
    place.done(5);
    const late = await store.choose(offer);
    writeFileSync(late.path, 'model');
    store.close();
    expect(existsSync(store.root)).toBe(false);
    expect(store.size).toBe(0);
    // An export that finishes after the close is not handed out.
    expect(() => late.done(5)).toThrow('serve mode is shutting down');
    await expect(store.choose(offer)).rejects.toThrow('serve mode is shutting down');
  });
});

describe('contentDisposition', () => {
  it('quotes an ASCII fallback and gives the exact name encoded', () => {
    expect(contentDisposition('first CNN-epoch3.onnx')).toBe(
      `attachment; filename="first CNN-epoch3.onnx"; filename*=UTF-8''first%20CNN-epoch3.onnx`,
    );
    expect(contentDisposition('Zahl β "x"\\(1)-epoch1.keras')).toBe(
      `attachment; filename="Zahl _ _x__(1)-epoch1.keras"; filename*=UTF-8''Zahl%20%CE%B2%20%22x%22%5C%281%29-epoch1.keras`,
    );
  });
});
