// BatchNormalization in training, forward and backward, over channels-last activations viewed
// as m rows of c channels (layers/BatchNormalization.ts). tfjs computes the same thing as ~40
// elementwise ops and reductions over the whole activation; here it is three passes forward
// and two backward, each vectorised over the channels of a row.
#include "simd.h"

// Rows are summed in blocks of BLOCK into `part`, then the blocks into the total, so a channel's
// sum over 20 000 rows carries the rounding error of ~200 additions, not 20 000.
#define BLOCK 128

static inline void zero(float *restrict a, int c) {
  for (int j = 0; j < c; j++) a[j] = 0.0f;
}

// mean[j] = Σ_r x[r, j] / m;  var[j] = Σ_r (x[r, j] − mean[j])² / m (biased, as tf.moments).
// Two passes over x, as tf.moments takes them: the variance of values far from 0 stays exact.
// part: c floats of scratch.
void EXPORT(bn_moments)(const float *restrict x, float *restrict mean, float *restrict var,
                        float *restrict part, int m, int c) {
  zero(mean, c);
  zero(var, c);
  if (m <= 0) return;
  for (int r0 = 0; r0 < m; r0 += BLOCK) {
    const int r1 = m < r0 + BLOCK ? m : r0 + BLOCK;
    zero(part, c);
    for (int r = r0; r < r1; r++) {
      const float *restrict row = x + r * c;
      for (int j = 0; j < c; j++) part[j] += row[j];
    }
    for (int j = 0; j < c; j++) mean[j] += part[j];
  }
  const float inv = 1.0f / (float)m;
  for (int j = 0; j < c; j++) mean[j] *= inv;
  for (int r0 = 0; r0 < m; r0 += BLOCK) {
    const int r1 = m < r0 + BLOCK ? m : r0 + BLOCK;
    zero(part, c);
    for (int r = r0; r < r1; r++) {
      const float *restrict row = x + r * c;
      for (int j = 0; j < c; j++) {
        const float d = row[j] - mean[j];
        part[j] += d * d;
      }
    }
    for (int j = 0; j < c; j++) var[j] += part[j];
  }
  for (int j = 0; j < c; j++) var[j] *= inv;
}

// y[r, j] = (x[r, j] − mean[j]) · scale[j] + beta[j], the caller folding γ/√(var+ε) into scale.
void EXPORT(bn_apply)(const float *restrict x, float *restrict y, const float *restrict mean,
                      const float *restrict scale, const float *restrict beta, int m, int c) {
  for (int r = 0; r < m; r++) {
    const float *restrict row = x + r * c;
    float *restrict out = y + r * c;
    for (int j = 0; j < c; j++) out[j] = (row[j] - mean[j]) * scale[j] + beta[j];
  }
}

// The two per-channel sums the gradient needs: sum_dy[j] = Σ_r dy[r, j] (β's gradient) and
// sum_dyx[j] = Σ_r dy[r, j] · (x[r, j] − mean[j]) (γ's gradient, times √(var+ε)).
// part, part2: c floats of scratch each.
void EXPORT(bn_grad_sums)(const float *restrict dy, const float *restrict x,
                          const float *restrict mean, float *restrict sum_dy,
                          float *restrict sum_dyx, float *restrict part, float *restrict part2,
                          int m, int c) {
  zero(sum_dy, c);
  zero(sum_dyx, c);
  for (int r0 = 0; r0 < m; r0 += BLOCK) {
    const int r1 = m < r0 + BLOCK ? m : r0 + BLOCK;
    zero(part, c);
    zero(part2, c);
    for (int r = r0; r < r1; r++) {
      const float *restrict g = dy + r * c;
      const float *restrict row = x + r * c;
      for (int j = 0; j < c; j++) {
        part[j] += g[j];
        part2[j] += g[j] * (row[j] - mean[j]);
      }
    }
    for (int j = 0; j < c; j++) {
      sum_dy[j] += part[j];
      sum_dyx[j] += part2[j];
    }
  }
}

// dx[r, j] = a[j] · dy[r, j] + b[j] · (x[r, j] − mean[j]) + d[j]: the input gradient of
// training-mode batch normalisation, its per-channel factors folded by the caller.
void EXPORT(bn_grad_input)(const float *restrict dy, const float *restrict x,
                           const float *restrict mean, const float *restrict a,
                           const float *restrict b, const float *restrict d, float *restrict dx,
                           int m, int c) {
  for (int r = 0; r < m; r++) {
    const float *restrict g = dy + r * c;
    const float *restrict row = x + r * c;
    float *restrict out = dx + r * c;
    for (int j = 0; j < c; j++) out[j] = a[j] * g[j] + b[j] * (row[j] - mean[j]) + d[j];
  }
}
