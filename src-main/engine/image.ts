/**
 * Image-file decoding for `predict --image FILE` (Node only). PNG goes through pngjs, which
 * already normalises every PNG flavour (1–16 bit, palette, gray, alpha) to 8-bit RGBA;
 * JPEG (phone photos) through jpeg-js, turned upright by its EXIF orientation;
 * PGM (P2/P5) is parsed here because it is the lingua franca of digit datasets and tools.
 */
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { readDigitPhoto, type DigitImageOptions } from '../shared/digit-photo';
import type { PreprocessResult } from '../shared/preprocess';
import { decodeJpeg } from './jpeg-image';

export interface DecodedImage {
  readonly width: number;
  readonly height: number;
  /** 8-bit RGBA, row-major, width·height·4 bytes. */
  readonly rgba: Uint8Array;
}

/** Per-side limit: far beyond any digit photo, and it rejects corrupt headers before we allocate. */
export const MAX_IMAGE_SIDE = 10_000;
/** Total-pixel limit (200 MB of RGBA) so a 10000×10000 header cannot exhaust memory either. */
export const MAX_IMAGE_PIXELS = 50_000_000;

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const JPEG_SOI = [0xff, 0xd8, 0xff];

/** Formats we recognise only to give a precise "unsupported" message. */
const OTHER_FORMATS: ReadonlyArray<readonly [string, readonly number[]]> = [
  ['GIF', [0x47, 0x49, 0x46, 0x38]],
  ['BMP', [0x42, 0x4d]],
  ['WebP/RIFF', [0x52, 0x49, 0x46, 0x46]],
  ['TIFF', [0x49, 0x49, 0x2a, 0x00]],
  ['TIFF', [0x4d, 0x4d, 0x00, 0x2a]],
];

export class ImageFormatError extends Error {
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'ImageFormatError';
  }
}

function startsWith(bytes: Uint8Array, prefix: ArrayLike<number>): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

function isWhitespace(byte: number | undefined): boolean {
  return (
    byte === 0x20 ||
    byte === 0x09 ||
    byte === 0x0a ||
    byte === 0x0d ||
    byte === 0x0b ||
    byte === 0x0c
  );
}

function checkSize(file: string, width: number, height: number): void {
  if (width <= 0 || height <= 0) {
    throw new ImageFormatError(file, `image has zero size (${width}×${height})`);
  }
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE || width * height > MAX_IMAGE_PIXELS) {
    throw new ImageFormatError(
      file,
      `image is too large (${width}×${height}; limit ${MAX_IMAGE_SIDE} per side, ` +
        `${MAX_IMAGE_PIXELS} pixels)`,
    );
  }
}

function decodePng(file: string, bytes: Buffer): DecodedImage {
  // IHDR is always first: check the size before pngjs allocates for it.
  if (bytes.length < 24 || bytes.toString('latin1', 12, 16) !== 'IHDR') {
    throw new ImageFormatError(file, 'corrupt PNG: missing IHDR header');
  }
  checkSize(file, bytes.readUInt32BE(16), bytes.readUInt32BE(20));
  let png: PNG;
  try {
    png = PNG.sync.read(bytes);
  } catch (e) {
    throw new ImageFormatError(file, `corrupt PNG: ${e instanceof Error ? e.message : String(e)}`);
  }
  const { width, height, data } = png;
  return { width, height, rgba: new Uint8Array(data.buffer, data.byteOffset, width * height * 4) };
}

function decodeJpegFile(file: string, bytes: Buffer): DecodedImage {
  let image;
  try {
    image = decodeJpeg(bytes, MAX_IMAGE_PIXELS);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    // jpeg-js reports its size limits in its own words; ours say what the limit is.
    if (/maxResolutionInMP|maxMemoryUsageInMB/.test(message)) {
      throw new ImageFormatError(
        file,
        `image is too large (limit ${MAX_IMAGE_SIDE} per side, ${MAX_IMAGE_PIXELS} pixels)`,
      );
    }
    throw new ImageFormatError(file, `corrupt JPEG: ${message}`);
  }
  checkSize(file, image.width, image.height);
  return image;
}

/** Reads PNM header fields: whitespace-separated decimal tokens, `#` comments to end of line. */
class PnmReader {
  pos = 0;
  constructor(
    private readonly file: string,
    private readonly bytes: Uint8Array,
  ) {}

  private skipSpaceAndComments(): void {
    const b = this.bytes;
    while (this.pos < b.length) {
      if (isWhitespace(b[this.pos])) this.pos++;
      else if (b[this.pos] === 0x23) {
        while (this.pos < b.length && b[this.pos] !== 0x0a && b[this.pos] !== 0x0d) this.pos++;
      } else break;
    }
  }

  /** Next decimal integer, or null at end of data; parsed by hand because P2 has millions. */
  nextInt(what: string): number | null {
    this.skipSpaceAndComments();
    const b = this.bytes;
    const start = this.pos;
    let value = 0;
    while (this.pos < b.length && !isWhitespace(b[this.pos]) && b[this.pos] !== 0x23) {
      const digit = b[this.pos]! - 0x30;
      if (digit < 0 || digit > 9 || this.pos - start >= 9) {
        while (this.pos < b.length && !isWhitespace(b[this.pos])) this.pos++;
        const token = Buffer.from(b.subarray(start, Math.min(this.pos, start + 20)));
        throw new ImageFormatError(
          this.file,
          `corrupt PGM: ${what} is "${token.toString('latin1')}", not a number below 10^9`,
        );
      }
      value = value * 10 + digit;
      this.pos++;
    }
    return this.pos === start ? null : value;
  }

  requireInt(what: string): number {
    const v = this.nextInt(what);
    if (v === null) throw new ImageFormatError(this.file, `truncated PGM: missing ${what}`);
    return v;
  }
}

function grayToRgba(gray: Uint8Array): Uint8Array {
  const rgba = new Uint8Array(gray.length * 4);
  for (let i = 0, p = 0; i < gray.length; i++, p += 4) {
    rgba[p] = rgba[p + 1] = rgba[p + 2] = gray[i]!;
    rgba[p + 3] = 255;
  }
  return rgba;
}

function decodePgm(file: string, bytes: Uint8Array): DecodedImage {
  const binary = bytes[1] === 0x35; // "P5"
  const reader = new PnmReader(file, bytes);
  reader.pos = 2;
  const width = reader.requireInt('width');
  const height = reader.requireInt('height');
  checkSize(file, width, height);
  const maxval = reader.requireInt('maxval');
  if (maxval < 1 || maxval > 65535) {
    throw new ImageFormatError(file, `corrupt PGM: maxval ${maxval} is outside 1…65535`);
  }
  const n = width * height;
  const gray = new Uint8Array(n);
  const to8bit = 255 / maxval;
  const put = (i: number, v: number) => {
    if (v > maxval) {
      throw new ImageFormatError(file, `corrupt PGM: sample ${i} is ${v}, above maxval ${maxval}`);
    }
    gray[i] = Math.round(v * to8bit);
  };

  if (binary) {
    // Exactly one whitespace byte separates maxval from the raster.
    const start = reader.pos + 1;
    const bytesPerSample = maxval > 255 ? 2 : 1;
    const available = Math.max(0, bytes.length - start);
    if (available < n * bytesPerSample) {
      throw new ImageFormatError(
        file,
        `truncated PGM: expected ${n * bytesPerSample} bytes of pixel data for ` +
          `${width}×${height}, found ${available}`,
      );
    }
    for (let i = 0; i < n; i++) {
      const p = start + i * bytesPerSample;
      put(i, bytesPerSample === 2 ? (bytes[p]! << 8) | bytes[p + 1]! : bytes[p]!);
    }
  } else {
    for (let i = 0; i < n; i++) {
      const v = reader.nextInt(`sample ${i}`);
      if (v === null) {
        throw new ImageFormatError(
          file,
          `truncated PGM: expected ${n} samples for ${width}×${height}, found ${i}`,
        );
      }
      put(i, v);
    }
  }
  return { width, height, rgba: grayToRgba(gray) };
}

/** Decodes a PNG, JPEG or PGM (P2/P5) file, recognised by its magic bytes, to 8-bit RGBA. */
export function decodeImageFile(path: string): DecodedImage {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ImageFormatError(
      path,
      `cannot read file (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  if (bytes.length === 0) throw new ImageFormatError(path, 'file is empty');
  return decodeImageBytes(path, bytes);
}

/** As decodeImageFile, for bytes already in memory; `name` only labels error messages. */
export function decodeImageBytes(name: string, data: Uint8Array): DecodedImage {
  const bytes = Buffer.isBuffer(data)
    ? data
    : Buffer.from(data.buffer, data.byteOffset, data.length);
  if (startsWith(bytes, PNG_SIGNATURE)) return decodePng(name, bytes);
  if (startsWith(bytes, JPEG_SOI)) return decodeJpegFile(name, bytes);
  if (bytes[0] === 0x50 && (bytes[1] === 0x32 || bytes[1] === 0x35) && isWhitespace(bytes[2])) {
    return decodePgm(name, bytes);
  }
  const other = OTHER_FORMATS.find(([, magic]) => startsWith(bytes, magic));
  throw new ImageFormatError(
    name,
    other
      ? `${other[0]} images are not supported; convert to PNG or PGM`
      : 'unknown image format (expected PNG, JPEG or PGM P2/P5)',
  );
}

/** Decodes and preprocesses an image file, reporting (not rejecting) a blank image. */
export function preprocessImageFile(
  path: string,
  options: DigitImageOptions = {},
): PreprocessResult {
  const { width, height, rgba } = decodeImageFile(path);
  return readDigitPhoto(rgba, width, height, options);
}

/** The 28×28 model input for a digit image file; throws if the image holds no ink. */
export function loadDigitImage(path: string, options: DigitImageOptions = {}): Float32Array {
  const result = preprocessImageFile(path, options);
  if (result.empty) throw new ImageFormatError(path, 'no digit found (the image is blank)');
  return result.pixels;
}
