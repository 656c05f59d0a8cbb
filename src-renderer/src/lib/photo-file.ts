import { readDigitPhoto, type DigitPhoto } from '$shared/digit-photo';

/**
 * A photo the user drops or picks on the Draw panel, read into the model's 28×28 input by the
 * same code as the CLI's `predict` (shared/digit-photo.ts). The browser decodes it, which turns
 * a phone's JPEG upright by its EXIF orientation as the CLI does.
 */

export const PHOTO_TYPES = ['image/png', 'image/jpeg'] as const;
/** Far above any phone photo; a bigger file is a mistake, not a digit. */
export const MAX_PHOTO_BYTES = 40 * 2 ** 20;
/**
 * Decoded photos are scaled by the browser to at most this side before their pixels are read:
 * digit-photo.ts scales to 512 anyway, and a 50-megapixel photo's RGBA would take 200 MB.
 */
const DECODE_MAX_SIDE = 2048;

export class PhotoError extends Error {
  override name = 'PhotoError';
}

export interface ReadPhoto extends DigitPhoto {
  readonly name: string;
}

function typeOf(file: File): string {
  if (file.type) return file.type;
  // Some drags (from file managers) carry no MIME type: go by the extension.
  if (/\.png$/i.test(file.name)) return 'image/png';
  if (/\.jpe?g$/i.test(file.name)) return 'image/jpeg';
  return '';
}

/** Decodes and reads a photo of a digit; a PhotoError says what is wrong in words for the user. */
export async function readPhotoFile(file: File): Promise<ReadPhoto> {
  const type = typeOf(file);
  if (!(PHOTO_TYPES as readonly string[]).includes(type)) {
    throw new PhotoError(
      `${file.name} is not a PNG or JPEG image${type ? ` (it is ${type})` : ''}`,
    );
  }
  if (file.size === 0) throw new PhotoError(`${file.name} is empty`);
  if (file.size > MAX_PHOTO_BYTES) {
    throw new PhotoError(
      `${file.name} is too large (${Math.round(file.size / 2 ** 20)} MB; at most ${MAX_PHOTO_BYTES / 2 ** 20} MB)`,
    );
  }
  let bitmap: ImageBitmap;
  try {
    // As the CLI reads files: no colour management, no premultiplied alpha.
    bitmap = await createImageBitmap(file, {
      imageOrientation: 'from-image',
      colorSpaceConversion: 'none',
      premultiplyAlpha: 'none',
    });
  } catch {
    throw new PhotoError(
      `Could not read ${file.name}: the file is damaged or not really a ${type.slice(6).toUpperCase()}`,
    );
  }
  try {
    const { width, height } = fitted(bitmap.width, bitmap.height);
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new PhotoError('This window cannot read images (no 2D canvas)');
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(bitmap, 0, 0, width, height);
    const { data } = ctx.getImageData(0, 0, width, height);
    const read = readDigitPhoto(data, width, height);
    if (read.empty) {
      throw new PhotoError(
        `No digit found in ${file.name}: a dark digit on light paper (or light on dark), with some margin, works best`,
      );
    }
    return { ...read, name: file.name };
  } finally {
    bitmap.close();
  }
}

function fitted(width: number, height: number): { width: number; height: number } {
  const k = Math.min(1, DECODE_MAX_SIDE / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * k)), height: Math.max(1, Math.round(height * k)) };
}
