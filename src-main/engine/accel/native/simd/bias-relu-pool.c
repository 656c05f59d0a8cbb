// A convolution's bias and ReLU and the 2×2 stride-2 max pool after it, forward and backward, in
// one pass each way (layers/Conv2D.ts). Unfused, the convolution's output z[n, h, w, c] is read
// and written by the bias and ReLU, read by MaxPool, and backward MaxPoolGrad reads it again and
// writes dy's scatter, which the ReLU's gradient reads and writes once more: five full passes
// over the largest activation of a CNN. Fused, forward reads z once and writes the pooled map
// and a byte per pooled value naming its window's maximum; backward writes dz once.
//
// Semantics are those of the unfused ops: y = max(z + bias, 0), pooled = max of y's window, and
// the gradient goes to the first element (row major) of the window holding the largest z + bias
// when that maximum is above 0 (else the ReLU's gradient is 0 everywhere in the window).
#include "simd.h"

// Rows of a channel's bias gradient summed in blocks, as in bias-relu.c.
#define BLOCK 128

// The window's four values are compared as z + bias, as tfjs compares y: z₁ < z₂ may round to
// z₁ + b = z₂ + b, and then the first wins.
static inline __attribute__((always_inline)) void pool4(const float *restrict z, int c, int row,
                                                         v128_t b, float *restrict out,
                                                         unsigned char *restrict idx) {
  const v128_t v0 = wasm_f32x4_add(wasm_v128_load(z), b);
  const v128_t v1 = wasm_f32x4_add(wasm_v128_load(z + c), b);
  const v128_t v2 = wasm_f32x4_add(wasm_v128_load(z + row), b);
  const v128_t v3 = wasm_f32x4_add(wasm_v128_load(z + row + c), b);
  // Strictly greater only, so ties keep the earlier position.
  v128_t m = v0;
  v128_t k = wasm_i32x4_splat(0);
  v128_t gt = wasm_f32x4_gt(v1, m);
  m = wasm_v128_bitselect(v1, m, gt);
  k = wasm_v128_bitselect(wasm_i32x4_splat(1), k, gt);
  gt = wasm_f32x4_gt(v2, m);
  m = wasm_v128_bitselect(v2, m, gt);
  k = wasm_v128_bitselect(wasm_i32x4_splat(2), k, gt);
  gt = wasm_f32x4_gt(v3, m);
  m = wasm_v128_bitselect(v3, m, gt);
  k = wasm_v128_bitselect(wasm_i32x4_splat(3), k, gt);
  // A NaN anywhere in the window makes the pooled value NaN (f32x4.max propagates it), so a
  // diverged run stays visibly diverged; the ReLU keeps NaN and maps negatives to 0.
  const v128_t any = wasm_f32x4_max(wasm_f32x4_max(v0, v1), wasm_f32x4_max(v2, v3));
  m = wasm_v128_bitselect(any, m, wasm_f32x4_ne(any, any));
  const v128_t zero = wasm_f32x4_splat(0.0f);
  wasm_v128_store(out, wasm_v128_bitselect(zero, m, wasm_f32x4_lt(m, zero)));
  const v128_t k16 = wasm_i16x8_narrow_i32x4(k, k);
  wasm_v128_store32_lane(idx, wasm_u8x16_narrow_i16x8(k16, k16), 0);
}

// pooled[n, h/2, w/2, c] = max over each 2×2 window of max(z + bias, 0), and idx[n, h/2, w/2, c]
// the window position (0–3, row major) it came from. c a multiple of 4; odd h or w leave the last
// row or column out, as a 'valid' pool does.
void EXPORT(bias_relu_pool)(const float *restrict z, const float *restrict bias,
                            float *restrict pooled, unsigned char *restrict idx, int n, int h,
                            int w, int c) {
  const int oh = h / 2, ow = w / 2;
  for (int b = 0; b < n; b++) {
    for (int r = 0; r < oh; r++) {
      const float *restrict row = z + ((b * h + 2 * r) * w) * c;
      const int o = ((b * oh + r) * ow) * c;
      for (int q = 0; q < ow; q++) {
        for (int j = 0; j < c; j += 4) {
          pool4(row + 2 * q * c + j, c, w * c, wasm_v128_load(bias + j),
                pooled + o + q * c + j, idx + o + q * c + j);
        }
      }
    }
  }
}

static void zero(float *restrict p, int count) {
  for (int k = 0; k < count; k++) p[k] = 0.0f;
}

static void flush(float *restrict dbias, float *restrict part, int c) {
  for (int j = 0; j < c; j++) {
    dbias[j] += part[j];
    part[j] = 0.0f;
  }
}

// The gradient of bias_relu_pool: dz[n, h, w, c] (every element written) and dbias = Σ dz per
// channel, from the pooled map's gradient dy. part: c floats of scratch.
void EXPORT(bias_relu_pool_grad)(const float *restrict dy, const float *restrict pooled,
                                 const unsigned char *restrict idx, float *restrict dz,
                                 float *restrict dbias, float *restrict part, int n, int h, int w,
                                 int c) {
  const int oh = h / 2, ow = w / 2;
  const v128_t zero4 = wasm_f32x4_splat(0.0f);
  for (int j = 0; j < c; j++) dbias[j] = 0.0f;
  for (int j = 0; j < c; j++) part[j] = 0.0f;
  int inBlock = 0;
  for (int b = 0; b < n; b++) {
    for (int r = 0; r < oh; r++) {
      float *restrict top = dz + ((b * h + 2 * r) * w) * c;
      float *restrict bottom = top + w * c;
      const int o = ((b * oh + r) * ow) * c;
      for (int q = 0; q < ow; q++) {
        for (int j = 0; j < c; j += 4) {
          const int at = o + q * c + j;
          const v128_t p = wasm_v128_load(pooled + at);
          // dy where the pooled value is above 0, else p · 0: 0, or NaN where p is NaN.
          const v128_t g =
              wasm_v128_bitselect(wasm_v128_load(dy + at), wasm_f32x4_mul(p, zero4),
                                  wasm_f32x4_gt(p, zero4));
          const v128_t k = wasm_u32x4_extend_low_u16x8(
              wasm_u16x8_extend_low_u8x16(wasm_v128_load32_zero(idx + at)));
          const int col = 2 * q * c + j;
          wasm_v128_store(top + col, wasm_v128_and(g, wasm_i32x4_eq(k, wasm_i32x4_splat(0))));
          wasm_v128_store(top + col + c, wasm_v128_and(g, wasm_i32x4_eq(k, wasm_i32x4_splat(1))));
          wasm_v128_store(bottom + col,
                          wasm_v128_and(g, wasm_i32x4_eq(k, wasm_i32x4_splat(2))));
          wasm_v128_store(bottom + col + c,
                          wasm_v128_and(g, wasm_i32x4_eq(k, wasm_i32x4_splat(3))));
          wasm_v128_store(part + j, wasm_f32x4_add(wasm_v128_load(part + j), g));
        }
      }
      // An odd width's last column, outside every window.
      if (w > 2 * ow) {
        zero(top + 2 * ow * c, c);
        zero(bottom + 2 * ow * c, c);
      }
      inBlock += ow;
      if (inBlock >= BLOCK) {
        flush(dbias, part, c);
        inBlock = 0;
      }
    }
    // An odd height's last row, outside every window.
    if (h > 2 * oh) zero(dz + ((b * h + 2 * oh) * w) * c, w * c);
  }
  flush(dbias, part, c);
}
