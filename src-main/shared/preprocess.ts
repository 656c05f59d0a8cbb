/**
 * MNIST-style digit preprocessing, reproducing how LeCun et al. built MNIST from NIST:
 * crop the ink, scale it so its larger side is 20 px (aspect kept, anti-aliased), then
 * translate it so its centre of mass sits on pixel (14, 14) of a 28×28 field.
 *
 * Pure on purpose (no Node, DOM or tfjs): the renderer's drawing pad runs this every frame
 * and the CLI runs it on decoded image files, and both must feed the model identical inputs.
 *
 * Coordinates: pixel (i, j) is the unit square [i, i+1) × [j, j+1); "index" coordinates
 * (centre of mass, MNIST_CENTRE) count a pixel's value at its index i, as numpy/MNIST do.
 */

import { evenOutLighting, MIN_PHOTO_SIDE, removeSpecks } from './paper-photo';

export const MNIST_SIDE = 28;
export const MNIST_PIXELS = MNIST_SIDE * MNIST_SIDE;
/** Larger side of the scaled digit, as in MNIST. */
export const DIGIT_BOX = 20;
/**
 * Index coordinate of the centre of mass in the field. Measured on the 60 000 MNIST training
 * digits: the centre of mass lies in [13.5, 14.5] on both axes (mean 14.0), i.e. MNIST
 * rounded it onto pixel 14, not onto the geometric centre 13.5.
 */
export const MNIST_CENTRE = 14;
/**
 * Ink level above which a pixel counts towards the bounding box: half an 8-bit grey level.
 * MNIST's own 20-px boxes include their faintest anti-aliased edge pixels (1/255), so a higher
 * threshold would shrink the box and blow real digits up; noise is not a concern here because
 * toGrayscaleInk floors the background to exactly 0. Pass a higher one for noisy float input.
 */
export const DEFAULT_INK_THRESHOLD = 0.5 / 255;

/** Single-channel image; for preprocessing, ink is bright (1) on a dark (0) background. */
export interface GrayImage {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface PreprocessOptions {
  /** Bounding-box ink threshold in [0, 1). Default DEFAULT_INK_THRESHOLD (≈ 0.002). */
  readonly threshold?: number;
  /**
   * Rescale so the brightest output pixel is 1. Default true: every MNIST digit peaks at
   * ≥ 250/255, while our inputs often do not (thin pen strokes lose peak intensity when
   * area-averaged down, photos have partial contrast), and the model never saw faint digits.
   */
  readonly normalize?: boolean;
  /**
   * Place the centre of mass exactly (sub-pixel) on MNIST_CENTRE. Default true, so the
   * drawing pad's input moves smoothly instead of jumping a whole pixel. false reproduces
   * MNIST bit for bit: integer shift, centre of mass within ±0.5 px, crisp box edges.
   */
  readonly subpixel?: boolean;
}

export interface PreprocessResult {
  /** 28×28 row-major, values in [0, 1]; all zeros when empty. */
  readonly pixels: Float32Array;
  /** No pixel above the threshold: there is no digit to classify. */
  readonly empty: boolean;
  /** Ink bounding box in source pixels; null when empty. */
  readonly box: Box | null;
  /** Centre of mass of the boxed ink, source index coordinates; null when empty. */
  readonly centre: Point | null;
  /** Output pixels per source pixel; 0 when empty. */
  readonly scale: number;
}

export interface CentreOfMass extends Point {
  /** Sum of the intensities. */
  readonly mass: number;
}

function assertImage(data: ArrayLike<number>, width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new RangeError(`image size must be non-negative integers, got ${width}×${height}`);
  }
  if (data.length !== width * height) {
    throw new RangeError(
      `image data has ${data.length} values, expected ${width}×${height} = ${width * height}`,
    );
  }
}

/** Smallest box holding every pixel strictly above `threshold`; null when there is none. */
export function boundingBox(
  pixels: Float32Array,
  width: number,
  height: number,
  threshold = DEFAULT_INK_THRESHOLD,
): Box | null {
  assertImage(pixels, width, height);
  let x0 = width;
  let x1 = -1;
  let y0 = height;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let first = -1;
    let last = -1;
    for (let x = 0; x < width; x++) {
      if (pixels[row + x]! > threshold) {
        if (first < 0) first = x;
        last = x;
      }
    }
    if (first < 0) continue;
    if (y0 === height) y0 = y;
    y1 = y;
    if (first < x0) x0 = first;
    if (last > x1) x1 = last;
  }
  if (y1 < 0) return null;
  return { x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

/** Intensity-weighted centroid in index coordinates, over `box` (default: whole image). */
export function centreOfMass(
  pixels: Float32Array,
  width: number,
  height: number,
  box: Box = { x: 0, y: 0, width, height },
): CentreOfMass | null {
  assertImage(pixels, width, height);
  let mass = 0;
  let mx = 0;
  let my = 0;
  for (let y = box.y; y < box.y + box.height; y++) {
    const row = y * width;
    let rowMass = 0;
    for (let x = box.x; x < box.x + box.width; x++) {
      const v = pixels[row + x]!;
      rowMass += v;
      mx += v * x;
    }
    mass += rowMass;
    my += rowMass * y;
  }
  if (!(mass > 0)) return null;
  return { x: mx / mass, y: my / mass, mass };
}

/**
 * Sparse 1-D resampling matrix: output o reads source indices start[o] … start[o]+count[o]-1
 * with weights[o*stride …]. Separable filtering with these keeps the 280×280 pad well inside
 * a frame budget (~bh·28·taps multiply-adds instead of a 2-D kernel per output pixel).
 */
interface Taps {
  readonly start: Int32Array;
  readonly count: Int32Array;
  readonly weights: Float32Array;
  readonly stride: number;
}

/**
 * Maps source span [srcStart, srcEnd) onto output pixels 0 … outSize-1 where source
 * coordinate x lands at output coordinate offset + (x - srcStart)·scale (continuous coords).
 * Downscaling area-averages (box filter: exact anti-aliasing, preserves mass and centroid);
 * upscaling interpolates linearly with edge clamping, times the output pixel's coverage of
 * the scaled span, so edges stay anti-aliased and the digit does not grow a blurry halo.
 */
function resampleTaps(
  srcStart: number,
  srcEnd: number,
  scale: number,
  offset: number,
  outSize: number,
): Taps {
  const upscale = scale > 1;
  const stride = upscale ? 2 : Math.ceil(1 / scale) + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * stride);
  const spanEnd = offset + (srcEnd - srcStart) * scale;
  for (let o = 0; o < outSize; o++) {
    const w = o * stride;
    if (upscale) {
      const coverage = Math.min(o + 1, spanEnd) - Math.max(o, offset);
      if (coverage <= 0) continue;
      const centre = srcStart + (o + 0.5 - offset) / scale - 0.5;
      const i0 = Math.floor(centre);
      const frac = centre - i0;
      const a = Math.min(Math.max(i0, srcStart), srcEnd - 1);
      const b = Math.min(Math.max(i0 + 1, srcStart), srcEnd - 1);
      start[o] = a;
      if (a === b) {
        count[o] = 1;
        weights[w] = coverage;
      } else {
        count[o] = 2;
        weights[w] = (1 - frac) * coverage;
        weights[w + 1] = frac * coverage;
      }
    } else {
      const lo = srcStart + (o - offset) / scale;
      const hi = lo + 1 / scale;
      const first = Math.max(srcStart, Math.floor(lo));
      const last = Math.min(srcEnd, Math.ceil(hi)); // exclusive
      if (last <= first) continue;
      start[o] = first;
      count[o] = last - first;
      for (let i = first; i < last; i++) {
        weights[w + i - first] = (Math.min(i + 1, hi) - Math.max(i, lo)) * scale;
      }
    }
  }
  return { start, count, weights, stride };
}

/** Resamples `box` of the source into a 28×28 field with the given per-axis taps. */
function resampleBox(image: GrayImage, box: Box, tx: Taps, ty: Taps): Float32Array {
  const { width, data } = image;
  const n = MNIST_SIDE;
  // Horizontal pass only over the box rows the vertical pass will read.
  const rows = new Float32Array(box.height * n);
  for (let r = 0; r < box.height; r++) {
    const src = (box.y + r) * width;
    const dst = r * n;
    for (let x = 0; x < n; x++) {
      const c = tx.count[x]!;
      if (c === 0) continue;
      const s = src + tx.start[x]!;
      const w = x * tx.stride;
      let sum = 0;
      for (let k = 0; k < c; k++) sum += tx.weights[w + k]! * data[s + k]!;
      rows[dst + x] = sum;
    }
  }
  const out = new Float32Array(MNIST_PIXELS);
  for (let y = 0; y < n; y++) {
    const c = ty.count[y]!;
    if (c === 0) continue;
    const r0 = ty.start[y]! - box.y;
    const w = y * ty.stride;
    const dst = y * n;
    for (let k = 0; k < c; k++) {
      const wk = ty.weights[w + k]!;
      const src = (r0 + k) * n;
      for (let x = 0; x < n; x++) out[dst + x] = out[dst + x]! + wk * rows[src + x]!;
    }
  }
  return out;
}

function render(image: GrayImage, box: Box, scale: number, ox: number, oy: number) {
  const tx = resampleTaps(box.x, box.x + box.width, scale, ox, MNIST_SIDE);
  const ty = resampleTaps(box.y, box.y + box.height, scale, oy, MNIST_SIDE);
  return resampleBox(image, box, tx, ty);
}

function centreError(pixels: Float32Array): Point {
  const c = centreOfMass(pixels, MNIST_SIDE, MNIST_SIDE);
  return c ? { x: MNIST_CENTRE - c.x, y: MNIST_CENTRE - c.y } : { x: 0, y: 0 };
}

function normalizeInPlace(pixels: Float32Array, normalize: boolean): void {
  let peak = 0;
  for (let i = 0; i < pixels.length; i++) if (pixels[i]! > peak) peak = pixels[i]!;
  const k = normalize && peak > 0 ? 1 / peak : 1;
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.min(1, Math.max(0, pixels[i]! * k));
}

function emptyResult(): PreprocessResult {
  return { pixels: new Float32Array(MNIST_PIXELS), empty: true, box: null, centre: null, scale: 0 };
}

/** Turns a bright-ink grayscale image into the 28×28 MNIST-style input the model expects. */
export function preprocess(image: GrayImage, options: PreprocessOptions = {}): PreprocessResult {
  const { threshold = DEFAULT_INK_THRESHOLD, normalize = true, subpixel = true } = options;
  const { width, height, data } = image;
  const box = boundingBox(data, width, height, threshold);
  if (!box) return emptyResult();
  const centre = centreOfMass(data, width, height, box);
  if (!centre) return emptyResult();

  const scale = DIGIT_BOX / Math.max(box.width, box.height);
  // Field position of the box's top-left corner that puts the centroid (pixel centre
  // index + 0.5 in continuous coordinates) on MNIST_CENTRE + 0.5.
  let ox = MNIST_CENTRE + 0.5 - (centre.x + 0.5 - box.x) * scale;
  let oy = MNIST_CENTRE + 0.5 - (centre.y + 0.5 - box.y) * scale;
  if (!subpixel) {
    ox = Math.round(ox);
    oy = Math.round(oy);
  }
  let pixels = render(image, box, scale, ox, oy);

  if (subpixel) {
    // The centroid mapping is exact for area averaging but only approximate for the
    // upscaling filter and when the field clips the digit; one measured correction fixes
    // the former, and keeping the better of the two guards against chasing the latter.
    const err = centreError(pixels);
    if (Math.abs(err.x) > 1e-3 || Math.abs(err.y) > 1e-3) {
      const retry = render(image, box, scale, ox + err.x, oy + err.y);
      const err2 = centreError(retry);
      if (Math.hypot(err2.x, err2.y) < Math.hypot(err.x, err.y)) pixels = retry;
    }
  }
  normalizeInPlace(pixels, normalize);
  return { pixels, empty: false, box, centre: { x: centre.x, y: centre.y }, scale };
}

export type Polarity = 'dark-on-light' | 'light-on-dark';

export interface InkOptions {
  /** Default 'auto': decided from the border (or, if transparent, from the content). */
  readonly polarity?: 'auto' | Polarity;
  /**
   * Stretch the contrast so the strongest ink is 1. Default true: the bounding-box
   * threshold is absolute, so faint pencil would otherwise vanish or sit in the noise.
   */
  readonly stretch?: boolean;
  /** Images whose ink contrast (after the noise floor) is below this come out blank. Default 0.1. */
  readonly minContrast?: number;
  /**
   * 'even': divide out light that changes across the image (paper-photo.ts), as photos of paper
   * need; 'auto': only for images at least MIN_PHOTO_SIDE on both sides. Default 'as-is'.
   */
  readonly lighting?: 'as-is' | 'even' | 'auto';
  /** Clear ink components too light to be strokes (paper-photo.ts removeSpecks). Default false. */
  readonly despeckle?: boolean;
}

export interface InkImage extends GrayImage {
  readonly polarity: Polarity;
  /** Estimated background luminance in [0, 1]. */
  readonly background: number;
}

/** Noise floor = this × median absolute deviation of the border luminance (≈ 2.7σ). */
const NOISE_MAD_FACTOR = 4;
const MAX_NOISE = 0.5;

/** Indices of the outermost ring of pixels, where a digit photo or drawing shows paper. */
function borderIndices(width: number, height: number): Int32Array {
  if (width === 0 || height === 0) return new Int32Array(0);
  if (width <= 2 || height <= 2) return Int32Array.from({ length: width * height }, (_, i) => i);
  const out = new Int32Array(2 * width + 2 * (height - 2));
  let k = 0;
  for (let x = 0; x < width; x++) {
    out[k++] = x;
    out[k++] = (height - 1) * width + x;
  }
  for (let y = 1; y < height - 1; y++) {
    out[k++] = y * width;
    out[k++] = y * width + width - 1;
  }
  return out;
}

const LUMA_R = 0.299 / 255;
const LUMA_G = 0.587 / 255;
const LUMA_B = 0.114 / 255;

/** Rec. 601 luma in 0 … 255, as PIL's "L" mode computes it. */
function luma(rgba: ArrayLike<number>, i: number): number {
  return (rgba[4 * i]! * 299 + rgba[4 * i + 1]! * 587 + rgba[4 * i + 2]! * 114) / 1000;
}

/** Median of a 256-bin histogram holding `total` samples, in bin units. */
function histogramMedian(hist: Uint32Array, total: number): number {
  let seen = 0;
  for (let b = 0; b < hist.length; b++) {
    seen += hist[b]!;
    if (seen * 2 >= total) return b;
  }
  return hist.length - 1;
}

/**
 * Background luminance: median of the opaque border when the border is mostly opaque
 * (paper or canvas fill); otherwise the background is transparent and we pick the luminance
 * opposite to the alpha-weighted content, so black-on-transparent and white-on-transparent
 * strokes both read as ink.
 */
function estimateBackground(rgba: ArrayLike<number>, n: number, border: Int32Array): number {
  const hist = new Uint32Array(256);
  let opaque = 0;
  for (let k = 0; k < border.length; k++) {
    const i = border[k]!;
    if (rgba[4 * i + 3]! < 128) continue;
    opaque++;
    hist[Math.round(luma(rgba, i))]!++;
  }
  if (opaque > 0 && opaque * 2 >= border.length) return histogramMedian(hist, opaque) / 255;
  let alphaSum = 0;
  let lumaSum = 0;
  for (let i = 0; i < n; i++) {
    const a = rgba[4 * i + 3]!;
    alphaSum += a;
    lumaSum += a * luma(rgba, i);
  }
  return alphaSum > 0 && lumaSum / alphaSum / 255 >= 0.5 ? 0 : 1;
}

/** Noise floor from the spread of the border around the background (robust to ink on it). */
function estimateNoise(luminance: Float32Array, border: Int32Array, background: number): number {
  if (border.length === 0) return 0;
  const hist = new Uint32Array(256);
  for (let k = 0; k < border.length; k++) {
    const dev = Math.abs(luminance[border[k]!]! - background);
    hist[Math.min(255, Math.round(dev * 255))]!++;
  }
  const mad = histogramMedian(hist, border.length) / 255;
  return Math.min(MAX_NOISE, NOISE_MAD_FACTOR * mad);
}

function resolvePolarity(requested: InkOptions['polarity'], background: number) {
  if (requested && requested !== 'auto') return requested;
  return background >= 0.5 ? 'dark-on-light' : 'light-on-dark';
}

/**
 * Converts RGBA pixels (canvas ImageData, decoded PNG) into bright-on-dark ink in [0, 1]:
 * transparent pixels are background, the background level comes from the border, dark ink
 * on light paper is inverted, the border's noise is floored away and the contrast stretched.
 */
export function toGrayscaleInk(
  rgba: Uint8ClampedArray | Uint8Array,
  width: number,
  height: number,
  options: InkOptions = {},
): InkImage {
  const { stretch = true, minContrast = 0.1, lighting = 'as-is', despeckle = false } = options;
  const n = width * height;
  if (rgba.length !== 4 * n) {
    throw new RangeError(`RGBA data has ${rgba.length} bytes, expected 4×${width}×${height}`);
  }
  assertImage({ length: n }, width, height);
  const border = borderIndices(width, height);
  const estimated = estimateBackground(rgba, n, border);
  const polarity = resolvePolarity(options.polarity, estimated);
  // A forced polarity that contradicts the estimate means the border is not paper.
  const darkInk = polarity === 'dark-on-light';
  let background = darkInk === estimated >= 0.5 ? estimated : darkInk ? 1 : 0;

  const data = new Float32Array(n);
  for (let i = 0, p = 0; i < n; i++, p += 4) {
    // Inlined luma(): this loop is most of the drawing pad's per-frame cost.
    const a = rgba[p + 3]! * (1 / 255);
    const y = rgba[p]! * LUMA_R + rgba[p + 1]! * LUMA_G + rgba[p + 2]! * LUMA_B;
    data[i] = a * y + (1 - a) * background;
  }
  if (lighting === 'even' || (lighting === 'auto' && Math.min(width, height) >= MIN_PHOTO_SIDE)) {
    background = evenOutLighting(data, width, height, darkInk);
  }
  const noise = estimateNoise(data, border, background);

  let peak = 0;
  for (let i = 0; i < n; i++) {
    const ink = darkInk ? background - data[i]! : data[i]! - background;
    const v = ink > noise ? ink - noise : 0;
    data[i] = v;
    if (v > peak) peak = v;
  }
  // Without stretching, full-strength ink on this paper (black on white, or white on black)
  // still maps to 1.
  const fullScale = (darkInk ? background : 1 - background) - noise;
  const gain = peak < minContrast ? 0 : 1 / (stretch ? peak : Math.max(peak, fullScale));
  for (let i = 0; i < n; i++) data[i] = Math.min(1, data[i]! * gain);
  if (despeckle && gain > 0) removeSpecks(data, width, height);
  return { width, height, data, polarity, background };
}
