import jpeg from 'jpeg-js';

/**
 * JPEG for `predict --image`: phone photos of digits on paper. jpeg-js decodes (pure JS, no
 * native code to install); the EXIF orientation is applied here, because phones store the
 * sensor's pixels and a tag saying how to turn them, and a digit on its side is another digit.
 */

export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly rgba: Uint8Array;
}

/** EXIF orientation 1–8 (1: as stored), from the APP1 segment; 1 when absent or unreadable. */
export function jpegOrientation(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 2;
  while (pos + 4 <= bytes.length && bytes[pos] === 0xff) {
    const marker = bytes[pos + 1]!;
    // Start of scan or end of image: metadata segments all come before.
    if (marker === 0xda || marker === 0xd9) break;
    const length = view.getUint16(pos + 2);
    const body = pos + 4;
    if (marker === 0xe1 && length >= 16 && body + length - 2 <= bytes.length) {
      const exif = String.fromCharCode(...bytes.subarray(body, body + 6));
      if (exif === 'Exif\0\0') return tiffOrientation(view, body + 6, body + length - 2);
    }
    pos += 2 + length;
  }
  return 1;
}

function tiffOrientation(view: DataView, tiff: number, end: number): number {
  const order = view.getUint16(tiff);
  if (order !== 0x4949 && order !== 0x4d4d) return 1;
  const little = order === 0x4949;
  const ifd = tiff + view.getUint32(tiff + 4, little);
  if (ifd + 2 > end) return 1;
  const entries = view.getUint16(ifd, little);
  for (let k = 0; k < entries; k++) {
    const entry = ifd + 2 + 12 * k;
    if (entry + 12 > end) return 1;
    if (view.getUint16(entry, little) === 0x0112) {
      const value = view.getUint16(entry + 8, little);
      return value >= 1 && value <= 8 ? value : 1;
    }
  }
  return 1;
}

/** The image turned as EXIF orientation `o` says it should be shown. */
export function applyOrientation(image: RgbaImage, o: number): RgbaImage {
  if (o <= 1 || o > 8) return image;
  const { width: w, height: h, rgba } = image;
  const swap = o >= 5;
  const W = swap ? h : w;
  const H = swap ? w : h;
  const out = new Uint8Array(rgba.length);
  const view = new Uint32Array(out.buffer);
  const src = new Uint32Array(rgba.buffer.slice(rgba.byteOffset, rgba.byteOffset + rgba.length));
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      // (sx, sy): the stored pixel shown at (x, y), per the TIFF/EXIF definitions of 2–8.
      let sx: number;
      let sy: number;
      switch (o) {
        case 2:
          sx = w - 1 - x;
          sy = y;
          break;
        case 3:
          sx = w - 1 - x;
          sy = h - 1 - y;
          break;
        case 4:
          sx = x;
          sy = h - 1 - y;
          break;
        case 5:
          sx = y;
          sy = x;
          break;
        case 6:
          sx = y;
          sy = h - 1 - x;
          break;
        case 7:
          sx = w - 1 - y;
          sy = h - 1 - x;
          break;
        default:
          sx = w - 1 - y;
          sy = x;
          break;
      }
      view[y * W + x] = src[sy * w + sx]!;
    }
  }
  return { width: W, height: H, rgba: out };
}

/** Decodes a JPEG to upright RGBA; throws jpeg-js' message (the caller names the file). */
export function decodeJpeg(bytes: Uint8Array, maxPixels: number): RgbaImage {
  const decoded = jpeg.decode(bytes, {
    useTArray: true,
    formatAsRGBA: true,
    // Both limits are checked by jpeg-js before it allocates the frame.
    maxResolutionInMP: maxPixels / 1e6,
    maxMemoryUsageInMB: Math.ceil((maxPixels * 8) / 2 ** 20),
  });
  return applyOrientation(
    { width: decoded.width, height: decoded.height, rgba: decoded.data },
    jpegOrientation(bytes),
  );
}
