import { randomBytes } from 'node:crypto';
import net from 'node:net';

/**
 * A WebSocket client built by hand on a `net` socket, so tests can send frames no real client
 * would: after a genuine upgrade handshake, any bytes at all.
 */

export interface RawSocket {
  socket: net.Socket;
  /** Resolves with the close code the server sent (null if it sent none) once it hangs up. */
  closed: Promise<number | null>;
}

export interface UpgradeOptions {
  port: number;
  path: string;
  headers?: Record<string, string>;
}

/** The status line and headers the server answered an upgrade request with. */
export function upgradeResponse(options: UpgradeOptions): Promise<string> {
  return handshake(options).then(({ response, socket }) => {
    socket.destroy();
    return response;
  });
}

export async function openRaw(options: UpgradeOptions): Promise<RawSocket> {
  const { response, socket, rest } = await handshake(options);
  if (!response.startsWith('HTTP/1.1 101')) {
    socket.destroy();
    throw new Error(`upgrade refused: ${response.split('\r\n')[0]}`);
  }
  let received = rest;
  socket.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
  // The server may hang up while we are still writing a large frame.
  socket.on('error', () => {});
  const closed = new Promise<number | null>((resolve) =>
    socket.once('close', () => resolve(closeCode(received))),
  );
  return { socket, closed };
}

function handshake(
  options: UpgradeOptions,
): Promise<{ response: string; socket: net.Socket; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(options.port, '127.0.0.1');
    const headers: Record<string, string> = {
      host: `127.0.0.1:${options.port}`,
      upgrade: 'websocket',
      connection: 'Upgrade',
      'sec-websocket-key': randomBytes(16).toString('base64'),
      'sec-websocket-version': '13',
      ...options.headers,
    };
    socket.write(
      `GET ${options.path} HTTP/1.1\r\n` +
        Object.entries(headers)
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('') +
        '\r\n',
    );
    let data = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.off('error', reject);
      resolve({
        response: data.subarray(0, end).toString('latin1'),
        socket,
        rest: data.subarray(end + 4),
      });
    };
    socket.on('data', onData);
    socket.on('error', reject);
  });
}

/** The status code of the first close frame (opcode 0x8) among the server's frames. */
function closeCode(bytes: Buffer): number | null {
  let at = 0;
  while (at + 2 <= bytes.length) {
    const opcode = bytes[at]! & 0x0f;
    let length = bytes[at + 1]! & 0x7f;
    let start = at + 2;
    if (length === 126) {
      length = bytes.readUInt16BE(at + 2);
      start += 2;
    } else if (length === 127) {
      length = Number(bytes.readBigUInt64BE(at + 2));
      start += 8;
    }
    if (opcode === 0x8) return length >= 2 ? bytes.readUInt16BE(start) : null;
    at = start + length;
  }
  return null;
}

export interface FrameOptions {
  opcode: number;
  payload?: Buffer;
  fin?: boolean;
  rsv1?: boolean;
  masked?: boolean;
  /** The length the header claims, when it should differ from the payload sent. */
  claimedLength?: number;
}

/** One client frame, masked as RFC 6455 requires unless `masked: false`. */
export function frame(options: FrameOptions): Buffer {
  const payload = options.payload ?? Buffer.alloc(0);
  const length = options.claimedLength ?? payload.length;
  const masked = options.masked ?? true;
  const first = (options.fin === false ? 0 : 0x80) | (options.rsv1 ? 0x40 : 0) | options.opcode;
  const maskBit = masked ? 0x80 : 0;
  let header: Buffer;
  if (length < 126) header = Buffer.from([first, maskBit | length]);
  else if (length < 65536) {
    header = Buffer.alloc(4);
    header.writeUInt8(first, 0);
    header.writeUInt8(maskBit | 126, 1);
    header.writeUInt16BE(length, 2);
  } else {
    header = Buffer.alloc(10);
    header.writeUInt8(first, 0);
    header.writeUInt8(maskBit | 127, 1);
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  if (!masked) return Buffer.concat([header, payload]);
  const mask = randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i]! ^= mask[i % 4]!;
  return Buffer.concat([header, mask, body]);
}

export const closePayload = (code: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code);
  return b;
};
