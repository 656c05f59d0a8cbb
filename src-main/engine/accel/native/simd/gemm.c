// Our matrix product for the convolution passes (kernels/conv-gemm.ts), and the im2col/col2im
// layout work around it.
//
// gemm: C[m, n] (+)= A[m, k] · B[k, n] with A packed by pack_a into panels of 4 rows,
// [⌈m/4⌉][k][4], and B by pack_b or pack_bt into panels of 8 columns, [⌈n/8⌉][k][8], both
// zero-padded. pack_a reads A through two strides, so one routine packs a row-major A (Conv2D's
// im2col rows, Conv2DBackpropInput's dy) and a transposed one (Conv2DBackpropFilter's colsᵀ). The
// micro-kernel keeps a 4×8 block of C in 8 registers: per k, one element of each of A's 4 rows
// is broadcast (v128.load32_splat) and multiplied into 8 columns of the panel, F32X4_MADD (a
// fused multiply-add in the relaxed build). V8 gives wasm 16 xmm registers on x64: 8
// accumulators + 2 panel vectors + a broadcast leave room; a 6×8 block (12 accumulators) ran
// at 0.64–0.80x of this one on the cnn's shapes, two runs. Row panels run outer, column panels
// inner, so A's panel (kc·4 floats) stays in L1 while B's stream from L2; k runs in blocks of
// kc.
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

// One rows×cols (≤ 4×8) block of C over kc steps of k, from A's panel ([kc][4]) and B's
// ([kc][8]). One pointer per operand, the 4 + 2 loads per k at constant offsets from it, so the
// loop's scalar work is two pointer increments and a compare. With A read in place, a pointer
// per row, the relaxed build ran 10.2–10.6 GMAC/s on the cnn conv2 shapes; packed, 11.1–14.2
// (one run, load 6). Unrolling k by 4 (clang's pragma) halved the speed.
static inline __attribute__((always_inline)) void tile(const float *restrict a,
                                                       const float *restrict b, float *restrict c,
                                                       int ldc, int kc, int rows, int cols,
                                                       int acc) {
  v128_t c00 = wasm_f32x4_splat(0.0f), c01 = c00, c10 = c00, c11 = c00;
  v128_t c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  const float *const end = a + kc * MR;
  for (; a < end; a += MR, b += NR) {
    const v128_t b0 = wasm_v128_load(b);
    const v128_t b1 = wasm_v128_load(b + 4);
    v128_t x = wasm_v128_load32_splat(a);
    c00 = F32X4_MADD(x, b0, c00);
    c01 = F32X4_MADD(x, b1, c01);
    x = wasm_v128_load32_splat(a + 1);
    c10 = F32X4_MADD(x, b0, c10);
    c11 = F32X4_MADD(x, b1, c11);
    x = wasm_v128_load32_splat(a + 2);
    c20 = F32X4_MADD(x, b0, c20);
    c21 = F32X4_MADD(x, b1, c21);
    x = wasm_v128_load32_splat(a + 3);
    c30 = F32X4_MADD(x, b0, c30);
    c31 = F32X4_MADD(x, b1, c31);
  }
  store_row(c, c00, c01, cols, acc);
  if (rows > 1) store_row(c + ldc, c10, c11, cols, acc);
  if (rows > 2) store_row(c + 2 * ldc, c20, c21, cols, acc);
  if (rows > 3) store_row(c + 3 * ldc, c30, c31, cols, acc);
}

// C[m, n] = A·B (acc = 0) or C += A·B (acc = 1), A packed by pack_a and B by pack_b/pack_bt;
// C row-major with row stride ldc; see the top.
void EXPORT(gemm)(const float *restrict ap, const float *restrict bp, float *restrict c, int ldc,
                  int m, int n, int k, int acc, int kc) {
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
      const float *ai = ap + ((long)(i / MR) * k + k0) * MR;
      float *ci = c + i * ldc;
      for (int p = 0; p < panels; p++) {
        const int cols = n - p * NR < NR ? n - p * NR : NR;
        tile(ai, bp + ((long)p * k + k0) * NR, ci + p * NR, ldc, kb, rows, cols, accb);
      }
    }
  }
}

// The 4×4 block whose rows are r0..r3, stored transposed: d[4j + i] = lane j of ri.
static inline void store_transposed(float *restrict d, v128_t r0, v128_t r1, v128_t r2,
                                    v128_t r3) {
  const v128_t t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5);
  const v128_t t1 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5);
  const v128_t t2 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7);
  const v128_t t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
  wasm_v128_store(d, wasm_i64x2_shuffle(t0, t1, 0, 2));
  wasm_v128_store(d + 4, wasm_i64x2_shuffle(t0, t1, 1, 3));
  wasm_v128_store(d + 8, wasm_i64x2_shuffle(t2, t3, 0, 2));
  wasm_v128_store(d + 12, wasm_i64x2_shuffle(t2, t3, 1, 3));
}

// Packs A[m, k], element (i, kk) at a[i·rs + kk·ks], for gemm: dst[i/4][kk][i%4], rows past m
// zero. rs = lda, ks = 1 for a row-major A; rs = 1, ks = lda for Aᵀ stored row-major (the
// filter gradient's im2col block), where each group of 4 is one 16-byte copy.
__attribute__((no_builtin)) void EXPORT(pack_a)(const float *restrict a, int rs, int ks, int m,
                                                int k, float *restrict dst) {
  for (int i0 = 0; i0 < m; i0 += MR) {
    const int rows = m - i0 < MR ? m - i0 : MR;
    float *restrict d = dst + (long)(i0 / MR) * k * MR;
    const float *restrict s = a + i0 * rs;
    if (rows == MR && rs == 1) {
      for (int kk = 0; kk < k; kk++) wasm_v128_store(d + kk * MR, wasm_v128_load(s + kk * ks));
    } else if (rows == MR && ks == 1) {
      // Row-major: 4×4 blocks transposed in registers. Element by element (and k in blocks of
      // 256) the cnn conv2 forward pass took 43–54 ms at batch 128; this way 25–30 (load 7).
      int kk = 0;
      for (; kk + 4 <= k; kk += 4) {
        store_transposed(d + kk * MR, wasm_v128_load(s + kk), wasm_v128_load(s + rs + kk),
                         wasm_v128_load(s + 2 * rs + kk), wasm_v128_load(s + 3 * rs + kk));
      }
      for (; kk < k; kk++) {
        d[kk * MR] = s[kk];
        d[kk * MR + 1] = s[rs + kk];
        d[kk * MR + 2] = s[2 * rs + kk];
        d[kk * MR + 3] = s[3 * rs + kk];
      }
    } else if (rows == MR) {
      for (int kk = 0; kk < k; kk++) {
        const float *restrict q = s + kk * ks;
        d[kk * MR] = q[0];
        d[kk * MR + 1] = q[rs];
        d[kk * MR + 2] = q[2 * rs];
        d[kk * MR + 3] = q[3 * rs];
      }
    } else {
      for (int kk = 0; kk < k; kk++)
        for (int r = 0; r < MR; r++) d[kk * MR + r] = r < rows ? s[r * rs + kk * ks] : 0.0f;
    }
  }
}

// `count` products C_q (+)= A_q · B_q, q < count, operand q at q·(a|b|c)_step floats from the
// first: a Winograd pass's 36 (kernels/winograd4.ts). B_q comes packed; A_q too (rs = 0), or
// row-major with row stride rs, packed into `ap` first. One call instead of 36 or 72 from
// JavaScript, whose generic wrapper cost ~3 % of a cnn step (V8 CPU profile).
void EXPORT(gemm_batch)(const float *restrict a, int a_step, int rs, float *restrict ap,
                        const float *restrict bp, int b_step, float *restrict c, int c_step,
                        int ldc, int m, int n, int k, int acc, int kc, int count) {
  for (int q = 0; q < count; q++) {
    const float *aq = a + (long)q * a_step;
    if (rs > 0) {
      pack_a(aq, rs, 1, m, k, ap);
      aq = ap;
    }
    gemm(aq, bp + (long)q * b_step, c + (long)q * c_step, ldc, m, n, k, acc, kc);
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

// im2col of an NHWC x, cols[m, (i·kw + j)·ci + c] = x[b, y·sh + i − pt, xo·sw + j − pl, c] with
// m = (b·oh + y)·ow + xo (zero outside the image), is never written out: pack_cols and
// pack_cols_t pack its rows m0 ≤ m < m1 straight from x into gemm's A layout. Writing cols and
// packing it in a second pass took 18 of a cnn-fast step's 147 ms (one thread).

// Where row m of cols reads tap row i: returns the offset into x of the row's first tap (j = 0)
// and sets [*lo, *hi) to the valid t = j·ci + c of the row's kw·ci run; the range is empty
// outside the image and for m ≥ m1. The offset may lie before x: only the valid range is read.
static inline __attribute__((always_inline)) long tap_row(int m, int m1, int i, int h, int w,
                                                          int ci, int oh, int ow, int kw, int sh,
                                                          int sw, int pt, int pl, int *lo,
                                                          int *hi) {
  *lo = 0;
  *hi = 0;
  if (m >= m1) return 0;
  const int img = oh * ow;
  const int b = m / img;
  const int yy = m % img / ow * sh + i - pt;
  const int x0 = (m % ow) * sw - pl;
  if (yy < 0 || yy >= h) return 0;
  const int jlo = x0 < 0 ? -x0 : 0;
  const int jhi = w - x0 < kw ? w - x0 : kw;
  if (jlo >= jhi) return 0;
  *lo = jlo * ci;
  *hi = jhi * ci;
  return ((long)(b * h + yy) * w + x0) * ci;
}

// One element of a tap row, zero outside [lo, hi). A branch, not a select: the compiler may not
// load outside the valid range.
static inline float tap_at(const float *restrict x, long o, int lo, int hi, int t) {
  if (t >= lo && t < hi) return x[o + t];
  return 0.0f;
}

// A = cols rows m0 ≤ m < m1, packed as pack_a packs a row-major A: dst[(m − m0)/4][kk][(m − m0)%4],
// rows past m1 zero. Four rows whose tap rows all lie inside the image, with a run of whole
// vectors (ci a multiple of 4), are transposed in registers 4×4 at a time, as pack_a does.
__attribute__((no_builtin)) void EXPORT(pack_cols)(const float *restrict x, float *restrict dst,
                                                   int h, int w, int ci, int oh, int ow, int kh,
                                                   int kw, int sh, int sw, int pt, int pl, int m0,
                                                   int m1) {
  const int run = kw * ci;
  const int r = kh * run;
  if (oh <= 0 || ow <= 0 || run <= 0) return;
  for (int g0 = m0; g0 < m1; g0 += MR) {
    float *restrict d = dst + (long)((g0 - m0) / MR) * r * MR;
    for (int i = 0; i < kh; i++, d += run * MR) {
      int l0, h0, l1, h1, l2, h2, l3, h3;
      const long o0 = tap_row(g0, m1, i, h, w, ci, oh, ow, kw, sh, sw, pt, pl, &l0, &h0);
      const long o1 = tap_row(g0 + 1, m1, i, h, w, ci, oh, ow, kw, sh, sw, pt, pl, &l1, &h1);
      const long o2 = tap_row(g0 + 2, m1, i, h, w, ci, oh, ow, kw, sh, sw, pt, pl, &l2, &h2);
      const long o3 = tap_row(g0 + 3, m1, i, h, w, ci, oh, ow, kw, sh, sw, pt, pl, &l3, &h3);
      const int whole = (run & 3) == 0 && (l0 | l1 | l2 | l3) == 0 && h0 == run && h1 == run &&
                        h2 == run && h3 == run;
      if (whole) {
        for (int t = 0; t < run; t += 4) {
          store_transposed(d + t * MR, wasm_v128_load(x + o0 + t), wasm_v128_load(x + o1 + t),
                           wasm_v128_load(x + o2 + t), wasm_v128_load(x + o3 + t));
        }
      } else {
        for (int t = 0; t < run; t++) {
          d[t * MR] = tap_at(x, o0, l0, h0, t);
          d[t * MR + 1] = tap_at(x, o1, l1, h1, t);
          d[t * MR + 2] = tap_at(x, o2, l2, h2, t);
          d[t * MR + 3] = tap_at(x, o3, l3, h3, t);
        }
      }
    }
  }
}

// A = colsᵀ for rows m0 ≤ m < m1 of cols (the filter gradient's colsᵀ·dy): dst[rr/4][m − m0][rr%4]
// for rr = (i·kw + j)·ci + c < kh·kw·ci, rows past it zero. With ci a multiple of 4 the four
// rows of a panel are four channels of one tap, one 16-byte load per pixel.
__attribute__((no_builtin)) void EXPORT(pack_cols_t)(const float *restrict x, float *restrict dst,
                                                     int h, int w, int ci, int oh, int ow, int kh,
                                                     int kw, int sh, int sw, int pt, int pl,
                                                     int m0, int m1) {
  const int r = kh * kw * ci;
  const int img = oh * ow;
  const int nm = m1 - m0;
  if (img <= 0 || r <= 0 || nm <= 0) return;
  for (int rr0 = 0; rr0 < r; rr0 += MR) {
    float *restrict d = dst + (long)(rr0 / MR) * nm * MR;
    int b = m0 / img, y = m0 % img / ow, xo = m0 % ow;
    if ((ci & 3) == 0) {
      const int i = rr0 / (kw * ci), j = rr0 / ci % kw, c = rr0 % ci;
      for (int q = 0; q < nm; q++) {
        const int yy = y * sh + i - pt, xx = xo * sw + j - pl;
        const v128_t v = (yy >= 0 && yy < h && xx >= 0 && xx < w)
                             ? wasm_v128_load(x + ((long)(b * h + yy) * w + xx) * ci + c)
                             : wasm_f32x4_splat(0.0f);
        wasm_v128_store(d + q * MR, v);
        if (++xo == ow) {
          xo = 0;
          if (++y == oh) y = 0, b++;
        }
      }
    } else {
      for (int q = 0; q < nm; q++) {
        for (int l = 0; l < MR; l++) {
          const int rr = rr0 + l;
          float v = 0.0f;
          if (rr < r) {
            const int i = rr / (kw * ci), j = rr / ci % kw, c = rr % ci;
            const int yy = y * sh + i - pt, xx = xo * sw + j - pl;
            if (yy >= 0 && yy < h && xx >= 0 && xx < w) v = x[((long)(b * h + yy) * w + xx) * ci + c];
          }
          d[q * MR + l] = v;
        }
        if (++xo == ow) {
          xo = 0;
          if (++y == oh) y = 0, b++;
        }
      }
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
