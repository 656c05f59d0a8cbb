// Conv2DBackpropFilter's parts that XNNPACK does not cover well (kernels/Conv2DBackpropFilter.ts).
#include "simd.h"

// Conv2DBackpropFilter summed directly, for few input channels (a first conv layer):
//   dw[i, j, c, o] += x[b, y·sh + i − pt, xo·sw + j − pl, c] · dy[b, y, xo, o]
// over every output pixel, the inner loop over o vectorised, dw ([kh, kw, ci, co], zeroed by the
// caller) staying in L1. Through XNNPACK this is a matrix product whose packed operand is all of
// dy (n·oh·ow·co floats) for only kh·kw·ci·co outputs, 4x slower on the cnn's first layer.
void EXPORT(conv_filter_grad)(const float *restrict x, const float *restrict dy,
                              float *restrict dw, int n, int h, int w, int ci, int oh, int ow,
                              int co, int kh, int kw, int sh, int sw, int pt, int pl) {
  const int rows = n * oh;
  if (rows <= 0 || ow <= 0 || co <= 0 || kh <= 0 || kw <= 0 || ci <= 0) return;
  for (int r = 0; r < rows; r++) { // r = b·oh + y
    const int b = r / oh;
    const int y0 = (r % oh) * sh - pt;
    for (int xo = 0; xo < ow; xo++) {
      const float *restrict g = dy + (r * ow + xo) * co;
      const int x0 = xo * sw - pl;
      for (int i = 0; i < kh; i++) {
        const int yy = y0 + i;
        if (yy < 0 || yy >= h) continue;
        for (int j = 0; j < kw; j++) {
          const int xx = x0 + j;
          if (xx < 0 || xx >= w) continue;
          const float *restrict px = x + ((b * h + yy) * w + xx) * ci;
          for (int c = 0; c < ci; c++) {
            const float v = px[c];
            float *restrict acc = dw + ((i * kw + j) * ci + c) * co;
            for (int o = 0; o < co; o++) acc[o] = acc[o] + v * g[o];
          }
        }
      }
    }
  }
}

// Conv2DBackpropFilter's transposed im2col for stride 1 and no padding ('valid'):
//   dst[(i·kw + j)·ci + c, (b − b0)·oh·ow + y·ow + xo] = src[c, b, y + i, xo + j]
// from x transposed to [ci, n, h, w], for images b0 ≤ b < b1. Each output row segment is a run
// of one input row. no_builtin keeps clang from turning those short runs into memory.copy calls,
// which cost more than the copy itself at 11 floats.
__attribute__((no_builtin)) void EXPORT(gather_cols_t)(const float *restrict src,
                                                       float *restrict dst, int n, int h, int w,
                                                       int ci, int oh, int ow, int kh, int kw,
                                                       int b0, int b1) {
  const int taps = kh * kw;
  const int nb = b1 - b0;
  const int img = oh * ow;
  if (taps <= 0 || ci <= 0 || nb <= 0 || oh <= 0 || ow <= 0) return;
  for (int t = 0; t < taps; t++) {
    const int i = t / kw;
    const int j = t % kw;
    for (int c = 0; c < ci; c++) {
      const int d0 = (t * ci + c) * (nb * img);
      for (int b = b0; b < b1; b++) {
        const int plane = (c * n + b) * (h * w);
        const int dbase = d0 + (b - b0) * img;
        for (int y = 0; y < oh; y++) {
          const float *restrict s = src + plane + (y + i) * w + j;
          float *restrict d = dst + dbase + y * ow;
          for (int xo = 0; xo < ow; xo++) d[xo] = s[xo];
        }
      }
    }
  }
}
