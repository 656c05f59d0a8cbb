// Conv2D summed directly, for few input channels (a model's first layer; kernels/Conv2D.ts):
//   y[b, yo, xo, o] = Σ_{i, j, c} x[b, yo·sh + i − pt, xo·sw + j − pl, c] · w[i, j, c, o]
// As im2col + GEMM the first layer's product has k = kh·kw·ci = 9, too short for the GEMM's
// tiles to pay for their set-up and stores. Here each output pixel keeps up to 32 channels in
// registers over its taps, the filter ([kh, kw, ci, co], 1 KB on the cnn) staying in L1.
#include "simd.h"

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

void EXPORT(conv_direct)(const float *restrict x, const float *restrict filter, float *restrict y,
                         int n, int h, int w, int ci, int oh, int ow, int co, int kh, int kw,
                         int sh, int sw, int pt, int pl) {
  if (n <= 0 || oh <= 0 || ow <= 0 || co <= 0 || kh <= 0 || kw <= 0 || ci <= 0) return;
  for (int b = 0; b < n; b++) {
    const float *restrict xi = x + b * h * w * ci;
    for (int yo = 0; yo < oh; yo++) {
      // The taps inside the image: i0 ≤ i < i1 with 0 ≤ y0 + i < h, likewise j.
      const int y0 = yo * sh - pt;
      const int i0 = y0 < 0 ? -y0 : 0;
      const int i1 = h - y0 < kh ? h - y0 : kh;
      for (int xo = 0; xo < ow; xo++) {
        const int x0 = xo * sw - pl;
        const int j0 = x0 < 0 ? -x0 : 0;
        const int j1 = w - x0 < kw ? w - x0 : kw;
        float *restrict out = y + ((b * oh + yo) * ow + xo) * co;
        int o = 0;
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
    }
  }
}
