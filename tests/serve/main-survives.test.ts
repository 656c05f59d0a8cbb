import { copyFileSync, symlinkSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type ServeProcess } from '../e2e/browser';
import { tempDir } from '../helpers';
import { frame, openRaw } from './raw-socket';

/**
 * `npm run serve` as a process: whatever one request or frame carries, it logs the error to
 * stderr and keeps serving everyone else.
 */

const checkpoints = tempDir();
const staticDir = tempDir();
const fixedToken = 'k'.repeat(40);
let serve: ServeProcess;
let stderr = '';

beforeAll(async () => {
  copyFileSync(
    path.join(import.meta.dirname, '../../out/renderer/index.html'),
    path.join(staticDir, 'index.html'),
  );
  // sysfs refuses to open a write-only attribute for reading, with EACCES even for root.
  symlinkSync('/sys/bus/cpu/uevent', path.join(staticDir, 'denied.js'));
  serve = await startServe(checkpoints, ['--static', staticDir, '--token', fixedToken]);
  serve.child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
});
afterAll(() => serve?.stop());

const port = () => Number(new URL(serve.url).port);
const token = () => new URL(serve.url).searchParams.get('token')!;

function get(pathAndQuery: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: port(), path: pathAndQuery }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      })
      .on('error', reject);
  });
}

describe('npm run serve', () => {
  it('keeps the token given with --token', () => {
    expect(serve.url).toBe(`http://127.0.0.1:${port()}/?token=${fixedToken}`);
  });

  it('outlives malformed URLs, an unreadable file and bad frames, logging each', async () => {
    expect(await get(`/%E0%A4%A?token=${token()}`)).toBe(400);
    expect(await get(`/denied.js?token=${token()}`)).toBe(500);
    const raw = await openRaw({ port: port(), path: `/ws?token=${token()}` });
    raw.socket.write(frame({ opcode: 0x1, payload: Buffer.from([0xc3, 0x28]) }));
    expect(await raw.closed).toBe(1007);

    expect(serve.child.exitCode).toBeNull();
    expect(await get(`/?token=${token()}`)).toBe(200);
    expect(stderr).toMatch(/serve: GET \/denied\.js\?token=…: Error: EACCES/);
    expect(stderr).not.toContain(token());
    expect(stderr).toMatch(/serve: WebSocket: .*invalid UTF-8/);
  });

  it('outlives clients that reset the connection during the WebSocket handshake', async () => {
    // The refusal is written to a socket the client has already reset: ECONNRESET on write,
    // on a socket Node's HTTP server no longer listens on once it is an upgrade.
    for (let i = 0; i < 100; i++) {
      await new Promise<void>((resolve) => {
        const socket = net.connect(port(), '127.0.0.1', () => {
          socket.write(
            `GET /ws?token=wrong HTTP/1.1\r\nHost: 127.0.0.1:${port()}\r\nUpgrade: websocket\r\n` +
              'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
              'Sec-WebSocket-Version: 13\r\n\r\n',
          );
          socket.resetAndDestroy();
          setTimeout(resolve, 2);
        });
        // Also when the server is gone: then the checks below say so.
        socket.on('error', () => resolve());
      });
    }
    expect(serve.child.exitCode).toBeNull();
    expect(await get(`/?token=${token()}`)).toBe(200);
  });
});
