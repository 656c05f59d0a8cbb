/**
 * Every knob of the acceleration layer in one object, handed to `registerAccelKernels` (and by
 * the trainer to the gradient threads, which register their own kernels): the kernels read it
 * from the config they were registered with, so two registrations never share hidden state.
 * Production runs use DEFAULT_TUNING; tests and bench/ pass variants for a before/after in one
 * process. Plain data, so it crosses to worker threads, except a filter-strategy rule function
 * (a benchmark's), which stays in the thread that registered it.
 */

/** How Conv2DBackpropFilter computes dW (kernels/Conv2DBackpropFilter.ts describes each). */
export type FilterStrategy =
  'im2col' | 'convolution' | 'transposed-im2col' | 'direct' | 'gemm' | 'winograd';

/** The geometry Conv2DBackpropFilter picks its strategy from. */
export interface FilterGeometry {
  n: number;
  h: number;
  w: number;
  ci: number;
  oh: number;
  ow: number;
  co: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  padTop: number;
  padLeft: number;
}

/**
 * Where the convolutions run on im2col + our GEMM (kernels/conv-gemm.ts): 'auto' where each
 * kernel's rule says it is faster, 'always' wherever the SIMD kernels run (tests; benches),
 * 'never' on the paths from before it.
 */
export type ConvGemmMode = 'auto' | 'always' | 'never';

/**
 * Where 3×3 stride-1 convolutions run by Winograd F(4×4, 3×3) (kernels/winograd4.ts): 'auto'
 * where winograd4Pays says it is faster, 'always' wherever it applies (tests; benches), 'never'
 * on the paths from before it.
 */
export type Winograd4Mode = 'auto' | 'always' | 'never';

/** Which way round BatchMatMul computes op(A)·op(B) (kernels/BatchMatMul.ts). */
export type MatMulOrientation = 'direct' | 'swapped';

export interface AccelTuning {
  /**
   * Our SIMD kernels (native/simd) where they apply; false sends MaxPoolGrad,
   * Conv2DBackpropFilter and Conv2D down their JavaScript/XNNPACK paths, which compute the same.
   */
  simd: boolean;
  /**
   * The relaxed-SIMD build of our kernels (fused multiply-adds) where the runtime has relaxed
   * SIMD; false: the SIMD128 build everywhere (native/simd/build.ts has both).
   */
  relaxedSimd: boolean;
  /**
   * BatchNormalization's training path as our two kernel passes (layers/BatchNormalization.ts,
   * needs `simd`); false: tfjs' ~40 ops.
   */
  batchNorm: boolean;
  /**
   * A Conv2D layer's bias and ReLU in training as one pass each way (layers/Conv2D.ts, needs
   * `simd`); false: tfjs' Add and Relu, Step, Multiply and Sum.
   */
  convActivation: boolean;
  /**
   * Such a layer whose only consumer is a 2×2 stride-2 'valid' MaxPooling2D, with the pool in
   * the same single pass each way (layers/Conv2D.ts, layers/MaxPooling2D.ts; needs
   * `convActivation`); false: MaxPool and MaxPoolGrad as kernels of their own.
   */
  convPool: boolean;
  /** Conv2D by Winograd F(2×2, 3×3) where it applies and pays (needs `simd`); false: built-in. */
  winograd: boolean;
  /**
   * Bytes of Winograd's transformed input and output (V and M) per pass, so both stay in the
   * 2 MB L2 between the transform that writes them and the one that reads them (Infinity: the
   * whole batch in one pass). cnn conv2 at batch 128, ms by bytes per pass: 256 kB 11.1,
   * 512 kB 10.6, 1 MB 10.3, 2 MB 10.5, 4 MB 10.6, whole batch (28 MB) 12.8.
   */
  winogradPassBytes: number;
  /** All three passes of a 3×3 stride-1 convolution by F(4×4, 3×3) (needs `simd`). */
  winograd4: Winograd4Mode;
  /**
   * winogradPassBytes for F(4×4, 3×3), whose tiles hold 2.25x the transformed values per output.
   */
  winograd4PassBytes: number;
  /**
   * The most images per convolution when Conv2DBackpropFilter convolves a large dy in batch
   * chunks (Infinity: one piece). dy's share is the filter XNNPACK packs and streams:
   * dy[128,24,24,32] took 104 ms in one piece, 76 ms in chunks of 8.
   */
  convolutionChunkLimit: number;
  /** im2col + GEMM for the convolutions (needs `simd`); see ConvGemmMode. */
  convGemm: ConvGemmMode;
  /**
   * Bytes of the im2col (or col2im) matrix per GEMM block, written and read back while in L2.
   * cnn conv2 at batch 128, two sweeps: 128 kB to 1 MB alike on all three passes; the filter
   * gradient 1.15–1.45x slower at 2 and 4 MB.
   */
  convGemmBlockBytes: number;
  /** Conv2DBackpropFilter's strategy, or a rule of the geometry; null: the kernel's own rule. */
  filterStrategy: FilterStrategy | ((g: FilterGeometry) => FilterStrategy) | null;
  /**
   * BatchMatMul and _FusedMatMul (the Dense layers) on our GEMM, transposes folded into its
   * packing (kernels/BatchMatMul.ts, needs `simd`); false: XNNPACK after explicit transposes.
   */
  denseGemm: boolean;
  /** BatchMatMul's orientation; null: the kernel's cost model. */
  matMulOrientation: MatMulOrientation | null;
}

export const DEFAULT_TUNING: Readonly<AccelTuning> = Object.freeze({
  simd: true,
  relaxedSimd: true,
  batchNorm: true,
  convActivation: true,
  convPool: true,
  winograd: true,
  winogradPassBytes: 1 << 20,
  winograd4: 'auto',
  winograd4PassBytes: 1 << 18,
  convolutionChunkLimit: 8,
  convGemm: 'auto',
  convGemmBlockBytes: 1 << 20,
  filterStrategy: null,
  denseGemm: true,
  matMulOrientation: null,
});

/** DEFAULT_TUNING with some knobs changed. */
export function accelTuning(changes: Partial<AccelTuning> = {}): Readonly<AccelTuning> {
  return Object.freeze({ ...DEFAULT_TUNING, ...changes });
}
