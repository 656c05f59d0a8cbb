// MaxPoolGrad's fast path (kernels/MaxPoolGrad.ts).
#include "simd.h"

// MaxPoolGrad for disjoint windows that lie inside the input (stride ≥ window, no padding),
// with the pooled output at hand: each dy value goes to the first element of its window (row
// major) equal to the window's maximum, channels vectorised, `found` (c floats of scratch)
// marking the channels already routed. dx must be zeroed. Returns 1 when some window needs the
// exact search instead (an element above the pooled maximum, none equal to it, or a maximum of
// −∞, which routes nothing); the caller then recomputes everything the exact way.
int EXPORT(max_pool_grad_disjoint)(const float *restrict x, const float *restrict pooled,
                                   const float *restrict dy, float *restrict dx,
                                   float *restrict found, int n, int h, int w, int c, int oh,
                                   int ow, int fh, int fw, int sh, int sw) {
  const int rows = n * oh;
  if (rows <= 0 || ow <= 0 || c <= 0 || fh <= 0 || fw <= 0) return 0;
  int bad = 0;
  for (int r = 0; r < rows; r++) {
    const int rowbase = ((r / oh) * h + (r % oh) * sh) * w;
    for (int q = 0; q < ow; q++) {
      const int base = (rowbase + q * sw) * c;
      const float *restrict m = pooled + (r * ow + q) * c;
      const float *restrict g = dy + (r * ow + q) * c;
      for (int k = 0; k < c; k++) found[k] = 0.0f;
      for (int i = 0; i < fh; i++) {
        for (int j = 0; j < fw; j++) {
          const int off = base + (i * w + j) * c;
          // Every value loaded unconditionally and the conditions combined with & (no branches),
          // so the channel loop vectorises.
          for (int k = 0; k < c; k++) {
            const float v = x[off + k];
            const float mk = m[k];
            const float gk = g[k];
            const float f = found[k];
            const int eq = v == mk;
            dx[off + k] = (eq & (f == 0.0f)) ? gk : 0.0f;
            found[k] = eq ? 1.0f : f;
            bad |= v > mk;
          }
        }
      }
      for (int k = 0; k < c; k++) bad |= (found[k] == 0.0f) | (m[k] == -__builtin_inff());
    }
  }
  return bad;
}
