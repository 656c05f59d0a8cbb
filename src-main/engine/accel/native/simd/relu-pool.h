// What bias-relu-pool.c shares with the first layer's fused kernels (conv-direct.c,
// conv-filter-grad.c): the forward step on four channels of a 2×2 window, and the backward pass
// one image at a time.
#ifndef ACCEL_RELU_POOL_H
#define ACCEL_RELU_POOL_H

#include "simd.h"

// z0…z3: the window's values in row-major order. The values are compared as z + bias, as tfjs
// compares y: z₁ < z₂ may round to z₁ + b = z₂ + b, and then the first wins.
static inline __attribute__((always_inline)) void relu_pool4(v128_t z0, v128_t z1, v128_t z2,
                                                              v128_t z3, v128_t b,
                                                              float *restrict out,
                                                              unsigned char *restrict idx) {
  const v128_t v0 = wasm_f32x4_add(z0, b);
  const v128_t v1 = wasm_f32x4_add(z1, b);
  const v128_t v2 = wasm_f32x4_add(z2, b);
  const v128_t v3 = wasm_f32x4_add(z3, b);
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

// Rows of a channel's bias gradient summed in blocks, as in bias-relu.c.
#define POOL_GRAD_BLOCK 128

// bias_relu_pool_grad in pieces, which conv-filter-grad.c's first layer shares: one image's dz at
// a time, so it can be consumed while in cache. `inBlock` carries the pooled rows summed into
// part since part was last flushed into dbias: start at 0 with dbias and part zeroed, and flush
// once after the last image.

static inline void pool_grad_zero(float *restrict p, int count) {
  for (int k = 0; k < count; k++) p[k] = 0.0f;
}

static inline void pool_grad_flush(float *restrict dbias, float *restrict part, int c) {
  for (int j = 0; j < c; j++) {
    dbias[j] += part[j];
    part[j] = 0.0f;
  }
}

// One image's share of bias_relu_pool_grad: all of its dz[h, w, c], with Σ dz added into part
// and part flushed into dbias every POOL_GRAD_BLOCK pooled rows. Returns the rows part holds
// now, which the next image continues from.
static inline int pool_grad_image(const float *restrict dy, const float *restrict pooled,
                                  const unsigned char *restrict idx, float *restrict dz,
                                  float *restrict dbias, float *restrict part, int inBlock, int h,
                                  int w, int c) {
  const int oh = h / 2, ow = w / 2;
  const v128_t zero4 = wasm_f32x4_splat(0.0f);
  for (int r = 0; r < oh; r++) {
    float *restrict top = dz + 2 * r * w * c;
    float *restrict bottom = top + w * c;
    const int o = r * ow * c;
    for (int q = 0; q < ow; q++) {
      for (int j = 0; j < c; j += 4) {
        const int at = o + q * c + j;
        const v128_t p = wasm_v128_load(pooled + at);
        // dy where the pooled value is above 0, else p · 0: 0, or NaN where p is NaN.
        const v128_t g = wasm_v128_bitselect(wasm_v128_load(dy + at), wasm_f32x4_mul(p, zero4),
                                             wasm_f32x4_gt(p, zero4));
        const v128_t k = wasm_u32x4_extend_low_u16x8(
            wasm_u16x8_extend_low_u8x16(wasm_v128_load32_zero(idx + at)));
        const int col = 2 * q * c + j;
        wasm_v128_store(top + col, wasm_v128_and(g, wasm_i32x4_eq(k, wasm_i32x4_splat(0))));
        wasm_v128_store(top + col + c, wasm_v128_and(g, wasm_i32x4_eq(k, wasm_i32x4_splat(1))));
        wasm_v128_store(bottom + col, wasm_v128_and(g, wasm_i32x4_eq(k, wasm_i32x4_splat(2))));
        wasm_v128_store(bottom + col + c,
                        wasm_v128_and(g, wasm_i32x4_eq(k, wasm_i32x4_splat(3))));
        wasm_v128_store(part + j, wasm_f32x4_add(wasm_v128_load(part + j), g));
      }
    }
    // An odd width's last column, outside every window.
    if (w > 2 * ow) {
      pool_grad_zero(top + 2 * ow * c, c);
      pool_grad_zero(bottom + 2 * ow * c, c);
    }
    inBlock += ow;
    if (inBlock >= POOL_GRAD_BLOCK) {
      pool_grad_flush(dbias, part, c);
      inBlock = 0;
    }
  }
  // An odd height's last row, outside every window.
  if (h > 2 * oh) pool_grad_zero(dz + 2 * oh * w * c, w * c);
  return inBlock;
}

#endif
