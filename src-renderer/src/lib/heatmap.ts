/**
 * Colour maps and painters for the Draw panel's inside view. Canvases are sized by their
 * width/height attributes and painted cell by cell: the page's CSP forbids inline styles, so
 * nothing here sets a style.
 */

export type Rgb = readonly [number, number, number];

/** Black → violet → orange → pale yellow (after matplotlib's magma): 0 is black, so no ink is no colour. */
const MAGMA: readonly Rgb[] = [
  [0, 0, 4],
  [81, 18, 124],
  [183, 55, 121],
  [252, 137, 97],
  [252, 253, 191],
];
/** Blue ← the page's background → red: negative and positive against a neutral dark zero. */
const BLUE: Rgb = [59, 130, 246];
const ZERO: Rgb = [23, 26, 33];
const RED: Rgb = [239, 68, 68];

/** t in [0, 1], clamped. */
export function sequential(t: number): Rgb {
  const x = clamp01(t) * (MAGMA.length - 1);
  const i = Math.min(MAGMA.length - 2, Math.floor(x));
  return mix(MAGMA[i]!, MAGMA[i + 1]!, x - i);
}

/** t in [−1, 1], clamped: −1 blue, 0 neutral, +1 red. */
export function diverging(t: number): Rgb {
  const x = Math.max(-1, Math.min(1, t));
  return x < 0 ? mix(ZERO, BLUE, -x) : mix(ZERO, RED, x);
}

/** Largest |value| (0 for none), the scale that maps a set of values onto a colour map. */
export function maxAbs(values: ArrayLike<number>, start = 0, end = values.length): number {
  let m = 0;
  for (let i = start; i < end; i++) m = Math.max(m, Math.abs(values[i]!));
  return m;
}

export interface Grid {
  width: number;
  height: number;
  /** Value of cell (x, y). */
  at: (x: number, y: number) => number;
  /** Colour of a value. */
  colour: (v: number) => Rgb;
  /** Screen pixels per cell. */
  cell: number;
}

/** Paints a grid of cells into a canvas sized width·cell × height·cell (no-op without a 2-D context). */
export function paintGrid(canvas: HTMLCanvasElement, grid: Grid): void {
  const w = grid.width * grid.cell;
  const h = grid.height * grid.cell;
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const image = ctx.createImageData(w, h);
  fillGrid(image.data, grid);
  ctx.putImageData(image, 0, 0);
}

/** The RGBA bytes of a painted grid, row-major; separate from the canvas so it can be tested. */
export function fillGrid(data: Uint8ClampedArray, grid: Grid): void {
  const w = grid.width * grid.cell;
  for (let y = 0; y < grid.height; y++)
    for (let x = 0; x < grid.width; x++) {
      const [r, g, b] = grid.colour(grid.at(x, y));
      for (let dy = 0; dy < grid.cell; dy++)
        for (let dx = 0; dx < grid.cell; dx++) {
          const o = 4 * ((y * grid.cell + dy) * w + x * grid.cell + dx);
          data[o] = r;
          data[o + 1] = g;
          data[o + 2] = b;
          data[o + 3] = 255;
        }
    }
}

/**
 * The colour map for one layer's values, scaled by the layer's largest |value| so its channels
 * compare with each other: magma when nothing is negative (after a ReLU), blue–red otherwise.
 */
export function layerColour(values: ArrayLike<number>): (v: number) => Rgb {
  const scale = maxAbs(values) || 1;
  let negative = false;
  for (let i = 0; i < values.length && !negative; i++) negative = values[i]! < 0;
  return negative ? (v) => diverging(v / scale) : (v) => sequential(v / scale);
}

/**
 * The saliency overlay on the model's input: the input in dim grey, with the attribution's
 * colour laid over it, opaque in proportion to |attribution| / the largest.
 */
export function saliencyColour(input: number, attribution: number, scale: number): Rgb {
  const grey = Math.round(input * 110);
  const t = scale > 0 ? attribution / scale : 0;
  const [r, g, b] = t < 0 ? BLUE : RED;
  const a = Math.sqrt(Math.min(1, Math.abs(t)));
  return [grey + (r - grey) * a, grey + (g - grey) * a, grey + (b - grey) * a].map(
    Math.round,
  ) as unknown as Rgb;
}

function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [0, 1, 2].map((i) => Math.round(a[i]! + (b[i]! - a[i]!) * t)) as unknown as Rgb;
}

function clamp01(t: number): number {
  return Number.isNaN(t) ? 0 : Math.max(0, Math.min(1, t));
}
