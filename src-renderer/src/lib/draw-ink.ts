import type { GrayImage, Point } from '$shared/preprocess';

/**
 * The drawing pad's model, without a DOM: pointer positions become round-capped, round-joined
 * strokes, and every stroke piece is rasterised into a grey ink buffer (1 = ink, 0 = background) that
 * preprocessing reads. The component strokes the very same pieces onto its display canvas, so
 * what the user sees is what the model is given, and jsdom tests can draw without a canvas.
 */

/** Side of the ink buffer in pad units; the display canvas maps its CSS box onto it. */
export const PAD_SIDE = 280;
/**
 * Pen diameter in pad units. MNIST strokes are 2–3 px wide on a 20 px tall digit, about an
 * eighth of its height. With 24 units, digits drawn at a natural 170–215 of the pad's 280 units
 * carry 80–92 % of MNIST's mean ink per class after preprocessing (120 units: about 115 %).
 * Mouse-drawn digits of every class in two hands (tests/e2e/digit-strokes.ts) were all
 * recognised by a 2-epoch CNN (98.4 % validation accuracy) at heights 80–250 with any pen from
 * 16 to 26 units; 24 is the one closest to MNIST's ink at natural sizes.
 */
export const PEN_WIDTH = 24;
/**
 * The smallest drawing worth a prediction: its ink's bounding box must reach this many pad units
 * on its longer side (a fifth of the pad). Preprocessing scales any drawing up to MNIST's 20 px,
 * so a dot (one pen width, 24 units) would become a fat blob that models read as an 8 or a 0
 * with high confidence; the natural digits in tests/e2e/digit-strokes.ts are 80–250 units tall.
 */
export const MIN_DIGIT_SIDE = 56;
/** Shown, and announced, instead of a guess at a drawing under MIN_DIGIT_SIDE. */
export const TOO_SMALL_TEXT = 'Too small to read: draw the digit bigger';
/** Pointer moves shorter than this (pad units) are jitter: they add nothing to the stroke. */
const MIN_STEP = 0.5;

/** Points the pad has rasterised and the display must stroke: one point is a dot. */
export type Piece = readonly Point[];

/**
 * Paints a round-capped segment of diameter `width` into `ink` (side × side) with exact area
 * anti-aliasing of its edge (coverage = distance to the edge, clamped to one pixel), keeping
 * the brighter value where strokes overlap, so joins and crossings never get darker or lighter.
 */
export function paintSegment(
  ink: Float32Array,
  side: number,
  a: Point,
  b: Point,
  width = PEN_WIDTH,
): void {
  const r = width / 2;
  const x0 = Math.max(0, Math.floor(Math.min(a.x, b.x) - r - 1));
  const x1 = Math.min(side - 1, Math.ceil(Math.max(a.x, b.x) + r + 1));
  const y0 = Math.max(0, Math.floor(Math.min(a.y, b.y) - r - 1));
  const y1 = Math.min(side - 1, Math.ceil(Math.max(a.y, b.y) + r + 1));
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  const edge = r + 0.5;
  for (let y = y0; y <= y1; y++) {
    const py = y + 0.5 - a.y;
    const row = y * side;
    for (let x = x0; x <= x1; x++) {
      const px = x + 0.5 - a.x;
      let t = len2 > 0 ? (px * dx + py * dy) / len2 : 0;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      const ex = px - t * dx;
      const ey = py - t * dy;
      const d = Math.sqrt(ex * ex + ey * ey);
      if (d >= edge) continue;
      const coverage = edge - d > 1 ? 1 : edge - d;
      if (coverage > ink[row + x]!) ink[row + x] = coverage;
    }
  }
}

export class InkPad {
  readonly side: number;
  readonly penWidth: number;
  /** Ink, row-major side × side, in [0, 1]. */
  readonly ink: Float32Array;
  /** Everything painted so far, in order, so a resized display can repaint it. */
  readonly pieces: Piece[] = [];
  /** The pen's last painted position while it is down. */
  private last: Point | null = null;

  constructor(side = PAD_SIDE, penWidth = PEN_WIDTH) {
    this.side = side;
    this.penWidth = penWidth;
    this.ink = new Float32Array(side * side);
  }

  get empty(): boolean {
    return this.pieces.length === 0;
  }

  /** Width and height of the ink's bounding box, pen included (0 × 0 when empty). */
  extent(): { width: number; height: number } {
    if (this.empty) return { width: 0, height: 0 };
    let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const piece of this.pieces)
      for (const p of piece) {
        x0 = Math.min(x0, p.x);
        y0 = Math.min(y0, p.y);
        x1 = Math.max(x1, p.x);
        y1 = Math.max(y1, p.y);
      }
    return { width: x1 - x0 + this.penWidth, height: y1 - y0 + this.penWidth };
  }

  /** Too small to read as a digit (see MIN_DIGIT_SIDE): ask for a bigger one instead. */
  get tooSmall(): boolean {
    const { width, height } = this.extent();
    return !this.empty && Math.max(width, height) < MIN_DIGIT_SIDE;
  }

  /** The pen is down. */
  get active(): boolean {
    return this.last !== null;
  }

  /** The buffer as preprocessing takes it (shared, not copied). */
  image(): GrayImage {
    return { width: this.side, height: this.side, data: this.ink };
  }

  /** Pen down: a dot, so a tap leaves a mark as it does on paper. */
  begin(p: Point): Piece {
    this.last = p;
    return this.paint([p]);
  }

  /**
   * Pen moves: a straight piece from the last position, joined round. The ink follows the
   * pointer without lag; fast strokes stay smooth because the component feeds every coalesced
   * position (a mouse reports every 1–8 ms, a pen more often). Returns the newly painted piece,
   * empty when the move was below a pixel's jitter or the pen is up.
   */
  extend(p: Point): Piece {
    const last = this.last;
    if (!last || Math.hypot(p.x - last.x, p.y - last.y) < MIN_STEP) return [];
    this.last = p;
    return this.paint([last, p]);
  }

  /** Pen up. Everything up to the pointer is already painted, so nothing changes. */
  end(): void {
    this.last = null;
  }

  clear(): void {
    this.ink.fill(0);
    this.pieces.length = 0;
    this.last = null;
  }

  private paint(piece: Point[]): Piece {
    if (piece.length === 1) paintSegment(this.ink, this.side, piece[0]!, piece[0]!, this.penWidth);
    for (let i = 1; i < piece.length; i++)
      paintSegment(this.ink, this.side, piece[i - 1]!, piece[i]!, this.penWidth);
    this.pieces.push(piece);
    return piece;
  }
}

/** Draws a whole digit (strokes of pad points, as a pointer would send them) into a new pad. */
export function drawStrokes(strokes: readonly (readonly Point[])[], pad = new InkPad()): InkPad {
  for (const stroke of strokes) {
    if (!stroke.length) continue;
    pad.begin(stroke[0]!);
    for (let i = 1; i < stroke.length; i++) pad.extend(stroke[i]!);
    pad.end();
  }
  return pad;
}
