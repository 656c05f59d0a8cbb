// Our matrix product for the convolution passes (kernels/conv-gemm.ts), and the im2col/col2im
// layout work around it.
//
// gemm: C[m, n] (+)= A[m, k] · B[k, n] with B packed by pack_b or pack_bt into panels of 8
// columns, [⌈n/8⌉][k][8], zero-padded past n. A is read in place through two strides, element
// (i, kk) at a[i·rs + kk·ks]: rs = lda, ks = 1 for a row-major A (Conv2D's im2col rows,
// Conv2DBackpropInput's dy), rs = 1, ks = lda for a transposed one (Conv2DBackpropFilter's
// colsᵀ·dy reads its im2col block [k, m] column-wise). The micro-kernel keeps a 4×8 block of C
// in 8 registers: per k, one element of each of A's 4 rows is broadcast (v128.load32_splat) and
// multiplied into 8 columns of the panel, F32X4_MADD (a fused multiply-add in the relaxed
// build). V8 gives wasm 16 xmm registers on x64: 8 accumulators + 2 panel vectors + a
// broadcast leave room; a 6×8 block measured no faster. Rows run outer, panels inner, so A's 4
// rows (≤ kc floats each) stay in L1 while the panels stream from L2; k is cut into blocks of
// kc so that a transposed A's cache lines (one per k) fit in L1 as well.
#include "simd.h"

#define MR 4
#define NR 8

static inline void put(float *restrict p, float v, int acc) { *p = acc ? *p + v : v; }

// The first `cols` (< 8) of one row of a tile, lane by lane (no stack, no reads past the row).
static inline void store_part(float *restrict p, v128_t lo, v128_t hi, int cols, int acc) {
  if (cols > 0) put(p + 0, wasm_f32x4_extract_lane(lo, 0), acc);
  if (cols > 1) put(p + 1, wasm_f32x4_extract_lane(lo, 1), acc);
  if (cols > 2) put(p + 2, wasm_f32x4_extract_lane(lo, 2), acc);
  if (cols > 3) put(p + 3, wasm_f32x4_extract_lane(lo, 3), acc);
  if (cols > 4) put(p + 4, wasm_f32x4_extract_lane(hi, 0), acc);
  if (cols > 5) put(p + 5, wasm_f32x4_extract_lane(hi, 1), acc);
  if (cols > 6) put(p + 6, wasm_f32x4_extract_lane(hi, 2), acc);
}

static inline void store_row(float *restrict p, v128_t lo, v128_t hi, int cols, int acc) {
  if (cols == NR) {
    if (acc) {
      lo = wasm_f32x4_add(wasm_v128_load(p), lo);
      hi = wasm_f32x4_add(wasm_v128_load(p + 4), hi);
    }
    wasm_v128_store(p, lo);
    wasm_v128_store(p + 4, hi);
  } else {
    store_part(p, lo, hi, cols, acc);
  }
}

// One rows×cols (≤ 4×8) block of C over kc steps of k. Rows past `rows` repeat row 0 (valid
// memory) and are not stored. Inlined into each caller with constant strides where it has them.
static inline __attribute__((always_inline)) void tile(const float *restrict a, int rs, int ks,
                                                       const float *restrict b, float *restrict c,
                                                       int ldc, int kc, int rows, int cols,
                                                       int acc) {
  const float *a0 = a;
  const float *a1 = rows > 1 ? a + rs : a;
  const float *a2 = rows > 2 ? a + 2 * rs : a;
  const float *a3 = rows > 3 ? a + 3 * rs : a;
  v128_t c00 = wasm_f32x4_splat(0.0f), c01 = c00, c10 = c00, c11 = c00;
  v128_t c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (int kk = 0; kk < kc; kk++) {
    const v128_t b0 = wasm_v128_load(b);
    const v128_t b1 = wasm_v128_load(b + 4);
    b += NR;
    v128_t x = wasm_v128_load32_splat(a0);
    c00 = F32X4_MADD(x, b0, c00);
    c01 = F32X4_MADD(x, b1, c01);
    x = wasm_v128_load32_splat(a1);
    c10 = F32X4_MADD(x, b0, c10);
    c11 = F32X4_MADD(x, b1, c11);
    x = wasm_v128_load32_splat(a2);
    c20 = F32X4_MADD(x, b0, c20);
    c21 = F32X4_MADD(x, b1, c21);
    x = wasm_v128_load32_splat(a3);
    c30 = F32X4_MADD(x, b0, c30);
    c31 = F32X4_MADD(x, b1, c31);
    a0 += ks;
    a1 += ks;
    a2 += ks;
    a3 += ks;
  }
  store_row(c, c00, c01, cols, acc);
  if (rows > 1) store_row(c + ldc, c10, c11, cols, acc);
  if (rows > 2) store_row(c + 2 * ldc, c20, c21, cols, acc);
  if (rows > 3) store_row(c + 3 * ldc, c30, c31, cols, acc);
}

// C[m, n] = A·B (acc = 0) or C += A·B (acc = 1); C row-major with row stride ldc; see the top.
void EXPORT(gemm)(const float *restrict a, int rs, int ks, const float *restrict bp,
                  float *restrict c, int ldc, int m, int n, int k, int acc, int kc) {
  if (m <= 0 || n <= 0) return;
  if (kc <= 0) kc = k;
  if (k <= 0) {
    // An empty sum: C = 0 unless accumulating.
    if (!acc)
      for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) c[i * ldc + j] = 0.0f;
    return;
  }
  const int panels = (n + NR - 1) / NR;
  for (int k0 = 0; k0 < k; k0 += kc) {
    const int kb = k - k0 < kc ? k - k0 : kc;
    const int accb = acc || k0 > 0;
    for (int i = 0; i < m; i += MR) {
      const int rows = m - i < MR ? m - i : MR;
      const float *ai = a + i * rs + k0 * ks;
      float *ci = c + i * ldc;
      for (int p = 0; p < panels; p++) {
        const int cols = n - p * NR < NR ? n - p * NR : NR;
        const float *bpp = bp + ((long)p * k + k0) * NR;
        if (ks == 1)
          tile(ai, rs, 1, bpp, ci + p * NR, ldc, kb, rows, cols, accb);
        else if (rs == 1)
          tile(ai, 1, ks, bpp, ci + p * NR, ldc, kb, rows, cols, accb);
        else
          tile(ai, rs, ks, bpp, ci + p * NR, ldc, kb, rows, cols, accb);
      }
    }
  }
}

// Packs a row-major B[k, n] (row stride ldb) for gemm: dst[p][kk][l] = b[kk·ldb + 8p + l].
__attribute__((no_builtin)) void EXPORT(pack_b)(const float *restrict b, int ldb, int k, int n,
                                                float *restrict dst) {
  const int panels = (n + NR - 1) / NR;
  for (int p = 0; p < panels; p++) {
    const int j0 = p * NR;
    const int cols = n - j0 < NR ? n - j0 : NR;
    for (int kk = 0; kk < k; kk++) {
      const float *restrict s = b + kk * ldb + j0;
      float *restrict d = dst + ((long)p * k + kk) * NR;
      if (cols == NR) {
        wasm_v128_store(d, wasm_v128_load(s));
        wasm_v128_store(d + 4, wasm_v128_load(s + 4));
      } else {
        for (int l = 0; l < NR; l++) d[l] = l < cols ? s[l] : 0.0f;
      }
    }
  }
}

// Packs B = Tᵀ for a row-major T[n, k] (row stride ldt): dst[p][kk][l] = t[(8p + l)·ldt + kk].
__attribute__((no_builtin)) void EXPORT(pack_bt)(const float *restrict t, int ldt, int k, int n,
                                                 float *restrict dst) {
  const int panels = (n + NR - 1) / NR;
  for (int p = 0; p < panels; p++) {
    const int j0 = p * NR;
    const int cols = n - j0 < NR ? n - j0 : NR;
    float *restrict d = dst + (long)p * k * NR;
    for (int l = 0; l < NR; l++) {
      if (l < cols) {
        const float *restrict s = t + (j0 + l) * ldt;
        for (int kk = 0; kk < k; kk++) d[kk * NR + l] = s[kk];
      } else {
        for (int kk = 0; kk < k; kk++) d[kk * NR + l] = 0.0f;
      }
    }
  }
}

// im2col rows m0 ≤ m < m1 of an NHWC x: cols[m − m0, (i·kw + j)·ci + c] =
// x[b, y·sh + i − pt, xo·sw + j − pl, c] with m = (b·oh + y)·ow + xo, zero outside the image.
// Along j the taps of one input row are adjacent pixels whatever the stride, so each (m, i) is
// one run of x between two runs of zeros.
__attribute__((no_builtin)) void EXPORT(im2col)(const float *restrict x, float *restrict cols,
                                                int h, int w, int ci, int oh, int ow, int kh,
                                                int kw, int sh, int sw, int pt, int pl, int m0,
                                                int m1) {
  const int run = kw * ci;
  const int r = kh * run;
  const int img = oh * ow;
  if (img <= 0 || run <= 0) return;
  for (int m = m0; m < m1; m++) {
    const int b = m / img;
    const int y = m % img / ow;
    const int x0 = (m % ow) * sw - pl;
    const int jlo = x0 < 0 ? -x0 : 0;
    const int jhi = w - x0 < kw ? (w - x0 < jlo ? jlo : w - x0) : kw;
    float *restrict d = cols + (long)(m - m0) * r;
    for (int i = 0; i < kh; i++, d += run) {
      const int yy = y * sh + i - pt;
      if (yy < 0 || yy >= h || jlo >= jhi) {
        for (int t = 0; t < run; t++) d[t] = 0.0f;
        continue;
      }
      const float *restrict s = x + ((b * h + yy) * w + x0) * ci;
      for (int t = 0; t < jlo * ci; t++) d[t] = 0.0f;
      for (int t = jlo * ci; t < jhi * ci; t++) d[t] = s[t];
      for (int t = jhi * ci; t < run; t++) d[t] = 0.0f;
    }
  }
}

// col2im, the adjoint of im2col: dx[b, y·sh + i − pt, xo·sw + j − pl, c] +=
// cols[m − m0, (i·kw + j)·ci + c] for rows m0 ≤ m < m1, skipping taps outside the image. dx is
// accumulated into (zero it first); rows may come in any blocks.
void EXPORT(col2im)(const float *restrict cols, float *restrict dx, int h, int w, int ci, int oh,
                    int ow, int kh, int kw, int sh, int sw, int pt, int pl, int m0, int m1) {
  const int run = kw * ci;
  const int r = kh * run;
  const int img = oh * ow;
  if (img <= 0 || run <= 0) return;
  for (int m = m0; m < m1; m++) {
    const int b = m / img;
    const int y = m % img / ow;
    const int x0 = (m % ow) * sw - pl;
    const int jlo = x0 < 0 ? -x0 : 0;
    const int jhi = w - x0 < kw ? w - x0 : kw;
    if (jlo >= jhi) continue;
    const float *restrict s = cols + (long)(m - m0) * r;
    for (int i = 0; i < kh; i++, s += run) {
      const int yy = y * sh + i - pt;
      if (yy < 0 || yy >= h) continue;
      float *restrict d = dx + ((b * h + yy) * w + x0) * ci;
      for (int t = jlo * ci; t < jhi * ci; t++) d[t] = d[t] + s[t];
    }
  }
}
