import { emscripten, type BackendWasm, type EmscriptenBits } from '../../wasm-backend';

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
