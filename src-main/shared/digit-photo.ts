import { fitPhoto } from './paper-photo';
import {
  preprocess,
  toGrayscaleInk,
  type InkImage,
  type InkOptions,
  type PreprocessOptions,
  type PreprocessResult,
} from './preprocess';

/**
 * How an image file of a digit (a photo of paper, a scan, a PNG drawing) becomes the model's
 * 28×28 input: the CLI's `predict` and the Draw panel's photo input both call this, so a file
 * gets the same answer in either.
 */

/** Photos get their lighting evened out and their specks cleared; small images stay as they are. */
export const PHOTO_INK: InkOptions = { lighting: 'auto', despeckle: true };

export interface DigitPhoto extends PreprocessResult {
  /** The ink as preprocessing read it (scaled to PHOTO_MAX_SIDE), for showing beside the photo. */
  readonly ink: InkImage;
}

export interface DigitImageOptions extends PreprocessOptions {
  /** Overrides PHOTO_INK, option by option. */
  readonly ink?: InkOptions;
}

export function readDigitPhoto(
  rgba: Uint8ClampedArray | Uint8Array,
  width: number,
  height: number,
  options: DigitImageOptions = {},
): DigitPhoto {
  const fitted = fitPhoto(rgba, width, height);
  const ink = toGrayscaleInk(fitted.rgba, fitted.width, fitted.height, {
    ...PHOTO_INK,
    ...options.ink,
  });
  return { ...preprocess(ink, options), ink };
}
