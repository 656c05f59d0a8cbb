import * as tf from '@tensorflow/tfjs';
import {
  type BackendWasm,
  type Shape4D,
  type WasmKernelArgs,
  assertNHWC,
  assertNoDilation,
  checkShape,
  heapF32,
  makeF32,
  release,
  requireInput,
  runWasmKernel,
} from './wasm-backend';

const KERNEL = 'Conv2DBackpropFilter';

export interface Conv2DBackpropFilterAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: Shape4D;
  dilations?: number | [number, number];
}

/**
 * dW[kh, kw, ci, co] = sum over (n, oh, ow) of x[n, oh*s + kh - pad, ow*s + kw - pad, ci] * dy[n, oh, ow, co].
 * The wasm backend has no kernel for this at all (tfjs issue #8474). Both
 * strategies below keep the arithmetic in XNNPACK; what differs is which
 * operand XNNPACK has to repack as "weights" on every call, and that packing,
 * not the multiply-adds, dominates when the contraction axis
 * (n * oh * ow) is long. So the smaller of dy and the im2col matrix becomes
 * the weights.
 */
export function conv2DBackpropFilterWasm({
  inputs,
  backend,
  attrs,
}: WasmKernelArgs<Conv2DBackpropFilterAttrs>): tf.TensorInfo {
  const x = requireInput(inputs, 'x', KERNEL);
  const dy = requireInput(inputs, 'dy', KERNEL);
  assertNHWC(attrs.dataFormat, KERNEL);
  assertNoDilation(attrs.dilations, KERNEL);

  const info = tf.backend_util.computeConv2DInfo(
    x.shape as Shape4D,
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info;
  const { outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw } = info;
  const { strideHeight: sh, strideWidth: sw } = info;
  if (dy.shape[0] !== n || dy.shape[1] !== oh || dy.shape[2] !== ow || dy.shape[3] !== co) {
    throw new Error(
      `${KERNEL}: dy shape [${dy.shape.join(',')}] does not match the forward output [${info.outShape.join(',')}].`,
    );
  }
  const filterShape = [kh, kw, ci, co];

  if (n * h * w * ci === 0 || oh * ow * co === 0 || kh * kw === 0) {
    const out = makeF32(backend, filterShape);
    heapF32(backend, out).fill(0);
    return out;
  }

  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  const geometry: Geometry = { n, h, w, ci, co, oh, ow, kh, kw, sh, sw, padTop, padLeft };
  const dw =
    kh * kw * ci <= co
      ? viaIm2colMatMul(backend, x, dy, geometry)
      : viaConvolution(backend, x, dy, geometry);
  return checkShape(backend, dw, filterShape, KERNEL);
}

interface Geometry {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  oh: number;
  ow: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  padTop: number;
  padLeft: number;
}

/**
 * Few input channels (the first layer): dW^T = dy^T [co, P] x cols [P, kh*kw*ci]
 * on XNNPACK's matmul, with the narrow im2col matrix as the packed weights.
 */
function viaIm2colMatMul(
  backend: BackendWasm,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  g: Geometry,
): tf.TensorInfo {
  const { n, ci, co, oh, ow, kh, kw } = g;
  const p = n * oh * ow;
  const r = kh * kw * ci;
  const cols = makeF32(backend, [1, p, r]);
  const dyT = makeF32(backend, [1, co, p]);
  let prod: tf.TensorInfo | undefined;
  try {
    im2col(heapF32(backend, x), heapF32(backend, cols), g);
    transpose2D(heapF32(backend, dy), heapF32(backend, dyT), p, co);
    prod = runWasmKernel(
      'BatchMatMul',
      backend,
      { a: dyT, b: cols },
      { transposeA: false, transposeB: false },
    );
    const out = makeF32(backend, [kh, kw, ci, co]);
    transpose2D(heapF32(backend, prod), heapF32(backend, out), co, r);
    return out;
  } finally {
    release(backend, cols);
    release(backend, dyT);
    if (prod !== undefined) release(backend, prod);
  }
}

/** cols[(b, y, x), (i, j, c)] = x[b, y*sh + i - padTop, x*sw + j - padLeft, c], zero outside. */
function im2col(src: Float32Array, dst: Float32Array, g: Geometry): void {
  const { n, h, w, ci, oh, ow, kh, kw, sh, sw, padTop, padLeft } = g;
  const rowLen = kw * ci;
  let d = 0;
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        const x0 = x * sw - padLeft;
        const jMin = Math.max(0, -x0);
        const jMax = Math.min(kw, w - x0);
        for (let i = 0; i < kh; i++) {
          const yy = y * sh + i - padTop;
          if (yy < 0 || yy >= h || jMin >= jMax) {
            dst.fill(0, d, d + rowLen);
          } else {
            if (jMin > 0) dst.fill(0, d, d + jMin * ci);
            const s = ((b * h + yy) * w + x0 + jMin) * ci;
            const len = (jMax - jMin) * ci;
            const o = d + jMin * ci;
            for (let t = 0; t < len; t++) dst[o + t] = src[s + t]!;
            if (jMax < kw) dst.fill(0, d + jMax * ci, d + rowLen);
          }
          d += rowLen;
        }
      }
    }
  }
}

/** dst[c, r] = src[r, c] for a rows x cols matrix, in cache-sized row blocks. */
function transpose2D(src: Float32Array, dst: Float32Array, rows: number, cols: number): void {
  const BLOCK = 64;
  for (let r0 = 0; r0 < rows; r0 += BLOCK) {
    const r1 = Math.min(rows, r0 + BLOCK);
    for (let c = 0; c < cols; c++) {
      let o = c * rows + r0;
      for (let r = r0; r < r1; r++) dst[o++] = src[r * cols + c]!;
    }
  }
}

/**
 * Many input channels: with ci as the batch axis and n as the channel axis,
 * dW is a forward convolution of x (as [ci, h, w, n]) with dy (as
 * [oh, ow, n, co]) for the filter, dilated by the forward stride; its
 * [ci, kh, kw, co] output needs one more transpose.
 */
function viaConvolution(
  backend: BackendWasm,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  g: Geometry,
): tf.TensorInfo {
  const { n, h, w, ci, oh, ow, kh, kw, sh, sw, padTop, padLeft } = g;
  // Rows/cols past the last window are never read (e.g. 'valid' with a
  // stride that does not divide the input); XNNPACK cannot take negative
  // padding, so those get cropped instead.
  const padBottom = kh + (oh - 1) * sh - h - padTop;
  const padRight = kw + (ow - 1) * sw - w - padLeft;

  const temps: tf.TensorInfo[] = [];
  try {
    let xT = runWasmKernel('Transpose', backend, { x }, { perm: [3, 1, 2, 0] });
    temps.push(xT);
    if (padBottom < 0 || padRight < 0) {
      xT = runWasmKernel(
        'Slice',
        backend,
        { x: xT },
        {
          begin: [0, 0, 0, 0],
          size: [ci, h + Math.min(padBottom, 0), w + Math.min(padRight, 0), n],
        },
      );
      temps.push(xT);
    }
    const dyT = runWasmKernel('Transpose', backend, { x: dy }, { perm: [1, 2, 0, 3] });
    temps.push(dyT);
    const perCi = runWasmKernel(
      'Conv2D',
      backend,
      { x: xT, filter: dyT },
      {
        strides: [1, 1],
        dilations: [sh, sw],
        pad: [
          [0, 0],
          [padTop, Math.max(padBottom, 0)],
          [padLeft, Math.max(padRight, 0)],
          [0, 0],
        ],
        dataFormat: 'NHWC',
      },
    );
    temps.push(perCi);
    return runWasmKernel('Transpose', backend, { x: perCi }, { perm: [1, 2, 0, 3] });
  } finally {
    for (const t of temps) release(backend, t);
  }
}

export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: KERNEL,
  backendName: 'wasm',
  // The registry's signature is backend-agnostic; this config is only ever
  // registered for 'wasm', so the backend and attrs casts are sound.
  kernelFunc: ({ inputs, backend, attrs }) =>
    conv2DBackpropFilterWasm({
      inputs,
      backend: backend as BackendWasm,
      attrs: attrs as unknown as Conv2DBackpropFilterAttrs,
    }),
};
