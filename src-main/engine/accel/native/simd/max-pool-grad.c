// MaxPoolGrad's fast path (kernels/MaxPoolGrad.ts).
#include "simd.h"

static void zero(float *restrict p, int count) {
  for (int k = 0; k < count; k++) p[k] = 0.0f;
}

// One window's gradient, channels vectorised: each dy value goes to the first element of the
// window (row major) equal to the window's maximum m, every other element of the window gets 0.
// Returns lanes set where the window needs the exact search (see max_pool_grad_disjoint).
static inline __attribute__((always_inline)) v128_t window(const float *restrict x,
                                                            const float *restrict m,
                                                            const float *restrict g,
                                                            float *restrict dx, int w, int c,
                                                            const int fh, const int fw) {
  v128_t bad = wasm_i32x4_splat(0);
  int k = 0;
  for (; k + 4 <= c; k += 4) {
    const v128_t mv = wasm_v128_load(m + k);
    const v128_t gv = wasm_v128_load(g + k);
    v128_t found = wasm_i32x4_splat(0);
    for (int i = 0; i < fh; i++) {
      for (int j = 0; j < fw; j++) {
        const int off = (i * w + j) * c + k;
        const v128_t v = wasm_v128_load(x + off);
        const v128_t eq = wasm_f32x4_eq(v, mv);
        wasm_v128_store(dx + off, wasm_v128_and(wasm_v128_andnot(eq, found), gv));
        found = wasm_v128_or(found, eq);
        bad = wasm_v128_or(bad, wasm_f32x4_gt(v, mv));
      }
    }
    bad = wasm_v128_or(bad, wasm_v128_not(found));
    bad = wasm_v128_or(bad, wasm_f32x4_eq(mv, wasm_f32x4_splat(-__builtin_inff())));
  }
  int tail = 0;
  for (; k < c; k++) {
    const float mk = m[k];
    int found = 0;
    for (int i = 0; i < fh; i++) {
      for (int j = 0; j < fw; j++) {
        const int off = (i * w + j) * c + k;
        const int eq = x[off] == mk;
        dx[off] = (eq & !found) ? g[k] : 0.0f;
        found |= eq;
        tail |= x[off] > mk;
      }
    }
    tail |= !found | (mk == -__builtin_inff());
  }
  return wasm_v128_or(bad, wasm_i32x4_splat(-tail));
}

// MaxPoolGrad for disjoint windows that lie inside the input (stride ≥ window, no padding),
// with the pooled output at hand. Writes all of dx: window() the windows' elements, zero() the
// rows and columns between and after them, so the caller needs no zero pass (the old kernel
// routed through a `found` array in memory behind a separate fill: 2.6–3.5 ms on the cnn's
// first pool, x[128,26,26,32]). Returns 1 when some window needs the exact search instead (an
// element above the pooled maximum, none equal to it, or a maximum of −∞, which routes
// nothing); the caller then recomputes everything the exact way.
int EXPORT(max_pool_grad_disjoint)(const float *restrict x, const float *restrict pooled,
                                   const float *restrict dy, float *restrict dx, int n, int h,
                                   int w, int c, int oh, int ow, int fh, int fw, int sh, int sw) {
  if (n <= 0 || h <= 0 || w <= 0 || c <= 0) return 0;
  if (oh <= 0 || ow <= 0 || fh <= 0 || fw <= 0) {
    zero(dx, n * h * w * c);
    return 0;
  }
  v128_t bad = wasm_i32x4_splat(0);
  for (int b = 0; b < n; b++) {
    for (int r = 0; r < oh; r++) {
      const int top = (b * h + r * sh) * w * c;
      const float *restrict m = pooled + (b * oh + r) * ow * c;
      const float *restrict g = dy + (b * oh + r) * ow * c;
      if (fh == 2 && fw == 2) {
        for (int q = 0; q < ow; q++)
          bad = wasm_v128_or(
              bad, window(x + top + q * sw * c, m + q * c, g + q * c, dx + top + q * sw * c, w, c,
                          2, 2));
      } else {
        for (int q = 0; q < ow; q++)
          bad = wasm_v128_or(
              bad, window(x + top + q * sw * c, m + q * c, g + q * c, dx + top + q * sw * c, w, c,
                          fh, fw));
      }
      // The columns right of each window up to the next (stride > window) or the edge.
      if (sw > fw || (ow - 1) * sw + fw < w) {
        for (int i = 0; i < fh; i++) {
          for (int q = 0; q < ow; q++) {
            const int end = q + 1 < ow ? (q + 1) * sw : w;
            const int start = q * sw + fw;
            if (end > start) zero(dx + top + (i * w + start) * c, (end - start) * c);
          }
        }
      }
      // The rows below the windows up to the next row of windows or the edge.
      const int below = (r + 1 < oh ? sh : h - r * sh) - fh;
      if (below > 0) zero(dx + top + fh * w * c, below * w * c);
    }
  }
  return wasm_v128_any_true(bad);
}
