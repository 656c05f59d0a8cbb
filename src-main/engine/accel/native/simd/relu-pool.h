// The step bias-relu-pool.c and conv-direct.c share: four channels of a 2×2 window of a
// convolution's output, biased, ReLU'd and max-pooled, with the window position of the maximum.
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

#endif
