/**
 * What a photo of a digit on paper needs before toGrayscaleInk's global threshold can read it:
 * light that falls off across the sheet, and specks of paper texture or sensor noise away from
 * the digit. With one background level for the whole image, a shaded corner reads as ink and the
 * bounding box grows to the whole photo; a single speck far from the digit does the same.
 *
 * Pure like preprocess.ts: the Draw panel's photo input and the CLI's `predict` share it.
 */

/** Photos are scaled to this longer side first: the digit still spans 100+ px, and it bounds the cost. */
export const PHOTO_MAX_SIDE = 512;
/**
 * Below this shorter side an image is a scan or a drawing, not a photo: there is no lighting
 * to even out, and a window wider than the strokes would not fit.
 */
export const MIN_PHOTO_SIDE = 64;
/**
 * The paper's local level is the brightest pixel within shorter side / LIGHTING_WINDOW_DIVISOR
 * (half-width): wider than any pen stroke of a digit that fills half the frame (an eighth of its
 * height, a sixteenth of the side), narrower than the way light changes across a sheet.
 */
export const LIGHTING_WINDOW_DIVISOR = 16;
/** Ink components lighter than this share of the heaviest one are specks, not strokes. */
export const SPECK_MASS_SHARE = 0.05;

/**
 * Area-averaged downscale of RGBA pixels so the longer side is at most `maxSide` (alpha-weighted
 * colour, so transparent pixels do not darken edges). Returns the input when it is small enough.
 */
export function fitPhoto(
  rgba: Uint8ClampedArray | Uint8Array,
  width: number,
  height: number,
  maxSide = PHOTO_MAX_SIDE,
): { rgba: Uint8ClampedArray | Uint8Array; width: number; height: number } {
  const longer = Math.max(width, height);
  if (longer <= maxSide) return { rgba, width, height };
  const k = maxSide / longer;
  const w = Math.max(1, Math.round(width * k));
  const h = Math.max(1, Math.round(height * k));
  const sums = new Float64Array(w * h * 5);
  const sx = w / width;
  const sy = h / height;
  // Each source pixel adds its area share to the one to four target pixels it overlaps.
  for (let y = 0; y < height; y++) {
    const ty0 = y * sy;
    const ty1 = (y + 1) * sy;
    const ya = Math.floor(ty0);
    const yb = Math.min(h - 1, Math.floor(ty1 - 1e-9));
    for (let x = 0; x < width; x++) {
      const tx0 = x * sx;
      const tx1 = (x + 1) * sx;
      const xa = Math.floor(tx0);
      const xb = Math.min(w - 1, Math.floor(tx1 - 1e-9));
      const p = 4 * (y * width + x);
      const a = rgba[p + 3]!;
      for (let ty = ya; ty <= yb; ty++) {
        const fy = Math.min(ty1, ty + 1) - Math.max(ty0, ty);
        for (let tx = xa; tx <= xb; tx++) {
          const f = fy * (Math.min(tx1, tx + 1) - Math.max(tx0, tx));
          const q = 5 * (ty * w + tx);
          const fa = f * a;
          sums[q] = sums[q]! + fa * rgba[p]!;
          sums[q + 1] = sums[q + 1]! + fa * rgba[p + 1]!;
          sums[q + 2] = sums[q + 2]! + fa * rgba[p + 2]!;
          sums[q + 3] = sums[q + 3]! + fa;
          sums[q + 4] = sums[q + 4]! + f;
        }
      }
    }
  }
  const out = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    const alpha = sums[5 * i + 3]!;
    const area = sums[5 * i + 4]!;
    if (alpha > 0) {
      out[4 * i] = sums[5 * i]! / alpha;
      out[4 * i + 1] = sums[5 * i + 1]! / alpha;
      out[4 * i + 2] = sums[5 * i + 2]! / alpha;
    }
    out[4 * i + 3] = area > 0 ? alpha / area : 0;
  }
  return { rgba: out, width: w, height: h };
}

/**
 * Running max (or min) over a window of ±radius along one axis. Past the image's edges each line
 * goes on as a point reflection (v(-k) = 2·v(0) − v(k)): light that changes linearly keeps
 * changing the same way, so a closing returns it unchanged up to the edge, where clamping the
 * window would lift the paper by the gradient times the radius.
 */
function slidingExtreme(
  src: Float32Array,
  dst: Float32Array,
  width: number,
  height: number,
  radius: number,
  horizontal: boolean,
  max: boolean,
): void {
  const lines = horizontal ? height : width;
  const length = horizontal ? width : height;
  const step = horizontal ? 1 : width;
  const r = Math.min(radius, length - 1);
  const line = new Float32Array(length + 2 * r);
  // A monotonic deque of positions along the line: the front is the window's extreme, so each
  // value enters and leaves once whatever the radius (a naive window is O(radius) per pixel).
  const deque = new Int32Array(line.length);
  for (let l = 0; l < lines; l++) {
    const base = horizontal ? l * width : l;
    const first = src[base]!;
    const last = src[base + (length - 1) * step]!;
    for (let i = 0; i < length; i++) line[r + i] = src[base + i * step]!;
    for (let k = 1; k <= r; k++) {
      line[r - k] = 2 * first - line[r + k]!;
      line[r + length - 1 + k] = 2 * last - line[r + length - 1 - k]!;
    }
    let head = 0;
    let tail = 0;
    let next = 0;
    for (let i = 0; i < length; i++) {
      // Output i is the extreme of line[i … i + 2r].
      for (; next <= i + 2 * r; next++) {
        const v = line[next]!;
        while (tail > head) {
          const back = line[deque[tail - 1]!]!;
          if (max ? back > v : back < v) break;
          tail--;
        }
        deque[tail++] = next;
      }
      while (deque[head]! < i) head++;
      dst[base + i * step] = line[deque[head]!]!;
    }
  }
}

/**
 * The paper's own level under each pixel: a morphological closing (the brightest value nearby,
 * then the darkest of those) for dark ink, an opening for light ink. The window always reaches
 * paper beside a stroke, so strokes are filled with the paper around them, while light that
 * changes smoothly comes back unchanged (a plain local maximum would overshoot it by the
 * gradient times the radius: 6 % on a sheet half as bright at one edge).
 */
export function paperLevel(
  luminance: Float32Array,
  width: number,
  height: number,
  darkInk: boolean,
  radius = Math.max(2, Math.round(Math.min(width, height) / LIGHTING_WINDOW_DIVISOR)),
): Float32Array {
  const a = new Float32Array(luminance.length);
  const b = new Float32Array(luminance.length);
  slidingExtreme(luminance, a, width, height, radius, true, darkInk);
  slidingExtreme(a, b, width, height, radius, false, darkInk);
  slidingExtreme(b, a, width, height, radius, true, !darkInk);
  slidingExtreme(a, b, width, height, radius, false, !darkInk);
  return b;
}

/**
 * Divides the light out, in place: dark ink on light paper becomes paper = 1 with ink at its
 * reflectance relative to the paper beside it (shading scales both alike); light ink on dark
 * becomes paper = 0 with ink relative to the headroom above the local paper. Returns the new
 * background level.
 */
export function evenOutLighting(
  luminance: Float32Array,
  width: number,
  height: number,
  darkInk: boolean,
): number {
  const paper = paperLevel(luminance, width, height, darkInk);
  for (let i = 0; i < luminance.length; i++) {
    const p = paper[i]!;
    const v = luminance[i]!;
    luminance[i] = darkInk
      ? Math.min(1, v / Math.max(p, 1 / 255))
      : Math.max(0, Math.min(1, (v - p) / Math.max(1 - p, 1 / 255)));
  }
  return darkInk ? 1 : 0;
}

/**
 * Clears, in place, the 8-connected ink components (pixels > 0) whose summed ink is under
 * SPECK_MASS_SHARE of the heaviest component's. A digit's strokes, even a 5's detached bar or a
 * broken pencil line, each carry far more than that; dust and texture carry less. Returns the
 * number of components cleared.
 */
export function removeSpecks(
  ink: Float32Array,
  width: number,
  height: number,
  share = SPECK_MASS_SHARE,
): number {
  const n = width * height;
  const label = new Int32Array(n).fill(-1);
  const masses: number[] = [];
  const stack = new Int32Array(n);
  for (let start = 0; start < n; start++) {
    if (ink[start]! <= 0 || label[start] !== -1) continue;
    const id = masses.length;
    let mass = 0;
    let top = 0;
    stack[top++] = start;
    label[start] = id;
    while (top > 0) {
      const i = stack[--top]!;
      mass += ink[i]!;
      const x = i % width;
      const y = (i - x) / width;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const j = ny * width + nx;
          if (ink[j]! > 0 && label[j] === -1) {
            label[j] = id;
            stack[top++] = j;
          }
        }
      }
    }
    masses.push(mass);
  }
  // A loop, not Math.max(...masses): a noisy photo can have more components than arguments fit.
  let heaviest = 0;
  for (const m of masses) if (m > heaviest) heaviest = m;
  const keep = masses.map((m) => m >= share * heaviest);
  let cleared = 0;
  for (const k of keep) if (!k) cleared++;
  if (cleared === 0) return 0;
  for (let i = 0; i < n; i++) {
    const id = label[i]!;
    if (id >= 0 && !keep[id]) ink[i] = 0;
  }
  return cleared;
}
