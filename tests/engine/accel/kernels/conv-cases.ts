import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '../../../../src-main/engine/random';

/** The convolution geometries the convolution-gradient tests run on wasm and on cpu. */

export type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

export interface ConvCase {
  name: string;
  x: number[];
  filter: number[];
  strides: number | [number, number];
  pad: Pad;
}

export const convCases: ConvCase[] = [
  {
    name: 'same, stride 1, batch 2, 3->4 ch',
    x: [2, 7, 9, 3],
    filter: [3, 3, 3, 4],
    strides: 1,
    pad: 'same',
  },
  {
    name: 'valid, stride 1, batch 1, 2->5 ch',
    x: [1, 8, 8, 2],
    filter: [3, 3, 2, 5],
    strides: 1,
    pad: 'valid',
  },
  {
    name: 'same, stride 2, non-square 3x2',
    x: [2, 7, 9, 3],
    filter: [3, 2, 3, 4],
    strides: 2,
    pad: 'same',
  },
  {
    name: 'valid, stride 2, leftover rows/cols',
    x: [2, 8, 9, 3],
    filter: [3, 2, 3, 4],
    strides: 2,
    pad: 'valid',
  },
  {
    name: 'valid, strides [1,2], 2x4 kernel',
    x: [3, 6, 11, 2],
    filter: [2, 4, 2, 3],
    strides: [1, 2],
    pad: 'valid',
  },
  {
    name: 'same, stride 3, 4x3 kernel',
    x: [2, 10, 11, 4],
    filter: [4, 3, 4, 3],
    strides: 3,
    pad: 'same',
  },
  {
    name: 'first layer: 1 input channel, many outputs',
    x: [4, 9, 8, 1],
    filter: [3, 3, 1, 16],
    strides: 1,
    pad: 'valid',
  },
  {
    name: 'first layer, stride 2, same',
    x: [2, 7, 9, 1],
    filter: [3, 2, 1, 8],
    strides: 2,
    pad: 'same',
  },
  {
    name: 'few channels, valid, batch 3',
    x: [3, 9, 8, 2],
    filter: [2, 2, 2, 8],
    strides: 1,
    pad: 'valid',
  },
  { name: 'numeric pad 1, stride 2', x: [2, 6, 7, 3], filter: [3, 3, 3, 2], strides: 2, pad: 1 },
  {
    name: 'explicit asymmetric pad',
    x: [2, 6, 7, 2],
    filter: [3, 2, 2, 3],
    strides: 1,
    pad: [
      [0, 0],
      [1, 2],
      [0, 3],
      [0, 0],
    ],
  },
  {
    name: 'explicit pad wider than the kernel, stride 2',
    x: [1, 5, 6, 2],
    filter: [2, 2, 2, 3],
    strides: 2,
    pad: [
      [0, 0],
      [3, 1],
      [2, 4],
      [0, 0],
    ],
  },
];

/** Seeded sweep over odd geometries, beyond the hand-picked cases above. */
function randomConvCases(count: number, seed: number): ConvCase[] {
  const rand = mulberry32(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  const cases: ConvCase[] = [];
  while (cases.length < count) {
    const kh = int(1, 4);
    const kw = int(1, 4);
    const x = [int(1, 3), int(kh, 9), int(kw, 9), int(1, 5)];
    const filter = [kh, kw, x[3]!, int(1, 12)];
    const strides: [number, number] = [int(1, 3), int(1, 3)];
    const kind = int(0, 2);
    const pad: Pad =
      kind === 0
        ? 'same'
        : kind === 1
          ? 'valid'
          : [
              [0, 0],
              [int(0, 3), int(0, 3)],
              [int(0, 3), int(0, 3)],
              [0, 0],
            ];
    cases.push({
      name: `#${cases.length} ${JSON.stringify({ x, filter, strides, pad })}`,
      x,
      filter,
      strides,
      pad,
    });
  }
  return cases;
}

export const sweepCases = randomConvCases(24, 7);

export function conv(x: tf.Tensor, f: tf.Tensor, c: ConvCase): tf.Tensor4D {
  return tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.strides, c.pad);
}

export function outShapeOf(c: ConvCase): number[] {
  return tf.backend_util.computeConv2DInfo(
    c.x as [number, number, number, number],
    c.filter as [number, number, number, number],
    c.strides,
    1,
    c.pad,
  ).outShape;
}

/**
 * Geometries for the im2col + GEMM paths beyond the small cases: more than one 4×8 tile of each
 * product, sizes that are not multiples of it, 1, 3 and 5 channels, batch 1, stride 2 and 'same'.
 */
export const gemmCases: ConvCase[] = [
  {
    name: 'gemm: batch 1, 3->13 ch, same',
    x: [1, 9, 7, 3],
    filter: [3, 3, 3, 13],
    strides: 1,
    pad: 'same',
  },
  {
    name: 'gemm: 5->9 ch, stride 2, same',
    x: [2, 11, 10, 5],
    filter: [3, 3, 5, 9],
    strides: 2,
    pad: 'same',
  },
  {
    name: 'gemm: 1->17 ch, valid',
    x: [3, 10, 9, 1],
    filter: [3, 3, 1, 17],
    strides: 1,
    pad: 'valid',
  },
  {
    name: 'gemm: 12->20 ch, 5×5 map, valid',
    x: [3, 5, 5, 12],
    filter: [3, 3, 12, 20],
    strides: 1,
    pad: 'valid',
  },
  {
    name: 'gemm: 5->3 ch, 2x4 kernel, strides [2,1]',
    x: [2, 9, 8, 5],
    filter: [2, 4, 5, 3],
    strides: [2, 1],
    pad: 'same',
  },
];

/**
 * Bytes per GEMM block (AccelTuning.convGemmBlockBytes) small enough to split these cases into
 * many blocks whose boundaries fall inside images, the last one short.
 */
export const SMALL_GEMM_BLOCK = 4 * 3 * 3 * 5 * 7;

/**
 * One input channel and a 3×3 filter: conv-direct.c's own path for interior pixels (4 at a time,
 * then singles; sw = 1 and general sw) next to its general sum for border pixels and the
 * channels beyond the last multiple of 8.
 */
export const directCases: ConvCase[] = [
  {
    name: 'direct: cnn conv1, 28×28 → 32',
    x: [2, 28, 28, 1],
    filter: [3, 3, 1, 32],
    strides: 1,
    pad: 'valid',
  },
  {
    name: 'direct: odd sizes, same, 1→12',
    x: [2, 7, 9, 1],
    filter: [3, 3, 1, 12],
    strides: 1,
    pad: 'same',
  },
  {
    name: 'direct: stride 2, same, 1→24',
    x: [2, 11, 10, 1],
    filter: [3, 3, 1, 24],
    strides: 2,
    pad: 'same',
  },
  {
    name: 'direct: strides [1,3], valid, 1→40',
    x: [1, 9, 14, 1],
    filter: [3, 3, 1, 40],
    strides: [1, 3],
    pad: 'valid',
  },
  {
    name: 'direct: strides [2,1], same, 1→13',
    x: [3, 8, 11, 1],
    filter: [3, 3, 1, 13],
    strides: [2, 1],
    pad: 'same',
  },
  {
    name: 'direct: 3 output columns, 1→8',
    x: [2, 6, 5, 1],
    filter: [3, 3, 1, 8],
    strides: 1,
    pad: 'valid',
  },
  {
    name: 'direct: fewer than 8 channels, 1→7',
    x: [2, 8, 9, 1],
    filter: [3, 3, 1, 7],
    strides: 1,
    pad: 'same',
  },
  {
    name: 'direct: explicit asymmetric pad, 1→17',
    x: [2, 9, 12, 1],
    filter: [3, 3, 1, 17],
    strides: 1,
    pad: [
      [0, 0],
      [2, 0],
      [3, 1],
      [0, 0],
    ],
  },
];
