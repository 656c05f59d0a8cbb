import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type FilterStrategy,
  convChunk,
} from '../../../../src-main/engine/accel/kernels/Conv2DBackpropFilter';
import {
  accelTuning,
  DEFAULT_TUNING,
  registerAccelKernels,
  unregisterAccelKernels,
  accelKernelsRegistered,
} from '../../../../src-main/engine/accel/index';
import { mulberry32 } from '../../../../src-main/engine/random';

// Every case is computed twice, on the pure-JS 'cpu' backend (the reference)
// and on 'wasm' with our kernels, from the same seeded data.

type Backend = 'cpu' | 'wasm';
type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

interface HostTensor {
  data: Float32Array;
  shape: number[];
}

function randomHost(shape: number[], seed: number, gen?: (r: () => number) => number): HostTensor {
  const rand = mulberry32(seed);
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = gen ? gen(rand) : rand() * 2 - 1;
  return { data, shape };
}

async function onBackend(
  backend: Backend,
  inputs: HostTensor[],
  fn: (...ts: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const ts = inputs.map((h) => tf.tensor(h.data, h.shape, 'float32'));
  try {
    const out = tf.tidy(() => fn(...ts));
    const outs = Array.isArray(out) ? out : [out];
    const values = await Promise.all(outs.map(async (t) => Float32Array.from(await t.data())));
    tf.dispose(outs);
    return values;
  } finally {
    tf.dispose(ts);
    await tf.setBackend('wasm');
  }
}

async function onBoth(
  inputs: HostTensor[],
  fn: (...ts: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
): Promise<{ cpu: Float32Array[]; wasm: Float32Array[] }> {
  const cpu = await onBackend('cpu', inputs, fn);
  const wasm = await onBackend('wasm', inputs, fn);
  return { cpu, wasm };
}

/** Max abs difference relative to the reference's magnitude (1 at minimum). */
function relErr(ref: Float32Array, got: Float32Array): number {
  expect(got.length).toBe(ref.length);
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs(ref[i]! - got[i]!));
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return Number.isNaN(diff) ? Infinity : diff / scale;
}

function expectClose(ref: Float32Array, got: Float32Array, tol = 1e-5): void {
  expect(relErr(ref, got)).toBeLessThan(tol);
}

function expectNonTrivial(ref: Float32Array): void {
  // Guards against vacuous comparisons of all-zero outputs.
  expect(ref.some((v) => Math.abs(v) > 1e-3)).toBe(true);
}

/**
 * Calls a kernel directly, the way tfjs ops do. Attrs are typed loosely
 * because tfjs's NamedAttrMap has no room for optional/tuple attrs.
 */
function runKernel(name: string, inputs: tf.NamedTensorMap, attrs: object): tf.Tensor {
  return tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;
}

interface ConvCase {
  name: string;
  x: number[];
  filter: number[];
  strides: number | [number, number];
  pad: Pad;
}

const convCases: ConvCase[] = [
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

const sweepCases = randomConvCases(24, 7);

function conv(x: tf.Tensor, f: tf.Tensor, c: ConvCase): tf.Tensor4D {
  return tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.strides, c.pad);
}

function outShapeOf(c: ConvCase): number[] {
  return tf.backend_util.computeConv2DInfo(
    c.x as [number, number, number, number],
    c.filter as [number, number, number, number],
    c.strides,
    1,
    c.pad,
  ).outShape;
}

beforeAll(async () => {
  await tf.setBackend('wasm');
  registerAccelKernels();
});

afterAll(() => {
  registerAccelKernels();
});

describe('Conv2DBackpropFilter on wasm', () => {
  it.each([...convCases, ...sweepCases])('matches cpu: $name', async (c) => {
    const x = randomHost(c.x, 1);
    const dy = randomHost(outShapeOf(c), 2);
    const { cpu, wasm } = await onBoth([x, dy], (xt, dyt) =>
      runKernel(
        'Conv2DBackpropFilter',
        { x: xt!, dy: dyt! },
        {
          strides: c.strides,
          pad: c.pad,
          dataFormat: 'NHWC',
          filterShape: c.filter,
        },
      ),
    );
    expectNonTrivial(cpu[0]!);
    expectClose(cpu[0]!, wasm[0]!);
  });

  // Each strategy on every geometry, whichever the heuristic would pick; the last case is
  // large enough for the transposed im2col to split the batch (4 + 2 images).
  const strategies: FilterStrategy[] = ['im2col', 'transposed-im2col', 'convolution', 'direct'];
  const chunked: ConvCase = {
    name: 'batch split, 1 channel',
    x: [6, 30, 30, 1],
    filter: [3, 3, 1, 16],
    strides: 1,
    pad: 'same',
  };
  // The same split on the stride-1, unpadded geometry whose gather runs in our SIMD kernel.
  const chunkedValid: ConvCase = {
    name: 'batch split, 2 channels, valid',
    x: [6, 30, 30, 2],
    filter: [3, 3, 2, 16],
    strides: 1,
    pad: 'valid',
  };
  describe.each(strategies)('forced strategy %s', (strategy) => {
    afterEach(() => registerAccelKernels());
    it.each([...convCases, ...sweepCases, chunked, chunkedValid])(
      'matches cpu: $name',
      async (c) => {
        const x = randomHost(c.x, 1);
        const dy = randomHost(outShapeOf(c), 2);
        const fn = (xt: tf.Tensor | undefined, dyt: tf.Tensor | undefined): tf.Tensor =>
          runKernel(
            'Conv2DBackpropFilter',
            { x: xt!, dy: dyt! },
            { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter },
          );
        const [cpu] = await onBackend('cpu', [x, dy], fn);
        registerAccelKernels(accelTuning({ filterStrategy: strategy }));
        const backend = tf.backend() as tf.KernelBackend & { numDataIds(): number };
        const buffers = backend.numDataIds();
        const [wasm] = await onBackend('wasm', [x, dy], fn);
        expect(backend.numDataIds()).toBe(buffers);
        expectNonTrivial(cpu!);
        expectClose(cpu!, wasm!);
      },
    );
  });

  // dy over 1 M floats: the convolution runs in batch chunks (2 x 6 and 2 x 8 images, the second
  // cropping unread rows/cols). Checked against the same convolution in one piece, itself checked
  // against cpu above (a cpu reference at this size takes seconds).
  const large: ConvCase[] = [
    { name: 'batch of 12', x: [12, 100, 100, 2], filter: [3, 3, 2, 12], strides: 1, pad: 'valid' },
    {
      name: 'batch of 16, stride 2, crop',
      x: [16, 121, 121, 2],
      filter: [3, 2, 2, 20],
      strides: 2,
      pad: 'valid',
    },
  ];
  it.each(large)('convolution in batch chunks equals one piece: $name', async (c) => {
    expect(outShapeOf(c).reduce((a, b) => a * b, 1)).toBeGreaterThan(1 << 20);
    const x = randomHost(c.x, 3);
    const dy = randomHost(outShapeOf(c), 4);
    const fn = (xt: tf.Tensor | undefined, dyt: tf.Tensor | undefined): tf.Tensor =>
      runKernel(
        'Conv2DBackpropFilter',
        { x: xt!, dy: dyt! },
        { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter },
      );
    try {
      registerAccelKernels(
        accelTuning({ filterStrategy: 'convolution', convolutionChunkLimit: Infinity }),
      );
      const [whole] = await onBackend('wasm', [x, dy], fn);
      registerAccelKernels(accelTuning({ filterStrategy: 'convolution' }));
      const backend = tf.backend() as tf.KernelBackend & { numDataIds(): number };
      const buffers = backend.numDataIds();
      const [chunks] = await onBackend('wasm', [x, dy], fn);
      expect(backend.numDataIds()).toBe(buffers);
      expectNonTrivial(whole!);
      expectClose(whole!, chunks!);
    } finally {
      registerAccelKernels();
    }
  });

  it('splits the convolution into chunks of 4 to 8 images only where they divide the batch', () => {
    expect(convChunk(128, DEFAULT_TUNING.convolutionChunkLimit)).toBe(8);
    expect(convChunk(112, DEFAULT_TUNING.convolutionChunkLimit)).toBe(8);
    expect(convChunk(12, DEFAULT_TUNING.convolutionChunkLimit)).toBe(6);
    expect(convChunk(20, DEFAULT_TUNING.convolutionChunkLimit)).toBe(5);
    expect(convChunk(8, DEFAULT_TUNING.convolutionChunkLimit)).toBe(8);
    expect(convChunk(3, DEFAULT_TUNING.convolutionChunkLimit)).toBe(3);
    expect(convChunk(13, DEFAULT_TUNING.convolutionChunkLimit)).toBe(13);
    expect(convChunk(22, DEFAULT_TUNING.convolutionChunkLimit)).toBe(22);
  });

  it('is what tf.grad uses for a conv2d filter', async () => {
    const c = convCases[2]!;
    const x = randomHost(c.x, 3);
    const f = randomHost(c.filter, 4);
    const { cpu, wasm } = await onBoth([x, f], (xt, ft) =>
      tf.grad((w: tf.Tensor) => conv(xt!, w, c).square().sum())(ft!),
    );
    expectClose(cpu[0]!, wasm[0]!);
  });
});

describe('Conv2DBackpropInput on wasm', () => {
  it.each([...convCases, ...sweepCases])('matches cpu: $name', async (c) => {
    const dy = randomHost(outShapeOf(c), 5);
    const f = randomHost(c.filter, 6);
    const { cpu, wasm } = await onBoth([dy, f], (dyt, ft) =>
      runKernel(
        'Conv2DBackpropInput',
        { dy: dyt!, filter: ft! },
        {
          strides: c.strides,
          pad: c.pad,
          dataFormat: 'NHWC',
          inputShape: c.x,
        },
      ),
    );
    expectNonTrivial(cpu[0]!);
    expectClose(cpu[0]!, wasm[0]!);
  });
});

describe('MaxPoolGrad on wasm', () => {
  interface PoolCase {
    name: string;
    x: HostTensor;
    size: number | [number, number];
    strides: number | [number, number];
    pad: Pad;
    /** Feed this instead of the real forward output (the kernel must not trust it blindly). */
    fakeOutput?: number;
  }
  const relu = (r: () => number): number => Math.max(0, r() * 2 - 1);
  const fewLevels = (r: () => number): number => Math.floor(r() * 3);
  const withSpecials = (r: () => number): number => {
    const u = r();
    if (u < 0.15) return Number.NaN;
    if (u < 0.35) return Number.NEGATIVE_INFINITY;
    if (u < 0.4) return Number.POSITIVE_INFINITY;
    return u;
  };
  const poolCases: PoolCase[] = [
    {
      name: '2x2/2 valid, random',
      x: randomHost([3, 8, 10, 5], 11),
      size: 2,
      strides: 2,
      pad: 'valid',
    },
    {
      name: '2x2/2 after ReLU (all-zero ties)',
      x: randomHost([2, 8, 8, 6], 12, relu),
      size: 2,
      strides: 2,
      pad: 'valid',
    },
    {
      name: '2x2/2 with 3 levels (many ties)',
      x: randomHost([2, 6, 6, 4], 13, fewLevels),
      size: 2,
      strides: 2,
      pad: 'valid',
    },
    {
      name: '2x2/2 odd size, valid drops the last row/col',
      x: randomHost([2, 7, 9, 3], 14, relu),
      size: 2,
      strides: 2,
      pad: 'valid',
    },
    {
      name: '2x2/2 odd size, same pads the border',
      x: randomHost([2, 7, 9, 3], 15, fewLevels),
      size: 2,
      strides: 2,
      pad: 'same',
    },
    {
      name: '3x3/3 same, ties',
      x: randomHost([2, 8, 10, 3], 16, fewLevels),
      size: 3,
      strides: 3,
      pad: 'same',
    },
    {
      name: '2x3/[2,3] non-square',
      x: randomHost([1, 6, 9, 4], 17, relu),
      size: [2, 3],
      strides: [2, 3],
      pad: 'valid',
    },
    {
      name: '3x3/2 overlapping',
      x: randomHost([2, 9, 9, 3], 18, fewLevels),
      size: 3,
      strides: 2,
      pad: 'same',
    },
    {
      name: '2x2/1 overlapping',
      x: randomHost([2, 5, 6, 2], 19, relu),
      size: 2,
      strides: 1,
      pad: 'valid',
    },
    {
      name: 'NaN and infinities',
      x: randomHost([2, 6, 6, 4], 20, withSpecials),
      size: 2,
      strides: 2,
      pad: 'valid',
    },
    {
      name: 'output smaller than the window max',
      x: randomHost([2, 6, 6, 4], 21, relu),
      size: 2,
      strides: 2,
      pad: 'valid',
      fakeOutput: 0,
    },
    {
      name: 'output larger than every element',
      x: randomHost([2, 6, 6, 4], 22, relu),
      size: 2,
      strides: 2,
      pad: 'valid',
      fakeOutput: 10,
    },
  ];

  it.each(poolCases)('matches cpu exactly: $name', async (c) => {
    const pooledShape = tf.backend_util.computePool2DInfo(
      c.x.shape as [number, number, number, number],
      c.size,
      c.strides,
      1,
      c.pad,
    ).outShape;
    const dy = randomHost(pooledShape, 99);
    const { cpu, wasm } = await onBoth([c.x, dy], (xt, dyt) => {
      const output =
        c.fakeOutput === undefined
          ? tf.maxPool(xt as tf.Tensor4D, c.size, c.strides, c.pad)
          : tf.fill(pooledShape, c.fakeOutput);
      return runKernel(
        'MaxPoolGrad',
        { dy: dyt!, input: xt!, output },
        {
          filterSize: c.size,
          strides: c.strides,
          pad: c.pad,
        },
      );
    });
    expectNonTrivial(cpu[0]!);
    expect(Array.from(wasm[0]!)).toEqual(Array.from(cpu[0]!));
  });

  it('sends an all-zero window to its first element, as cpu does', async () => {
    const x: HostTensor = { data: new Float32Array(2 * 2 * 2), shape: [1, 2, 2, 2] };
    const dy: HostTensor = { data: Float32Array.from([3, 5]), shape: [1, 1, 1, 2] };
    const [wasm] = await onBackend('wasm', [x, dy], (xt, dyt) =>
      tf.grad((t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid'))(xt!, dyt),
    );
    expect(Array.from(wasm!)).toEqual([3, 5, 0, 0, 0, 0, 0, 0]);
  });
});

describe('a small CNN trained on wasm', () => {
  function makeParams(): HostTensor[] {
    return [
      randomHost([3, 3, 1, 12], 31, (r) => (r() - 0.5) * 0.8), // conv1: 1 -> 12 channels (im2col path)
      randomHost([12], 32, (r) => (r() - 0.5) * 0.1),
      randomHost([3, 2, 12, 6], 33, (r) => (r() - 0.5) * 0.4), // conv2, stride 2 (convolution path)
      randomHost([6], 34, (r) => (r() - 0.5) * 0.1),
      randomHost([2 * 2 * 6, 10], 35, (r) => (r() - 0.5) * 0.4), // dense
      randomHost([10], 36, (r) => (r() - 0.5) * 0.1),
    ];
  }

  // conv(same) -> relu -> maxpool -> conv(valid, stride 2) -> relu -> dense -> softmax CE
  function loss(x: tf.Tensor, labels: tf.Tensor, p: tf.Tensor[]): tf.Scalar {
    const [w1, b1, w2, b2, w3, b3] = p as [
      tf.Tensor4D,
      tf.Tensor1D,
      tf.Tensor4D,
      tf.Tensor1D,
      tf.Tensor2D,
      tf.Tensor1D,
    ];
    let h = tf.relu(tf.conv2d(x as tf.Tensor4D, w1, 1, 'same').add(b1)) as tf.Tensor4D;
    h = tf.maxPool(h, 2, 2, 'valid');
    h = tf.relu(tf.conv2d(h, w2, 2, 'valid').add(b2)) as tf.Tensor4D;
    const logits = h.reshape([h.shape[0], -1]).matMul(w3).add(b3);
    return tf.losses.softmaxCrossEntropy(labels, logits);
  }

  const batch = 5;
  const x = randomHost([batch, 12, 10, 1], 41, (r) => r());
  const labels: HostTensor = {
    data: Float32Array.from({ length: batch * 10 }, (_, i) =>
      i % 10 === (Math.floor(i / 10) * 3) % 10 ? 1 : 0,
    ),
    shape: [batch, 10],
  };

  it('gives the same gradients as cpu (all weights and the input)', async () => {
    const params = makeParams();
    const { cpu, wasm } = await onBoth([x, labels, ...params], (xt, lt, ...p) => {
      const { grads, value } = tf.valueAndGrads((xx: tf.Tensor, ...pp: tf.Tensor[]) =>
        loss(xx, lt!, pp),
      )([xt!, ...p]);
      return [value, ...grads];
    });
    expect(wasm.length).toBe(8);
    expectClose(cpu[0]!, wasm[0]!, 1e-5); // loss
    for (let i = 1; i < cpu.length; i++) {
      expectNonTrivial(cpu[i]!);
      expectClose(cpu[i]!, wasm[i]!, 1e-4);
    }
  });

  it('does not leak tensors or backend buffers across training steps', async () => {
    await tf.setBackend('wasm');
    const params = makeParams().map((h) => tf.variable(tf.tensor(h.data, h.shape)));
    const xt = tf.tensor(x.data, x.shape);
    const lt = tf.tensor(labels.data, labels.shape);
    const optimizer = tf.train.adam(0.01);
    const step = (): number =>
      tf.tidy(() => optimizer.minimize(() => loss(xt, lt, params), true)!.dataSync()[0]!);
    const first = step();
    step();
    const backend = tf.backend() as tf.KernelBackend & { numDataIds(): number };
    const tensors = tf.memory().numTensors;
    const buffers = backend.numDataIds();
    let last = first;
    for (let i = 0; i < 8; i++) last = step();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(backend.numDataIds()).toBe(buffers);
    expect(last).toBeLessThan(first); // it actually trains
    tf.dispose([...params, xt, lt]);
    optimizer.dispose();
  });
});

describe('unsupported attributes and registration', () => {
  it('rejects dilated convolutions with a clear error', async () => {
    await tf.setBackend('wasm');
    const x = tf.ones([1, 6, 6, 2]);
    const f = tf.ones([2, 2, 2, 3]);
    const dy = tf.ones([1, 4, 4, 3]);
    try {
      // tfjs core refuses the gradient before any kernel runs...
      expect(() =>
        tf.grad((w: tf.Tensor) =>
          tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid', 'NHWC', 2).sum(),
        )(f),
      ).toThrow(/dilation/);
      // ...and the kernels refuse it if called directly.
      expect(() =>
        runKernel(
          'Conv2DBackpropFilter',
          { x, dy },
          {
            strides: 1,
            pad: 'valid',
            dataFormat: 'NHWC',
            filterShape: [2, 2, 2, 3],
            dilations: 2,
          },
        ),
      ).toThrow(/Conv2DBackpropFilter.*dilations other than 1 are not supported/);
      expect(() =>
        runKernel(
          'Conv2DBackpropInput',
          { dy, filter: f },
          {
            strides: 1,
            pad: 'valid',
            dataFormat: 'NHWC',
            inputShape: [1, 6, 6, 2],
            dilations: [2, 1],
          },
        ),
      ).toThrow(/Conv2DBackpropInput.*dilations other than 1 are not supported/);
      expect(() =>
        runKernel(
          'Conv2DBackpropFilter',
          { x, dy },
          {
            strides: 1,
            pad: 'valid',
            dataFormat: 'NCHW',
            filterShape: [2, 2, 2, 3],
          },
        ),
      ).toThrow(/only dataFormat 'NHWC' is supported/);
    } finally {
      tf.dispose([x, f, dy]);
    }
  });

  it('registers idempotently and without warnings, and can be undone', async () => {
    await tf.setBackend('wasm');
    const warn = vi.spyOn(console, 'warn');
    try {
      registerAccelKernels();
      registerAccelKernels();
      expect(accelKernelsRegistered()).toBe(true);

      unregisterAccelKernels();
      expect(accelKernelsRegistered()).toBe(false);
      // Upstream wasm has no filter gradient at all (tfjs #8474).
      expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
      expect(tf.getKernel('Conv2DBackpropInput', 'wasm')).toBeDefined();
      expect(tf.getKernel('MaxPoolGrad', 'wasm')).toBeDefined();

      registerAccelKernels();
      expect(accelKernelsRegistered()).toBe(true);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
      registerAccelKernels();
    }
  });
});
