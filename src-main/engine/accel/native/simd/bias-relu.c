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

// dz = dy where y > 0, else y · 0 (0, or NaN where y is NaN, as tfjs' Step passes NaN on), and
// dbias = Σ_r dz[r, ·]. y is the ReLU's output: y > 0 exactly where its input was. part: c
// floats of scratch.
void EXPORT(relu_bias_grad)(const float *restrict dy, const float *restrict y, float *restrict dz,
                            float *restrict dbias, float *restrict part, int m, int c) {
  for (int j = 0; j < c; j++) dbias[j] = 0.0f;
  for (int r0 = 0; r0 < m; r0 += BLOCK) {
    const int r1 = m < r0 + BLOCK ? m : r0 + BLOCK;
    for (int j = 0; j < c; j++) part[j] = 0.0f;
    for (int r = r0; r < r1; r++) {
      const float *restrict g = dy + r * c;
      const float *restrict a = y + r * c;
      float *restrict out = dz + r * c;
      for (int j = 0; j < c; j++) {
        const float d = a[j] > 0.0f ? g[j] : a[j] * 0.0f;
        out[j] = d;
        part[j] += d;
      }
    }
    for (int j = 0; j < c; j++) dbias[j] += part[j];
  }
}
