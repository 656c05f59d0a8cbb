// The fused Dense-stack training step's elementwise and layout work (fused/dense-step.ts).
// Plain loops with restrict pointers: clang's loop vectoriser turns them into f32x4 code. Float
// operations are in the exact order of the tfjs ops they replace (no fast-math, no contraction;
// only row_sums allows the reassociation it needs to vectorise).
#include "simd.h"

// tfjs' AdamOptimizer.applyGradients, one element at a time:
//   m' = m·β1 + g·(1−β1);  v' = v·β2 + g²·(1−β2)
//   p' = (m'/c1) / (sqrt(v'/c2) + ε) · (−lr) + p        with c1 = 1−β1ᵗ, c2 = 1−β2ᵗ
// except that m' and v' are flushed to 0 below FLT_MIN. A weight whose gradient stays 0 (an
// MNIST pixel that is never inked) has its moments decay geometrically through the subnormal
// range, where x86 float arithmetic is ~100x slower: that made this pass 13x slower in training.
// The update such a moment contributes is below 1e-30 either way.
void EXPORT(adam)(float *restrict p, const float *restrict g, float *restrict m,
                  float *restrict v, int n, float b1, float omb1, float b2, float omb2, float c1,
                  float c2, float neglr, float eps) {
  const float tiny = 0x1p-126f;
  for (int i = 0; i < n; i++) {
    const float gi = g[i];
    float mi = m[i] * b1 + gi * omb1;
    mi = __builtin_fabsf(mi) < tiny ? 0.0f : mi;
    float vi = v[i] * b2 + gi * gi * omb2;
    vi = vi < tiny ? 0.0f : vi;
    m[i] = mi;
    v[i] = vi;
    p[i] = (mi / c1) / (__builtin_sqrtf(vi / c2) + eps) * neglr + p[i];
  }
}

// dst[c, r] = src[r, c] for a [rows, cols] source, 16 source columns at a time: a tile's
// source rows and its 16 destination rows stay in L1 whichever side is long (a [32, 784] batch
// transposed element by element missed L1 on every store and took 2.4x longer).
void EXPORT(transpose)(const float *restrict src, float *restrict dst, int rows, int cols) {
  if (rows <= 0) return;
  for (int c0 = 0; c0 < cols; c0 += 16) {
    const int cend = cols < c0 + 16 ? cols : c0 + 16;
    for (int r = 0; r < rows; r++)
      for (int c = c0; c < cend; c++) dst[c * rows + r] = src[r * cols + c];
  }
}

// h[r, c] += bias[r] (activations are stored feature-major, [units, batch]).
void EXPORT(bias_rows)(float *restrict h, const float *restrict bias, int rows, int cols) {
  for (int r = 0; r < rows; r++) {
    const float b = bias[r];
    for (int c = 0; c < cols; c++) h[r * cols + c] = h[r * cols + c] + b;
  }
}

// dst[r] = Σ_c src[r, c]: bias gradients from feature-major output gradients.
void EXPORT(row_sums)(const float *restrict src, float *restrict dst, int rows, int cols) {
  for (int r = 0; r < rows; r++) {
#pragma clang fp reassociate(on)
    float acc = 0.0f;
    for (int c = 0; c < cols; c++) acc += src[r * cols + c];
    dst[r] = acc;
  }
}

// h = max(h, 0), keeping NaN (a diverged run must stay visibly diverged).
void EXPORT(relu)(float *restrict h, int n) {
  for (int i = 0; i < n; i++) h[i] = h[i] < 0.0f ? 0.0f : h[i];
}

// dz = a > 0 ? dz : 0, where a is the ReLU's output (a > 0 exactly where its input was).
void EXPORT(relu_grad)(float *restrict dz, const float *restrict a, int n) {
  // dz[i] read unconditionally: a load only on one side of the select would stop vectorisation.
  for (int i = 0; i < n; i++) {
    const float d = dz[i];
    dz[i] = a[i] > 0.0f ? d : 0.0f;
  }
}

// h *= mask (inverted dropout: mask holds 0 or 1/keep).
void EXPORT(mul)(float *restrict h, const float *restrict mask, int n) {
  for (int i = 0; i < n; i++) h[i] = h[i] * mask[i];
}

// Inverted-dropout mask: mask[i] = scale (= 1/keep) when u + keep >= 1, else 0, as tf.dropout's
// floor(u + keep) / keep, with u from mulberry32 (random.ts), one draw per element. Returns the
// generator's next state, so a seeded run repeats its masks exactly.
unsigned EXPORT(dropout_mask)(float *restrict mask, int n, unsigned state, double keep,
                              float scale) {
  for (int i = 0; i < n; i++) {
    state += 1831565813u;
    unsigned t = (state ^ (state >> 15)) * (state | 1u);
    t ^= t + (t ^ (t >> 7)) * (t | 61u);
    const unsigned bits = t ^ (t >> 14);
    const double u = (double)bits * 0x1p-32;
    mask[i] = u + keep >= 1.0 ? scale : 0.0f;
  }
  return state;
}
