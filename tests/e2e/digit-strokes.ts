import { mulberry32 } from '../../src-main/engine/random';

/**
 * The ten digits as a person draws them with a mouse: strokes through a few hand-placed
 * waypoints (in a digit box 1 high and about 0.6 wide, y down), smoothed with Catmull-Rom
 * splines, then sampled at the spacing a mouse reports (~5 pad units at drawing speed) with a
 * small hand tremor. Not pixel copies of MNIST: shapes, stroke order and corners follow how the
 * digits are written (an open-top 4 in two strokes, a 5 whose hat comes last, a one-stroke 8).
 */

export interface Point {
  readonly x: number;
  readonly y: number;
}

/** A stroke is pieces of spline that meet at sharp corners (e.g. the 7's elbow). */
type Stroke = readonly (readonly [number, number][])[];

export const DIGIT_SHAPES: readonly (readonly Stroke[])[] = [
  // 0: one loop, started at the top, anticlockwise, closing with a small overlap.
  [
    [
      [
        [0.34, 0],
        [0.12, 0.16],
        [0.03, 0.5],
        [0.12, 0.86],
        [0.32, 1],
        [0.52, 0.86],
        [0.6, 0.5],
        [0.53, 0.14],
        [0.34, 0],
        [0.22, 0.07],
      ],
    ],
  ],
  // 1: a single down stroke, slightly leaning.
  [
    [
      [
        [0.36, 0],
        [0.34, 0.5],
        [0.31, 1],
      ],
    ],
  ],
  // 2: hook over the top, diagonal down, flat base.
  [
    [
      [
        [0.04, 0.22],
        [0.18, 0.04],
        [0.4, 0],
        [0.56, 0.14],
        [0.52, 0.38],
        [0.3, 0.66],
        [0.04, 0.97],
      ],
      [
        [0.04, 0.97],
        [0.34, 0.97],
        [0.64, 0.96],
      ],
    ],
  ],
  // 3: two bumps, top then bottom, in one stroke.
  [
    [
      [
        [0.06, 0.1],
        [0.28, 0],
        [0.5, 0.07],
        [0.52, 0.26],
        [0.26, 0.46],
      ],
      [
        [0.26, 0.46],
        [0.5, 0.56],
        [0.58, 0.77],
        [0.45, 0.95],
        [0.22, 1],
        [0.02, 0.9],
      ],
    ],
  ],
  // 4: open top: down-left and across, then the upright as a second stroke.
  [
    [
      [
        [0.38, 0],
        [0.2, 0.34],
        [0.02, 0.64],
      ],
      [
        [0.02, 0.64],
        [0.32, 0.63],
        [0.64, 0.62],
      ],
    ],
    [
      [
        [0.5, 0.28],
        [0.49, 0.64],
        [0.48, 1],
      ],
    ],
  ],
  // 5: the stem and belly first, the hat last.
  [
    [
      [
        [0.14, 0],
        [0.11, 0.22],
        [0.08, 0.45],
      ],
      [
        [0.08, 0.45],
        [0.3, 0.38],
        [0.52, 0.48],
        [0.6, 0.7],
        [0.48, 0.92],
        [0.26, 1],
        [0.03, 0.91],
      ],
    ],
    [
      [
        [0.14, 0.01],
        [0.38, 0.01],
        [0.6, 0],
      ],
    ],
  ],
  // 6: a long curve down from the top right, closing into a loop at the bottom.
  [
    [
      [
        [0.52, 0.02],
        [0.3, 0.2],
        [0.12, 0.5],
        [0.08, 0.78],
        [0.28, 1],
        [0.5, 0.9],
        [0.54, 0.68],
        [0.36, 0.55],
        [0.16, 0.6],
        [0.09, 0.74],
      ],
    ],
  ],
  // 7: the bar, a sharp elbow, the long diagonal.
  [
    [
      [
        [0.02, 0.04],
        [0.32, 0.03],
        [0.62, 0.02],
      ],
      [
        [0.62, 0.02],
        [0.48, 0.32],
        [0.36, 0.64],
        [0.27, 1],
      ],
    ],
  ],
  // 8: one stroke, S down and back up through the waist.
  [
    [
      [
        [0.54, 0.12],
        [0.32, 0],
        [0.1, 0.1],
        [0.14, 0.3],
        [0.32, 0.45],
        [0.52, 0.6],
        [0.56, 0.85],
        [0.34, 1],
        [0.1, 0.88],
        [0.14, 0.65],
        [0.34, 0.48],
        [0.5, 0.32],
        [0.53, 0.13],
      ],
    ],
  ],
  // 9: the head anticlockwise, then straight down from its right side.
  [
    [
      [
        [0.54, 0.14],
        [0.34, 0.02],
        [0.12, 0.1],
        [0.08, 0.3],
        [0.26, 0.45],
        [0.48, 0.37],
        [0.55, 0.16],
      ],
      [
        [0.55, 0.16],
        [0.53, 0.55],
        [0.5, 1],
      ],
    ],
  ],
];

/** Second hands: other common ways to write each digit. */
export const DIGIT_SHAPES_ALT: readonly (readonly Stroke[])[] = [
  // 0: started at the top right, clockwise, a narrow tilted oval left slightly open.
  [
    [
      [
        [0.46, 0.04],
        [0.58, 0.3],
        [0.54, 0.7],
        [0.34, 0.98],
        [0.12, 0.86],
        [0.06, 0.45],
        [0.2, 0.08],
        [0.4, 0.02],
      ],
    ],
  ],
  // 1: with a short lead-in flag at the top.
  [
    [
      [
        [0.16, 0.2],
        [0.28, 0.1],
        [0.4, 0],
      ],
      [
        [0.4, 0],
        [0.38, 0.5],
        [0.36, 1],
      ],
    ],
  ],
  // 2: a round top and a small loop where the diagonal meets the base.
  [
    [
      [
        [0.06, 0.3],
        [0.12, 0.08],
        [0.34, 0],
        [0.54, 0.1],
        [0.56, 0.32],
        [0.38, 0.58],
        [0.12, 0.86],
        [0.1, 0.98],
        [0.24, 0.92],
        [0.18, 0.86],
        [0.3, 0.95],
        [0.48, 0.98],
        [0.66, 0.94],
      ],
    ],
  ],
  // 3: a small top bump and a big bottom one.
  [
    [
      [
        [0.1, 0.06],
        [0.3, 0],
        [0.46, 0.1],
        [0.4, 0.3],
        [0.22, 0.4],
      ],
      [
        [0.22, 0.4],
        [0.5, 0.48],
        [0.62, 0.72],
        [0.5, 0.94],
        [0.26, 1],
        [0.04, 0.88],
      ],
    ],
  ],
  // 4: closed top: the diagonal and bar, then the upright from the very top.
  [
    [
      [
        [0.46, 0.02],
        [0.24, 0.32],
        [0.02, 0.62],
      ],
      [
        [0.02, 0.62],
        [0.34, 0.62],
        [0.66, 0.6],
      ],
    ],
    [
      [
        [0.46, 0],
        [0.46, 0.5],
        [0.45, 1],
      ],
    ],
  ],
  // 5: one stroke, the hat first (right to left), then down and round the belly.
  [
    [
      [
        [0.6, 0.02],
        [0.36, 0.01],
        [0.14, 0.02],
      ],
      [
        [0.14, 0.02],
        [0.12, 0.24],
        [0.1, 0.44],
      ],
      [
        [0.1, 0.44],
        [0.34, 0.38],
        [0.56, 0.5],
        [0.6, 0.74],
        [0.44, 0.96],
        [0.2, 0.98],
        [0.04, 0.86],
      ],
    ],
  ],
  // 6: a straighter stem and a big round loop.
  [
    [
      [
        [0.48, 0],
        [0.28, 0.24],
        [0.12, 0.52],
        [0.06, 0.8],
        [0.22, 0.98],
        [0.46, 0.96],
        [0.58, 0.76],
        [0.46, 0.52],
        [0.24, 0.5],
        [0.1, 0.64],
      ],
    ],
  ],
  // 7: European, with a bar across the middle of the diagonal.
  [
    [
      [
        [0.04, 0.06],
        [0.3, 0.02],
        [0.6, 0],
      ],
      [
        [0.6, 0],
        [0.46, 0.34],
        [0.36, 0.64],
        [0.3, 1],
      ],
    ],
    [
      [
        [0.22, 0.5],
        [0.4, 0.5],
        [0.6, 0.48],
      ],
    ],
  ],
  // 8: two loops, a small one on top of a big one, drawn as two strokes.
  [
    [
      [
        [0.34, 0.42],
        [0.14, 0.3],
        [0.14, 0.1],
        [0.32, 0],
        [0.5, 0.1],
        [0.5, 0.3],
        [0.34, 0.42],
      ],
    ],
    [
      [
        [0.34, 0.42],
        [0.1, 0.58],
        [0.08, 0.86],
        [0.32, 1],
        [0.56, 0.86],
        [0.56, 0.58],
        [0.34, 0.42],
      ],
    ],
  ],
  // 9: the head, then a tail that curls to the left at the bottom.
  [
    [
      [
        [0.52, 0.1],
        [0.3, 0],
        [0.1, 0.12],
        [0.12, 0.34],
        [0.32, 0.42],
        [0.52, 0.3],
        [0.54, 0.12],
      ],
      [
        [0.54, 0.12],
        [0.54, 0.5],
        [0.48, 0.82],
        [0.32, 0.99],
        [0.14, 0.94],
      ],
    ],
  ],
];

/** How one drawing of a digit sits on the pad (pad units, 280 × 280). */
export interface Placement {
  /** Height of the digit. */
  height: number;
  /** Centre of the digit box. */
  x: number;
  y: number;
  /** Forward lean: x shifts by slant × (height above the middle). */
  slant: number;
  /** Width relative to the shape's own. */
  widthScale?: number;
  /** Tremor amplitude and seed. */
  jitter?: number;
  seed?: number;
  /** The second hand (DIGIT_SHAPES_ALT) instead of the first. */
  alt?: boolean;
}

/** Natural sizes and places a person uses on a 280-unit pad: mid, small and off-centre, large. */
export const PLACEMENTS: readonly Placement[] = [
  { height: 170, x: 140, y: 140, slant: 0.12, seed: 1 },
  { height: 120, x: 118, y: 150, slant: 0.22, widthScale: 0.9, seed: 2 },
  { height: 215, x: 150, y: 136, slant: -0.04, widthScale: 1.1, seed: 3 },
];

/** The second hand, at other sizes and places. */
export const ALT_PLACEMENTS: readonly Placement[] = [
  { height: 185, x: 136, y: 142, slant: 0.05, seed: 4, alt: true },
  { height: 140, x: 160, y: 128, slant: 0.18, widthScale: 1.1, seed: 5, alt: true },
  { height: 230, x: 140, y: 140, slant: 0.1, widthScale: 0.9, seed: 6, alt: true },
];

/** Uniform Catmull-Rom through the waypoints, sampled about every `step` units. */
function spline(points: readonly Point[], step: number): Point[] {
  if (points.length < 2) return [...points];
  const out: Point[] = [points[0]!];
  for (let i = 0; i < points.length - 1; i++) {
    const p0 = points[Math.max(0, i - 1)]!;
    const p1 = points[i]!;
    const p2 = points[i + 1]!;
    const p3 = points[Math.min(points.length - 1, i + 2)]!;
    const n = Math.max(1, Math.round(Math.hypot(p2.x - p1.x, p2.y - p1.y) / step));
    for (let k = 1; k <= n; k++) {
      const t = k / n;
      const t2 = t * t;
      const t3 = t2 * t;
      const f = (a: number, b: number, c: number, d: number) =>
        0.5 *
        (2 * b + (-a + c) * t + (2 * a - 5 * b + 4 * c - d) * t2 + (-a + 3 * b - 3 * c + d) * t3);
      out.push({ x: f(p0.x, p1.x, p2.x, p3.x), y: f(p0.y, p1.y, p2.y, p3.y) });
    }
  }
  return out;
}

/** The pointer positions (pad units) of each stroke of `digit` drawn at `placement`. */
export function digitStrokes(digit: number, placement: Placement, step = 5): Point[][] {
  const shape = (placement.alt ? DIGIT_SHAPES_ALT : DIGIT_SHAPES)[digit];
  if (!shape) throw new RangeError(`no strokes for digit ${digit}`);
  const { height, x, y, slant, widthScale = 1, jitter = 0.8, seed = 1 } = placement;
  // Seeded, so every run draws the same tremor.
  const rand = mulberry32(seed * 31 + digit);
  const place = ([u, v]: readonly [number, number]): Point => ({
    x: x + (u - 0.3) * height * widthScale + slant * (0.5 - v) * height,
    y: y + (v - 0.5) * height,
  });
  return shape.map((stroke) => {
    const points: Point[] = [];
    for (const piece of stroke) {
      const sampled = spline(piece.map(place), step);
      points.push(...(points.length ? sampled.slice(1) : sampled));
    }
    return points.map((p) => ({
      x: p.x + (rand() - 0.5) * 2 * jitter,
      y: p.y + (rand() - 0.5) * 2 * jitter,
    }));
  });
}
