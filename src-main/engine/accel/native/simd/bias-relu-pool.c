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
#include "relu-pool.h"

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
          const float *restrict zw = row + 2 * q * c + j;
          relu_pool4(wasm_v128_load(zw), wasm_v128_load(zw + c), wasm_v128_load(zw + w * c),
                     wasm_v128_load(zw + w * c + c), wasm_v128_load(bias + j),
                     pooled + o + q * c + j, idx + o + q * c + j);
        }
      }
    }
  }
}

// The gradient of bias_relu_pool: dz[n, h, w, c] (every element written) and dbias = Σ dz per
// channel, from the pooled map's gradient dy. part: c floats of scratch.
void EXPORT(bias_relu_pool_grad)(const float *restrict dy, const float *restrict pooled,
                                 const unsigned char *restrict idx, float *restrict dz,
                                 float *restrict dbias, float *restrict part, int n, int h, int w,
                                 int c) {
  const int pooledImage = (h / 2) * (w / 2) * c;
  for (int j = 0; j < c; j++) dbias[j] = part[j] = 0.0f;
  int inBlock = 0;
  for (int b = 0; b < n; b++) {
    inBlock = pool_grad_image(dy + b * pooledImage, pooled + b * pooledImage,
                              idx + b * pooledImage, dz + b * h * w * c, dbias, part, inBlock, h,
                              w, c);
  }
  pool_grad_flush(dbias, part, c);
}
