import type { AccelTuning } from '../../tuning';
import { emscripten, type BackendWasm } from '../../wasm-backend';
import v8 from 'node:v8';
import { SIMD_RELAXED_WASM_BASE64, SIMD_WASM_BASE64 } from './wasm';

/**
 * Our SIMD kernels (the C sources here, built into wasm.ts by build.ts), instantiated over the
 * wasm backend's own linear memory so they read and write the same buffers XNNPACK does: the
 * fused Dense step's elementwise work (dense.c), and the parts of Conv2DBackpropFilter
 * (conv-filter-grad.c), MaxPoolGrad (max-pool-grad.c) and the Winograd convolutions (winograd.c, winograd4.c) that
 * XNNPACK does not cover well, BatchNormalization in training (batch-norm.c), a convolution's
 * bias and ReLU (bias-relu.c), and the matrix product with im2col/col2im the convolutions run on
 * (gemm.c). All pointers and offsets are in bytes.
 */

/** A convolution's shape as the direct kernels (conv-direct.c, conv-filter-grad.c) take it. */
export type DirectGeometry = [
  n: number,
  h: number,
  w: number,
  ci: number,
  oh: number,
  ow: number,
  co: number,
  kh: number,
  kw: number,
  sh: number,
  sw: number,
  pt: number,
  pl: number,
];

/** Rows m0 ≤ m < m1 of an NHWC input's im2col matrix, as gemm.c's packers and col2im take them. */
export type ColsRows = [
  h: number,
  w: number,
  ci: number,
  oh: number,
  ow: number,
  kh: number,
  kw: number,
  sh: number,
  sw: number,
  pt: number,
  pl: number,
  m0: number,
  m1: number,
];

/**
 * Where winograd4_input and winograd4_gradient put element (t, c) of transformed matrix k (see
 * winograd4.c): k·plane + (t − t0)·tile + ⌊c/4⌋/groups·panel + (⌊c/4⌋ mod groups)·4 + c mod 4.
 */
export type WinogradLayout = [plane: number, tile: number, groups: number, panel: number];

/** winograd4_input's arguments: x, zero, v, then the map, its tiles, padding, range, layout. */
export type WinogradTiles = [
  x: number,
  zero: number,
  v: number,
  h: number,
  w: number,
  c: number,
  th: number,
  tw: number,
  pt: number,
  pl: number,
  t0: number,
  t1: number,
  ...layout: WinogradLayout,
];

export interface SimdKernels {
  adam(
    p: number,
    g: number,
    m: number,
    v: number,
    n: number,
    b1: number,
    omb1: number,
    b2: number,
    omb2: number,
    c1: number,
    c2: number,
    neglr: number,
    eps: number,
  ): void;
  transpose(src: number, dst: number, rows: number, cols: number): void;
  bias_rows(h: number, bias: number, rows: number, cols: number): void;
  row_sums(src: number, dst: number, rows: number, cols: number): void;
  relu(h: number, n: number): void;
  relu_grad(dz: number, a: number, n: number): void;
  mul(h: number, mask: number, n: number): void;
  /** Conv2D summed directly (few input channels); see conv-direct.c. */
  conv_direct(x: number, filter: number, y: number, ...geometry: DirectGeometry): void;
  /** Accumulates Conv2DBackpropFilter into dw (zero it first); see conv-filter-grad.c. */
  conv_filter_grad(x: number, dy: number, dw: number, ...geometry: DirectGeometry): void;
  /** Conv2DBackpropFilter's transposed im2col for stride 1, no padding; see conv-filter-grad.c. */
  gather_cols_t(
    src: number,
    dst: number,
    n: number,
    h: number,
    w: number,
    ci: number,
    oh: number,
    ow: number,
    kh: number,
    kw: number,
    b0: number,
    b1: number,
  ): void;
  /** Writes all of dx; 1 when some window needs the exact search; see max-pool-grad.c. */
  max_pool_grad_disjoint(
    x: number,
    pooled: number,
    dy: number,
    dx: number,
    n: number,
    h: number,
    w: number,
    c: number,
    oh: number,
    ow: number,
    fh: number,
    fw: number,
    sh: number,
    sw: number,
  ): number;
  /** Winograd F(2×2, 3×3) input transform of tiles t0 ≤ t < t1; see winograd.c. */
  winograd_input(
    x: number,
    zero: number,
    v: number,
    h: number,
    w: number,
    c: number,
    th: number,
    tw: number,
    pt: number,
    pl: number,
    t0: number,
    t1: number,
    stride: number,
  ): void;
  /** Winograd F(2×2, 3×3) output transform of tiles t0 ≤ t < t1; see winograd.c. */
  winograd_output(
    m: number,
    y: number,
    dump: number,
    oh: number,
    ow: number,
    co: number,
    th: number,
    tw: number,
    t0: number,
    t1: number,
    stride: number,
  ): void;
  /** Winograd F(4×4, 3×3) input transform of tiles t0 ≤ t < t1; see winograd4.c. */
  winograd4_input(...args: WinogradTiles): void;
  /** Winograd F(4×4, 3×3) output transform of tiles t0 ≤ t < t1; see winograd4.c. */
  winograd4_output(
    m: number,
    y: number,
    dump: number,
    oh: number,
    ow: number,
    co: number,
    th: number,
    tw: number,
    t0: number,
    t1: number,
    stride: number,
  ): void;
  /** Adds F(4×4, 3×3)'s patch gradients B dV Bᵀ of tiles t0 ≤ t < t1 into dx; see winograd4.c. */
  winograd4_input_gradient(
    dv: number,
    dx: number,
    dump: number,
    h: number,
    w: number,
    c: number,
    th: number,
    tw: number,
    pt: number,
    pl: number,
    t0: number,
    t1: number,
    stride: number,
  ): void;
  /** F(4×4, 3×3)'s filter transform, U = G g Gᵀ, over cc channel pairs; see winograd4.c. */
  winograd4_filter(f: number, u: number, cc: number): void;
  /** Its transpose, dw = Gᵀ dU G, for the filter gradient; see winograd4.c. */
  winograd4_filter_gradient(du: number, dw: number, cc: number): void;
  /** Winograd F(4×4, 3×3) transform of dy's tiles t0 ≤ t < t1; see winograd4.c. */
  winograd4_gradient(
    dy: number,
    zero: number,
    g: number,
    oh: number,
    ow: number,
    co: number,
    th: number,
    tw: number,
    t0: number,
    t1: number,
    ...layout: WinogradLayout
  ): void;
  /** BatchNormalization's batch mean and (biased) variance per channel; see batch-norm.c. */
  bn_moments(x: number, mean: number, variance: number, part: number, m: number, c: number): void;
  /** y = (x − mean) · scale + beta per channel. */
  bn_apply(
    x: number,
    y: number,
    mean: number,
    scale: number,
    beta: number,
    m: number,
    c: number,
  ): void;
  /** Σ dy and Σ dy · (x − mean) per channel. */
  bn_grad_sums(
    dy: number,
    x: number,
    mean: number,
    sumDy: number,
    sumDyx: number,
    part: number,
    part2: number,
    m: number,
    c: number,
  ): void;
  /** dx = a · dy + b · (x − mean) + d per channel. */
  bn_grad_input(
    dy: number,
    x: number,
    mean: number,
    a: number,
    b: number,
    d: number,
    dx: number,
    m: number,
    c: number,
  ): void;
  /** y = z + bias in place, per channel; see bias-relu.c. */
  bias_add(z: number, bias: number, m: number, c: number): void;
  /** y = max(z + bias, 0) in place, per channel; see bias-relu.c. */
  bias_relu(z: number, bias: number, m: number, c: number): void;
  /** dz = dy where y > 0 (else 0), and dbias = Σ dz per channel. */
  relu_bias_grad(
    dy: number,
    y: number,
    dz: number,
    dbias: number,
    part: number,
    m: number,
    c: number,
  ): void;
  /**
   * pooled = 2×2 stride-2 max pool of max(z + bias, 0) over z[n, h, w, c], idx (a byte per
   * pooled value) its window position; see bias-relu-pool.c.
   */
  bias_relu_pool(
    z: number,
    bias: number,
    pooled: number,
    idx: number,
    n: number,
    h: number,
    w: number,
    c: number,
  ): void;
  /**
   * conv_direct (3×3, one input channel, stride 1, 'valid') and bias_relu_pool in one pass: the
   * pooled map and idx of x[n, h, w, 1] convolved with filter[3, 3, 1, co], co a multiple of 8.
   */
  conv1_3x3_pool(
    x: number,
    filter: number,
    bias: number,
    pooled: number,
    idx: number,
    n: number,
    h: number,
    w: number,
    co: number,
  ): void;
  /**
   * bias_relu_pool_grad and conv_filter_grad (dw +=) in one pass over the images, for a layer
   * whose input needs no gradient; scratch: one image's dz.
   */
  bias_relu_pool_filter_grad(
    x: number,
    dy: number,
    pooled: number,
    idx: number,
    dw: number,
    dbias: number,
    part: number,
    scratch: number,
    ...geometry: DirectGeometry
  ): void;
  /** bias_relu_pool's gradient: all of dz[n, h, w, c] and dbias from the pooled map's dy. */
  bias_relu_pool_grad(
    dy: number,
    pooled: number,
    idx: number,
    dz: number,
    dbias: number,
    part: number,
    n: number,
    h: number,
    w: number,
    c: number,
  ): void;
  /**
   * C[m, n] = A·B (acc 0) or C += A·B (acc 1), A packed by pack_a, B by pack_b/pack_bt, k in
   * blocks of kc; see gemm.c.
   */
  gemm(
    ap: number,
    bp: number,
    c: number,
    ldc: number,
    m: number,
    n: number,
    k: number,
    acc: number,
    kc: number,
  ): void;
  /** Packs A[m, k] (element (i, kk) at a[i·rs + kk·ks]) for gemm (⌈m/4⌉·k·4 floats). */
  pack_a(a: number, rs: number, ks: number, m: number, k: number, dst: number): void;
  /** `count` products C_q (+)= A_q·B_q, A_q packed (rs = 0) or row-major (row stride rs); see gemm.c. */
  gemm_batch(
    a: number,
    aStep: number,
    rs: number,
    ap: number,
    bp: number,
    bStep: number,
    c: number,
    cStep: number,
    ldc: number,
    m: number,
    n: number,
    k: number,
    acc: number,
    kc: number,
    count: number,
  ): void;
  /** Packs a row-major B[k, n] for gemm (⌈n/8⌉·k·8 floats). */
  pack_b(b: number, ldb: number, k: number, n: number, dst: number): void;
  /** Packs B = Tᵀ for a row-major T[n, k] for gemm (⌈n/8⌉·k·8 floats). */
  pack_bt(t: number, ldt: number, k: number, n: number, dst: number): void;
  /** Packs rows m0 ≤ m < m1 of im2col(x) as pack_a packs a row-major A; see gemm.c. */
  pack_cols(x: number, dst: number, ...rows: ColsRows): void;
  /** Packs the transpose of rows m0 ≤ m < m1 of im2col(x) as gemm's A; see gemm.c. */
  pack_cols_t(x: number, dst: number, ...rows: ColsRows): void;
  /** Adds rows m0 ≤ m < m1 of an im2col matrix back into dx (col2im); see gemm.c. */
  col2im(cols: number, dx: number, ...rows: ColsRows): void;
  /** Returns the generator state after n draws. */
  dropout_mask(mask: number, n: number, state: number, keep: number, scale: number): number;
}

// The node typings used here leave out the WebAssembly JS API; these are the parts we use.
interface WasmApi {
  Memory: abstract new (...args: never[]) => object;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  validate(bytes: Uint8Array): boolean;
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Which build runs: the relaxed one where the runtime has relaxed SIMD, else SIMD128 alone. */
export type SimdBuild = 'relaxed' | 'baseline';

/** A function computing f32x4.relaxed_madd: valid only where relaxed SIMD is on. */
// prettier-ignore
const RELAXED_PROBE = Uint8Array.from([
  0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, // magic, version
  1, 8, 1, 0x60, 3, 0x7b, 0x7b, 0x7b, 1, 0x7b, // type: (v128, v128, v128) -> v128
  3, 2, 1, 0, // one function of that type
  0x0a, 0x0d, 1, 0x0b, 0, 0x20, 0, 0x20, 1, 0x20, 2, 0xfd, 0x85, 0x02, 0x0b, // its body
]);

let relaxedAvailable: boolean | undefined;

/**
 * Whether this runtime runs relaxed SIMD. Chromium has since 114, so Electron's utility process
 * does; Node 20's V8 has it behind --experimental-wasm-relaxed-simd, which is switched on here
 * (V8 reads it when it compiles a module, and it reaches worker threads) so the CLI, serve mode,
 * the tests and the bench run the same build as the app without their own command-line flags.
 */
export function relaxedSimdAvailable(): boolean {
  if (relaxedAvailable !== undefined) return relaxedAvailable;
  if (!wasmApi.validate(RELAXED_PROBE)) {
    try {
      v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
    } catch {
      // Not a V8 that takes flags: the baseline build runs.
    }
  }
  relaxedAvailable = wasmApi.validate(RELAXED_PROBE);
  return relaxedAvailable;
}

const instances = new WeakMap<object, Partial<Record<SimdBuild, SimdKernels>>>();

/**
 * The kernels over this backend's memory, from the relaxed build unless `build` says 'baseline'
 * or the runtime lacks relaxed SIMD. Throws when the backend's memory cannot be shared (e.g. a
 * threaded build's shared memory).
 */
/** Our kernels in the build the tuning asks for (relaxed falls back to SIMD128 where missing). */
export function simdKernelsFor(
  backend: BackendWasm,
  tuning: Pick<AccelTuning, 'relaxedSimd'>,
): SimdKernels {
  return simdKernels(backend, tuning.relaxedSimd ? 'relaxed' : 'baseline');
}

export function simdKernels(backend: BackendWasm, build: SimdBuild = 'relaxed'): SimdKernels {
  const chosen: SimdBuild = build === 'relaxed' && relaxedSimdAvailable() ? 'relaxed' : 'baseline';
  const em = emscripten(backend);
  const cached = instances.get(em) ?? {};
  const existing = cached[chosen];
  if (existing) return existing;
  const memory = em.asm?.memory;
  if (!(memory instanceof wasmApi.Memory)) {
    throw new Error('the wasm backend does not expose its memory');
  }
  const base64 = chosen === 'relaxed' ? SIMD_RELAXED_WASM_BASE64 : SIMD_WASM_BASE64;
  const module = new wasmApi.Module(Buffer.from(base64, 'base64'));
  const instance = new wasmApi.Instance(module, { env: { memory } });
  const kernels = instance.exports as unknown as SimdKernels;
  instances.set(em, { ...cached, [chosen]: kernels });
  return kernels;
}
