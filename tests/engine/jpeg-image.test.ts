import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImageBytes, preprocessImageFile } from '../../src-main/engine/image';
import { applyOrientation, jpegOrientation } from '../../src-main/engine/jpeg-image';
import { preprocess } from '../../src-main/shared/preprocess';
import { mnistTestDigit, paperPhoto } from '../fixtures/paper-photos';
import { correlation } from '../helpers';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mnist-jpeg-test-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function encode(width: number, height: number, rgba: Uint8Array | Uint8ClampedArray): Buffer {
  return jpeg.encode({ width, height, data: Buffer.from(rgba) }, 95).data;
}

/** An APP1 EXIF segment holding only the orientation tag, in the given byte order. */
function exifSegment(orientation: number, little: boolean): Buffer {
  const tiff = Buffer.alloc(8 + 2 + 12 + 4);
  tiff.write(little ? 'II' : 'MM', 0, 'latin1');
  const u16 = (v: number, at: number) =>
    little ? tiff.writeUInt16LE(v, at) : tiff.writeUInt16BE(v, at);
  const u32 = (v: number, at: number) =>
    little ? tiff.writeUInt32LE(v, at) : tiff.writeUInt32BE(v, at);
  u16(42, 2);
  u32(8, 4);
  u16(1, 8);
  u16(0x0112, 10); // Orientation
  u16(3, 12); // SHORT
  u32(1, 14);
  u16(orientation, 18);
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const head = Buffer.from([0xff, 0xe1, 0, 0]);
  head.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([head, body]);
}

function withExif(jpegBytes: Buffer, orientation: number, little = true): Buffer {
  return Buffer.concat([
    jpegBytes.subarray(0, 2),
    exifSegment(orientation, little),
    jpegBytes.subarray(2),
  ]);
}

/** A 3×2 image whose pixels are 0 … 5 (in the red channel), row-major. */
const stored = {
  width: 3,
  height: 2,
  rgba: new Uint8Array(Array.from({ length: 6 }, (_, i) => [i, 0, 0, 255]).flat()),
};
const reds = (img: { rgba: Uint8Array }) => Array.from(img.rgba).filter((_, i) => i % 4 === 0);

describe('applyOrientation', () => {
  // Stored:  0 1 2
  //          3 4 5
  it.each([
    [1, 3, [0, 1, 2, 3, 4, 5]],
    [2, 3, [2, 1, 0, 5, 4, 3]], // mirrored left-right
    [3, 3, [5, 4, 3, 2, 1, 0]], // turned 180°
    [4, 3, [3, 4, 5, 0, 1, 2]], // mirrored top-bottom
    [5, 2, [0, 3, 1, 4, 2, 5]], // transposed
    [6, 2, [3, 0, 4, 1, 5, 2]], // turned 90° clockwise
    [7, 2, [5, 2, 4, 1, 3, 0]], // transverse
    [8, 2, [2, 5, 1, 4, 0, 3]], // turned 90° anticlockwise
  ])('orientation %i shows the image as EXIF defines it', (o, width, expected) => {
    const shown = applyOrientation(stored, o);
    expect(shown.width).toBe(width);
    expect(shown.height).toBe(6 / width);
    expect(reds(shown)).toEqual(expected);
  });
});

describe('JPEG files', () => {
  const digit = mnistTestDigit(0);
  const photo = paperPhoto(digit.pixels, { side: 240 });
  const plain = encode(photo.width, photo.height, photo.rgba);

  it('decodes to RGBA close to what was encoded', () => {
    const image = decodeImageBytes('photo.jpg', plain);
    expect(image).toMatchObject({ width: 240, height: 240 });
    let diff = 0;
    for (let i = 0; i < image.rgba.length; i += 4)
      diff += Math.abs(image.rgba[i + 1]! - photo.rgba[i + 1]!);
    expect(diff / (240 * 240)).toBeLessThan(4);
  });

  it.each([true, false])(
    'reads the EXIF orientation in either byte order (little endian: %s)',
    (little) => {
      expect(jpegOrientation(plain)).toBe(1);
      expect(jpegOrientation(withExif(plain, 6, little))).toBe(6);
      expect(jpegOrientation(withExif(plain, 9, little))).toBe(1);
    },
  );

  it('turns a phone photo upright: a digit stored on its side reads as itself', () => {
    // The sensor stored the photo turned 90° anticlockwise; orientation 6 says to turn it back.
    const sideways = applyOrientation({ ...photo, rgba: new Uint8Array(photo.rgba) }, 8);
    const file = join(dir, 'sideways.jpg');
    writeFileSync(file, withExif(encode(sideways.width, sideways.height, sideways.rgba), 6));
    const reference = preprocess({ width: 28, height: 28, data: digit.pixels }).pixels;
    expect(correlation(preprocessImageFile(file).pixels, reference)).toBeGreaterThan(0.9);
    writeFileSync(file, encode(sideways.width, sideways.height, sideways.rgba));
    expect(correlation(preprocessImageFile(file).pixels, reference)).toBeLessThan(0.6);
  });

  it('rejects a truncated or damaged JPEG with the file name', () => {
    expect(() => decodeImageBytes('cut.jpg', plain.subarray(0, 200))).toThrow(
      /cut\.jpg: corrupt JPEG/,
    );
    const damaged = Buffer.from(plain);
    damaged.fill(0x00, 4, 60);
    expect(() => decodeImageBytes('bad.jpg', damaged)).toThrow(/bad\.jpg: corrupt JPEG/);
  });

  it('ignores an EXIF segment that points outside itself', () => {
    const broken = withExif(plain, 6);
    broken.writeUInt32LE(0xfffffff0, 4 + 6 + 4); // IFD offset far past the segment
    expect(jpegOrientation(broken)).toBe(1);
  });
});
