// Conv2DBackpropFilter's parts that XNNPACK does not cover well (kernels/Conv2DBackpropFilter.ts).
#include "relu-pool.h"

// Conv2DBackpropFilter summed directly, for few input channels (a first conv layer):
//   dw[i, j, c, o] += x[b, y·sh + i − pt, xo·sw + j − pl, c] · dy[b, y, xo, o]
// Through XNNPACK this is a matrix product whose packed operand is all of dy (n·oh·ow·co floats)
// for only kh·kw·ci·co outputs, 4x slower on the cnn's first layer. Here each image's sum for one
// tap, one input channel and up to 32 output channels runs in registers over the pixels the tap
// reaches (no bounds test inside), and the image's dy (86 KB on the cnn's first layer) stays in
// L2 across the kh·kw taps: 3–4x faster than accumulating into dw pixel by pixel, which stalls
// on a load and store of dw for every multiply-add.

// First and one-past-last output index o with 0 ≤ o·stride + tap − pad < size.
static inline int first_inside(int tap, int pad, int stride) {
  const int d = pad - tap; // o·stride ≥ d
  return d <= 0 ? 0 : (d + stride - 1) / stride;
}
static inline int end_inside(int tap, int pad, int stride, int size, int out) {
  const int d = size - 1 + pad - tap; // o·stride ≤ d
  if (d < 0) return 0;
  const int e = d / stride + 1;
  return e < out ? e : out;
}

// acc[0..NV) += Σ over the tap's pixels of x · dy[o0 + 4k ..], then dw[o0 ..] += acc.
#define TAP_SUM(NV)                                                                                \
  do {                                                                                             \
    v128_t acc[NV];                                                                                \
    for (int k = 0; k < NV; k++) acc[k] = wasm_f32x4_splat(0.0f);                                  \
    for (int y = y0; y < y1; y++) {                                                                \
      const float *restrict xr = xi + ((y * sh + i - pt) * w - pl + j) * ci + c;                   \
      const float *restrict gr = gi + y * ow * co + o;                                             \
      for (int xo = x0; xo < x1; xo++) {                                                           \
        const v128_t v = wasm_f32x4_splat(xr[xo * sw * ci]);                                       \
        const float *restrict g = gr + xo * co;                                                    \
        for (int k = 0; k < NV; k++) acc[k] = F32X4_MADD(v, wasm_v128_load(g + 4 * k), acc[k]);    \
      }                                                                                            \
    }                                                                                              \
    for (int k = 0; k < NV; k++) {                                                                 \
      float *restrict d = out + o + 4 * k;                                                         \
      wasm_v128_store(d, wasm_f32x4_add(wasm_v128_load(d), acc[k]));                               \
    }                                                                                              \
  } while (0)

// One image's terms of conv_filter_grad, added into dw.
static void filter_grad_image(const float *restrict xi, const float *restrict gi,
                              float *restrict dw, int h, int w, int ci, int oh, int ow, int co,
                              int kh, int kw, int sh, int sw, int pt, int pl) {
  for (int i = 0; i < kh; i++) {
    const int y0 = first_inside(i, pt, sh);
    const int y1 = end_inside(i, pt, sh, h, oh);
    for (int j = 0; j < kw; j++) {
      const int x0 = first_inside(j, pl, sw);
      const int x1 = end_inside(j, pl, sw, w, ow);
      if (y0 >= y1 || x0 >= x1) continue;
      for (int c = 0; c < ci; c++) {
        float *restrict out = dw + ((i * kw + j) * ci + c) * co;
        int o = 0;
        for (; o + 32 <= co; o += 32) TAP_SUM(8);
        for (; o + 16 <= co; o += 16) TAP_SUM(4);
        for (; o + 4 <= co; o += 4) TAP_SUM(1);
        for (; o < co; o++) {
          float acc = 0.0f;
          for (int y = y0; y < y1; y++) {
            const float *restrict xr = xi + ((y * sh + i - pt) * w - pl + j) * ci + c;
            const float *restrict gr = gi + y * ow * co + o;
            for (int xo = x0; xo < x1; xo++) acc += xr[xo * sw * ci] * gr[xo * co];
          }
          out[o] += acc;
        }
      }
    }
  }
}

void EXPORT(conv_filter_grad)(const float *restrict x, const float *restrict dy,
                              float *restrict dw, int n, int h, int w, int ci, int oh, int ow,
                              int co, int kh, int kw, int sh, int sw, int pt, int pl) {
  if (n <= 0 || oh <= 0 || ow <= 0 || co <= 0 || kh <= 0 || kw <= 0 || ci <= 0) return;
  for (int b = 0; b < n; b++) {
    filter_grad_image(x + b * h * w * ci, dy + b * oh * ow * co, dw, h, w, ci, oh, ow, co, kh, kw,
                      sh, sw, pt, pl);
  }
}

// conv_filter_grad of a layer whose output went through bias-relu-pool.c (layers/Conv2D.ts) and
// whose input is the model's (no input gradient, so dz has no other reader): each image's dz
// (oh·ow·co floats in `scratch`) is made by pool_grad_image and summed into dw while in cache,
// instead of all of dz going out to memory and back (11.1 MB each way on the cnn's conv1 at
// batch 128). dw += the same sums in the same order as conv_filter_grad over
// bias_relu_pool_grad's dz, and dbias = the same; part: co floats of scratch.
void EXPORT(bias_relu_pool_filter_grad)(const float *restrict x, const float *restrict dy,
                                        const float *restrict pooled,
                                        const unsigned char *restrict idx, float *restrict dw,
                                        float *restrict dbias, float *restrict part,
                                        float *restrict scratch, int n, int h, int w, int ci,
                                        int oh, int ow, int co, int kh, int kw, int sh, int sw,
                                        int pt, int pl) {
  const int pooledImage = (oh / 2) * (ow / 2) * co;
  for (int j = 0; j < co; j++) dbias[j] = part[j] = 0.0f;
  int inBlock = 0;
  for (int b = 0; b < n; b++) {
    inBlock = pool_grad_image(dy + b * pooledImage, pooled + b * pooledImage,
                              idx + b * pooledImage, scratch, dbias, part, inBlock, oh, ow, co);
    if (kh > 0 && kw > 0 && ci > 0) {
      filter_grad_image(x + b * h * w * ci, scratch, dw, h, w, ci, oh, ow, co, kh, kw, sh, sw, pt,
                        pl);
    }
  }
  pool_grad_flush(dbias, part, co);
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
