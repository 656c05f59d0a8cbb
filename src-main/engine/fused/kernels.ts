import type { BackendWasm } from '../wasm-kernels/wasm-backend';
import { KERNELS_WASM_BASE64 } from './kernels-wasm';

/**
 * The fused step's building blocks on the wasm backend's heap: our small SIMD kernels
 * (kernels.ll), instantiated over the backend's own linear memory so they read and write the
 * same buffers XNNPACK does, and XNNPACK's matrix product reached through the backend's
 * exported BatchMatMul. All pointers and offsets are in bytes.
 */

export interface ElementwiseKernels {
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
  /** Accumulates Conv2DBackpropFilter into dw (zero it first); see kernels.ll. */
  conv_filter_grad(
    x: number,
    dy: number,
    dw: number,
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
    padTop: number,
    padLeft: number,
  ): void;
  /** Conv2DBackpropFilter's transposed im2col for stride 1, no padding; see kernels.ll. */
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
  /** 1 when some window needs the exact search; see kernels.ll. */
  max_pool_grad_disjoint(
    x: number,
    pooled: number,
    dy: number,
    dx: number,
    found: number,
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
  /** Winograd F(2×2, 3×3) input transform of tiles t0 ≤ t < t1; see kernels.ll. */
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
  /** Winograd F(2×2, 3×3) output transform of tiles t0 ≤ t < t1; see kernels.ll. */
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
  /** Returns the generator state after n draws. */
  dropout_mask(mask: number, n: number, state: number, keep: number, scale: number): number;
}

// The node typings used here leave out the WebAssembly JS API; these are the parts we use.
interface WasmApi {
  Memory: abstract new (...args: never[]) => object;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The parts of the backend's emscripten module we use (not in its public typings). */
interface EmscriptenBits {
  asm: { memory: object } | undefined;
  HEAPF32: Float32Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  cwrap(name: string, ret: null, args: string[]): (...args: unknown[]) => void;
  tfjs: {
    registerTensor(id: number, size: number, offset: number): void;
    disposeData(id: number): void;
  };
}

export function emscripten(backend: BackendWasm): EmscriptenBits {
  return backend.wasm as unknown as EmscriptenBits;
}

const instances = new WeakMap<object, ElementwiseKernels>();

let simdEnabled = true;
/**
 * Benchmark hook: false sends the wasm kernels that can use these (MaxPoolGrad and
 * Conv2DBackpropFilter) down their JavaScript/XNNPACK paths, for a before/after in one run.
 */
export function enableSimdKernels(on: boolean): void {
  simdEnabled = on;
}
export function simdKernelsEnabled(): boolean {
  return simdEnabled;
}

/** Throws when the backend's memory cannot be shared (e.g. a threaded build's shared memory). */
export function elementwiseKernels(backend: BackendWasm): ElementwiseKernels {
  const em = emscripten(backend);
  const cached = instances.get(em);
  if (cached) return cached;
  const memory = em.asm?.memory;
  if (!(memory instanceof wasmApi.Memory)) {
    throw new Error('the wasm backend does not expose its memory');
  }
  const module = new wasmApi.Module(Buffer.from(KERNELS_WASM_BASE64, 'base64'));
  const instance = new wasmApi.Instance(module, { env: { __linear_memory: memory } });
  const kernels = instance.exports as unknown as ElementwiseKernels;
  instances.set(em, kernels);
  return kernels;
}

/**
 * C[m, n] = A[m, k] · B[k, n] with XNNPACK, on buffers we own. The backend's C++ side knows
 * tensors by id, so each buffer gets one (taken from the backend's own counter so they never
 * collide). XNNPACK caches the packed B per id and would reuse it after B's contents changed,
 * so B gets a fresh id every call, released right after (which frees the cached operator).
 */
export class XnnMatMul {
  private readonly em: EmscriptenBits;
  private readonly fn: (...args: unknown[]) => void;
  private readonly ids: number[] = [];
  // [batch 1, rows, cols] as the byte arrays the exported function copies onto its stack.
  private readonly dimsA = new Int32Array([1, 0, 0]);
  private readonly dimsB = new Int32Array([1, 0, 0]);
  private readonly shapeA = new Uint8Array(this.dimsA.buffer);
  private readonly shapeB = new Uint8Array(this.dimsB.buffer);

  constructor(private readonly backend: BackendWasm) {
    this.em = emscripten(backend);
    this.fn = this.em.cwrap('BatchMatMul', null, [
      'number',
      'array',
      'number',
      'number',
      'array',
      'number',
      'number',
      'number',
      'number',
    ]);
  }

  private newId(offset: number, size: number): number {
    const counter = this.backend as unknown as { dataIdNextNumber: number };
    const id = counter.dataIdNextNumber++;
    this.em.tfjs.registerTensor(id, size, offset);
    return id;
  }

  /**
   * An id for a buffer, until `dispose`. As operand A or the output any contents will do (their
   * packing is not cached); as B (runRegistered) they must stay fixed until `dispose`.
   */
  register(offset: number, size: number): number {
    const id = this.newId(offset, size);
    this.ids.push(id);
    return id;
  }

  /** C = A·B where A and C were registered, and B (at byte offset b) changed since any last use. */
  run(aId: number, b: number, cId: number, m: number, k: number, n: number): void {
    const bId = this.newId(b, k * n);
    try {
      this.runRegistered(aId, bId, cId, m, k, n);
    } finally {
      this.em.tfjs.disposeData(bId);
    }
  }

  /**
   * C = A·B with B registered too: XNNPACK packs B once and reuses the packing for every call
   * with that id, so B's contents must not change until `dispose` (which frees the packing).
   */
  runRegistered(aId: number, bId: number, cId: number, m: number, k: number, n: number): void {
    this.dimsA[1] = m;
    this.dimsA[2] = k;
    this.dimsB[1] = k;
    this.dimsB[2] = n;
    this.fn(aId, this.shapeA, 3, bId, this.shapeB, 3, 0, 0, cId);
  }

  dispose(): void {
    for (const id of this.ids) this.em.tfjs.disposeData(id);
    this.ids.length = 0;
  }
}
