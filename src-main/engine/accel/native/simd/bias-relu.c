// A convolution's bias and ReLU, forward and backward, over channels-last activations viewed as
// m rows of c channels (layers/Conv2D.ts): one pass each way instead of tfjs' Add and Relu
// forward and Step, Multiply and Sum backward, each a full pass over the activation.
#include "simd.h"

// Rows of a channel's bias gradient summed in blocks, as in batch-norm.c.
#define BLOCK 128

// y = max(z + bias, 0) in place, keeping NaN (a diverged run must stay visibly diverged).
void EXPORT(bias_relu)(float *restrict z, const float *restrict bias, int m, int c) {
  for (int r = 0; r < m; r++) {
    float *restrict row = z + r * c;
    for (int j = 0; j < c; j++) {
      const float v = row[j] + bias[j];
      row[j] = v < 0.0f ? 0.0f : v;
    }
  }
}

// y = z + bias in place, per channel: a Dense layer's bias after our GEMM (kernels/_FusedMatMul.ts).
void EXPORT(bias_add)(float *restrict z, const float *restrict bias, int m, int c) {
  for (int r = 0; r < m; r++) {
    float *restrict row = z + r * c;
    for (int j = 0; j < c; j++) row[j] += bias[j];
  }
}

// dz = dy where y > 0, else y · 0 (0, or NaN where y is NaN, as tfjs' Step passes NaN on), and
// dbias = Σ_r dz[r, ·]. y is the ReLU's output: y > 0 exactly where its input was. part: c
// floats of scratch. Written with intrinsics: clang leaves the select-and-accumulate loop scalar,
// and it was the slowest part of a cnn-fast step (27 of 196 ms on one thread).
void EXPORT(relu_bias_grad)(const float *restrict dy, const float *restrict y, float *restrict dz,
                            float *restrict dbias, float *restrict part, int m, int c) {
  const v128_t zero = wasm_f32x4_splat(0.0f);
  const int c4 = c & ~3;
  for (int j = 0; j < c; j++) dbias[j] = 0.0f;
  for (int r0 = 0; r0 < m; r0 += BLOCK) {
    const int r1 = m < r0 + BLOCK ? m : r0 + BLOCK;
    for (int j = 0; j < c; j++) part[j] = 0.0f;
    for (int r = r0; r < r1; r++) {
      const float *restrict g = dy + r * c;
      const float *restrict a = y + r * c;
      float *restrict out = dz + r * c;
      int j = 0;
      for (; j < c4; j += 4) {
        const v128_t av = wasm_v128_load(a + j);
        const v128_t d = wasm_v128_bitselect(wasm_v128_load(g + j), wasm_f32x4_mul(av, zero),
                                             wasm_f32x4_gt(av, zero));
        wasm_v128_store(out + j, d);
        wasm_v128_store(part + j, wasm_f32x4_add(wasm_v128_load(part + j), d));
      }
      for (; j < c; j++) {
        const float d = a[j] > 0.0f ? g[j] : a[j] * 0.0f;
        out[j] = d;
        part[j] += d;
      }
    }
    for (int j = 0; j < c; j++) dbias[j] += part[j];
  }
}
