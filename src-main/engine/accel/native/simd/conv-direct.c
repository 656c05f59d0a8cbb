// Conv2D summed directly, for few input channels (a model's first layer; kernels/Conv2D.ts):
//   y[b, yo, xo, o] = Σ_{i, j, c} x[b, yo·sh + i − pt, xo·sw + j − pl, c] · w[i, j, c, o]
// As im2col + GEMM the first layer's product has k = kh·kw·ci = 9, too short for the GEMM's
// tiles to pay for their set-up and stores. Here each output pixel keeps up to 32 channels in
// registers over its taps, the filter ([kh, kw, ci, co], 1 KB on the cnn) staying in L1.
#include "relu-pool.h"

#define PIXEL_SUM(NV)                                                                              \
  do {                                                                                             \
    v128_t acc[NV];                                                                                \
    for (int k = 0; k < NV; k++) acc[k] = wasm_f32x4_splat(0.0f);                                  \
    for (int i = i0; i < i1; i++) {                                                                \
      for (int j = j0; j < j1; j++) {                                                              \
        const float *restrict px = xi + ((y0 + i) * w + x0 + j) * ci;                              \
        const float *restrict wt = filter + (i * kw + j) * ci * co + o;                            \
        for (int c = 0; c < ci; c++) {                                                             \
          const v128_t v = wasm_f32x4_splat(px[c]);                                                \
          for (int k = 0; k < NV; k++)                                                             \
            acc[k] = F32X4_MADD(v, wasm_v128_load(wt + c * co + 4 * k), acc[k]);                   \
        }                                                                                          \
      }                                                                                            \
    }                                                                                              \
    for (int k = 0; k < NV; k++) wasm_v128_store(out + o + 4 * k, acc[k]);                        \
  } while (0)

// Channels o ≤ o' < co of the output pixel whose window starts at (y0, x0), any geometry: the
// taps are clipped to the image (padding reads as zero).
static void pixel_sum(const float *restrict xi, const float *restrict filter, float *restrict out,
                      int h, int w, int ci, int co, int kh, int kw, int y0, int x0, int o) {
  // The taps inside the image: i0 ≤ i < i1 with 0 ≤ y0 + i < h, likewise j.
  const int i0 = y0 < 0 ? -y0 : 0;
  const int i1 = h - y0 < kh ? h - y0 : kh;
  const int j0 = x0 < 0 ? -x0 : 0;
  const int j1 = w - x0 < kw ? w - x0 : kw;
  for (; o + 32 <= co; o += 32) PIXEL_SUM(8);
  for (; o + 16 <= co; o += 16) PIXEL_SUM(4);
  for (; o + 4 <= co; o += 4) PIXEL_SUM(1);
  for (; o < co; o++) {
    float acc = 0.0f;
    for (int i = i0; i < i1; i++)
      for (int j = j0; j < j1; j++)
        for (int c = 0; c < ci; c++)
          acc += xi[((y0 + i) * w + x0 + j) * ci + c] * filter[((i * kw + j) * ci + c) * co + o];
    out[o] = acc;
  }
}

// np ≤ 4 output pixels (their windows sw floats apart from px, all nine taps inside the image),
// channels o ≤ o' < o + 8, of a 3×3 filter on one input channel. pixel_sum keeps 8 accumulators
// over runtime-bounded taps and loads all 72 filter vectors for each pixel: 3.2–7 ms on the
// cnn's conv1 (x[128,28,28,1] → 32, 25 M multiply-adds), 3.5–8 GMAC/s. Here the taps are
// compile-time constants and each pair of filter vectors serves 4 pixels (8 accumulators and 2
// filter vectors fit the 16 xmm registers V8 has on x64; 2 pixels × 16 channels or 6 × 8
// measured no better), and with sw a constant 1 every load's offset is an immediate (2.2 ms
// without): 1.6–2.0 ms. The sum runs in pixel_sum's order (i, then j), so the two agree bit for
// bit.
static inline __attribute__((always_inline)) void conv1_3x3(const float *restrict px, int w,
                                                             int sw, const float *restrict wt,
                                                             int co, float *restrict out,
                                                             const int np) {
  v128_t a0[4], a1[4];
  for (int p = 0; p < np; p++) a0[p] = a1[p] = wasm_f32x4_splat(0.0f);
  for (int i = 0; i < 3; i++) {
    for (int j = 0; j < 3; j++) {
      const v128_t w0 = wasm_v128_load(wt + (i * 3 + j) * co);
      const v128_t w1 = wasm_v128_load(wt + (i * 3 + j) * co + 4);
      for (int p = 0; p < np; p++) {
        const v128_t v = wasm_v128_load32_splat(px + i * w + p * sw + j);
        a0[p] = F32X4_MADD(v, w0, a0[p]);
        a1[p] = F32X4_MADD(v, w1, a1[p]);
      }
    }
  }
  for (int p = 0; p < np; p++) {
    wasm_v128_store(out + p * co, a0[p]);
    wasm_v128_store(out + p * co + 4, a1[p]);
  }
}

// Output pixels xo ≤ xo' < xb of one row through conv1_3x3, channels below co8; sw is a
// compile-time 1 where the caller can make it one.
static inline __attribute__((always_inline)) void conv1_3x3_row(
    const float *restrict xr, const float *restrict filter, float *restrict row, int w, int co,
    int co8, int sw, int pl, int xo, int xb) {
  for (; xo + 4 <= xb; xo += 4) {
    const float *restrict px = xr + xo * sw - pl;
    for (int o = 0; o < co8; o += 8) conv1_3x3(px, w, sw, filter + o, co, row + xo * co + o, 4);
  }
  for (; xo < xb; xo++) {
    const float *restrict px = xr + xo * sw - pl;
    for (int o = 0; o < co8; o += 8) conv1_3x3(px, w, sw, filter + o, co, row + xo * co + o, 1);
  }
}

void EXPORT(conv_direct)(const float *restrict x, const float *restrict filter, float *restrict y,
                         int n, int h, int w, int ci, int oh, int ow, int co, int kh, int kw,
                         int sh, int sw, int pt, int pl) {
  if (n <= 0 || oh <= 0 || ow <= 0 || co <= 0 || kh <= 0 || kw <= 0 || ci <= 0) return;
  // A 3×3 filter on one input channel (the cnn's first layer) runs its interior pixels,
  // xa ≤ xo < xb in rows whose taps are inside the image, through conv1_3x3 for channels below
  // co8; the rest go through pixel_sum.
  const int fast = ci == 1 && kh == 3 && kw == 3;
  const int co8 = fast ? co & ~7 : 0;
  int xa = 0, xb = ow;
  while (xa < ow && xa * sw - pl < 0) xa++;
  while (xb > xa && (xb - 1) * sw - pl + 3 > w) xb--;
  for (int b = 0; b < n; b++) {
    const float *restrict xi = x + b * h * w * ci;
    for (int yo = 0; yo < oh; yo++) {
      const int y0 = yo * sh - pt;
      float *restrict row = y + (b * oh + yo) * ow * co;
      if (co8 == 0 || y0 < 0 || y0 + 3 > h) {
        for (int xo = 0; xo < ow; xo++)
          pixel_sum(xi, filter, row + xo * co, h, w, ci, co, kh, kw, y0, xo * sw - pl, 0);
        continue;
      }
      for (int xo = 0; xo < xa; xo++)
        pixel_sum(xi, filter, row + xo * co, h, w, ci, co, kh, kw, y0, xo * sw - pl, 0);
      const float *restrict xr = xi + y0 * w;
      if (sw == 1)
        conv1_3x3_row(xr, filter, row, w, co, co8, 1, pl, xa, xb);
      else
        conv1_3x3_row(xr, filter, row, w, co, co8, sw, pl, xa, xb);
      if (co8 < co) {
        for (int xo = xa; xo < xb; xo++)
          pixel_sum(xi, filter, row + xo * co, h, w, ci, co, kh, kw, y0, xo * sw - pl, co8);
      }
      for (int xo = xb; xo < ow; xo++)
        pixel_sum(xi, filter, row + xo * co, h, w, ci, co, kh, kw, y0, xo * sw - pl, 0);
    }
  }
}

// conv_direct's 3×3, one-channel, stride-1 'valid' case with the bias, ReLU and 2×2 stride-2 max
// pool after it (layers/Conv2D.ts), for co a multiple of 8: pooled[n, (h−2)/2, (w−2)/2, co] and
// idx as bias-relu-pool.c writes them. The four pixels conv1_3x3 sums at a time are a pool
// window's (two of one row, two of the next) instead of four along a row, so the convolution's
// output never reaches memory: the unfused pass wrote it (11.1 MB on the cnn's conv1 at batch
// 128) and the pool read it back. The sums run in conv1_3x3's order, so the pooled values are
// conv_direct's then bias_relu_pool's bit for bit.
void EXPORT(conv1_3x3_pool)(const float *restrict x, const float *restrict filter,
                            const float *restrict bias, float *restrict pooled,
                            unsigned char *restrict idx, int n, int h, int w, int co) {
  const int ph = (h - 2) / 2, pw = (w - 2) / 2;
  for (int b = 0; b < n; b++) {
    const float *restrict xi = x + b * h * w;
    for (int r = 0; r < ph; r++) {
      for (int q = 0; q < pw; q++) {
        const float *restrict px = xi + 2 * r * w + 2 * q;
        const int at = ((b * ph + r) * pw + q) * co;
        for (int o = 0; o < co; o += 8) {
          v128_t a0[4], a1[4];
          for (int p = 0; p < 4; p++) a0[p] = a1[p] = wasm_f32x4_splat(0.0f);
          for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
              const v128_t w0 = wasm_v128_load(filter + (i * 3 + j) * co + o);
              const v128_t w1 = wasm_v128_load(filter + (i * 3 + j) * co + o + 4);
              for (int p = 0; p < 4; p++) {
                const v128_t v = wasm_v128_load32_splat(px + (i + (p >> 1)) * w + (p & 1) + j);
                a0[p] = F32X4_MADD(v, w0, a0[p]);
                a1[p] = F32X4_MADD(v, w1, a1[p]);
              }
            }
          }
          relu_pool4(a0[0], a0[1], a0[2], a0[3], wasm_v128_load(bias + o), pooled + at + o,
                     idx + at + o);
          relu_pool4(a1[0], a1[1], a1[2], a1[3], wasm_v128_load(bias + o + 4),
                     pooled + at + o + 4, idx + at + o + 4);
        }
      }
    }
  }
}
