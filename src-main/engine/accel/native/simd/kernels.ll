; Small SIMD kernels on the wasm backend's heap: the fused Dense-stack training step's
; elementwise and layout work (fused/dense-step.ts), and the parts of the conv/pool gradient
; kernels (wasm-kernels/) that XNNPACK does not cover well. Compiled by build-kernels.ts (opt -O3,
; llc, wasm32 + simd128) into kernels-wasm.ts; the module imports the wasm backend's own memory,
; so every pointer here is a byte offset into tfjs' heap.
; Plain IR because there is no C compiler on this machine; opt's loop vectoriser turns the
; scalar loops into f32x4 code. Float operations are in the exact order of the tfjs ops they
; replace (no fast-math except the reassociation row_sums needs to vectorise).

target datalayout = "e-m:e-p:32:32-p10:10:64-p20:20:64-i64:64-n32:64-S128-ni:1:10:20"
target triple = "wasm32-unknown-unknown"

declare float @llvm.sqrt.f32(float)
declare float @llvm.fabs.f32(float)

; tfjs' AdamOptimizer.applyGradients, one element at a time:
;   m' = m·β1 + g·(1−β1);  v' = v·β2 + g²·(1−β2)
;   p' = (m'/c1) / (sqrt(v'/c2) + ε) · (−lr) + p        with c1 = 1−β1ᵗ, c2 = 1−β2ᵗ
; except that m' and v' are flushed to 0 below FLT_MIN. A weight whose gradient stays 0 (an
; MNIST pixel that is never inked) has its moments decay geometrically through the subnormal
; range, where x86 float arithmetic is ~100x slower: that made this pass 13x slower in training.
; The update such a moment contributes is below 1e-30 either way.
define void @adam(float* noalias nocapture %p, float* noalias nocapture readonly %g,
                  float* noalias nocapture %m, float* noalias nocapture %v, i32 %n,
                  float %b1, float %omb1, float %b2, float %omb2,
                  float %c1, float %c2, float %neglr, float %eps) {
entry:
  %has = icmp sgt i32 %n, 0
  br i1 %has, label %loop, label %exit
loop:
  %i = phi i32 [0, %entry], [%i.next, %loop]
  %pp = getelementptr inbounds float, float* %p, i32 %i
  %gp = getelementptr inbounds float, float* %g, i32 %i
  %mp = getelementptr inbounds float, float* %m, i32 %i
  %vp = getelementptr inbounds float, float* %v, i32 %i
  %pv = load float, float* %pp, align 4
  %gv = load float, float* %gp, align 4
  %mv = load float, float* %mp, align 4
  %vv = load float, float* %vp, align 4
  %m1 = fmul float %mv, %b1
  %m2 = fmul float %gv, %omb1
  %mraw = fadd float %m1, %m2
  %ma = call float @llvm.fabs.f32(float %mraw)
  %mtiny = fcmp olt float %ma, 0x3810000000000000
  %mn = select i1 %mtiny, float 0.0, float %mraw
  %v1 = fmul float %vv, %b2
  %gg = fmul float %gv, %gv
  %v2 = fmul float %gg, %omb2
  %vraw = fadd float %v1, %v2
  %vtiny = fcmp olt float %vraw, 0x3810000000000000
  %vn = select i1 %vtiny, float 0.0, float %vraw
  store float %mn, float* %mp, align 4
  store float %vn, float* %vp, align 4
  %bm = fdiv float %mn, %c1
  %bv = fdiv float %vn, %c2
  %sq = call float @llvm.sqrt.f32(float %bv)
  %den = fadd float %sq, %eps
  %q = fdiv float %bm, %den
  %u = fmul float %q, %neglr
  %pn = fadd float %u, %pv
  store float %pn, float* %pp, align 4
  %i.next = add nuw nsw i32 %i, 1
  %done = icmp eq i32 %i.next, %n
  br i1 %done, label %exit, label %loop
exit:
  ret void
}

; dst[c, r] = src[r, c] for a [rows, cols] source, 16 source columns at a time: a tile's
; source rows and its 16 destination rows stay in L1 whichever side is long (a [32, 784] batch
; transposed element by element missed L1 on every store and took 2.4x longer).
define void @transpose(float* noalias nocapture readonly %src, float* noalias nocapture %dst,
                       i32 %rows, i32 %cols) {
entry:
  %rpos = icmp sgt i32 %rows, 0
  %cpos = icmp sgt i32 %cols, 0
  %ok = and i1 %rpos, %cpos
  br i1 %ok, label %tile, label %exit
tile:
  %c0 = phi i32 [0, %entry], [%c0.next, %tile.end]
  %c0.16 = add nsw i32 %c0, 16
  %short = icmp slt i32 %cols, %c0.16
  %cend = select i1 %short, i32 %cols, i32 %c0.16
  br label %outer
outer:
  %r = phi i32 [0, %tile], [%r.next, %outer.end]
  %rowbase = mul nsw i32 %r, %cols
  br label %inner
inner:
  %c = phi i32 [%c0, %outer], [%c.next, %inner]
  %si = add nsw i32 %rowbase, %c
  %sp = getelementptr inbounds float, float* %src, i32 %si
  %val = load float, float* %sp, align 4
  %cr = mul nsw i32 %c, %rows
  %di = add nsw i32 %cr, %r
  %dp = getelementptr inbounds float, float* %dst, i32 %di
  store float %val, float* %dp, align 4
  %c.next = add nuw nsw i32 %c, 1
  %cdone = icmp eq i32 %c.next, %cend
  br i1 %cdone, label %outer.end, label %inner
outer.end:
  %r.next = add nuw nsw i32 %r, 1
  %rdone = icmp eq i32 %r.next, %rows
  br i1 %rdone, label %tile.end, label %outer
tile.end:
  %c0.next = add nsw i32 %c0, 16
  %tdone = icmp sge i32 %c0.next, %cols
  br i1 %tdone, label %exit, label %tile
exit:
  ret void
}

; h[r, c] += bias[r] (activations are stored feature-major, [units, batch]).
define void @bias_rows(float* noalias nocapture %h, float* noalias nocapture readonly %bias,
                       i32 %rows, i32 %cols) {
entry:
  %rpos = icmp sgt i32 %rows, 0
  %cpos = icmp sgt i32 %cols, 0
  %ok = and i1 %rpos, %cpos
  br i1 %ok, label %outer, label %exit
outer:
  %r = phi i32 [0, %entry], [%r.next, %outer.end]
  %rowbase = mul nsw i32 %r, %cols
  %bp = getelementptr inbounds float, float* %bias, i32 %r
  %b = load float, float* %bp, align 4
  br label %inner
inner:
  %c = phi i32 [0, %outer], [%c.next, %inner]
  %hi = add nsw i32 %rowbase, %c
  %hp = getelementptr inbounds float, float* %h, i32 %hi
  %hv = load float, float* %hp, align 4
  %s = fadd float %hv, %b
  store float %s, float* %hp, align 4
  %c.next = add nuw nsw i32 %c, 1
  %cdone = icmp eq i32 %c.next, %cols
  br i1 %cdone, label %outer.end, label %inner
outer.end:
  %r.next = add nuw nsw i32 %r, 1
  %rdone = icmp eq i32 %r.next, %rows
  br i1 %rdone, label %exit, label %outer
exit:
  ret void
}

; dst[r] = Σ_c src[r, c]: bias gradients from feature-major output gradients.
define void @row_sums(float* noalias nocapture readonly %src, float* noalias nocapture %dst,
                      i32 %rows, i32 %cols) {
entry:
  %rpos = icmp sgt i32 %rows, 0
  br i1 %rpos, label %outer, label %exit
outer:
  %r = phi i32 [0, %entry], [%r.next, %outer.end]
  %rowbase = mul nsw i32 %r, %cols
  %cpos = icmp sgt i32 %cols, 0
  br i1 %cpos, label %inner, label %outer.end
inner:
  %c = phi i32 [0, %outer], [%c.next, %inner]
  %acc = phi float [0.0, %outer], [%acc.next, %inner]
  %si = add nsw i32 %rowbase, %c
  %sp = getelementptr inbounds float, float* %src, i32 %si
  %val = load float, float* %sp, align 4
  %acc.next = fadd reassoc float %acc, %val
  %c.next = add nuw nsw i32 %c, 1
  %cdone = icmp eq i32 %c.next, %cols
  br i1 %cdone, label %outer.end, label %inner
outer.end:
  %sum = phi float [0.0, %outer], [%acc.next, %inner]
  %dp = getelementptr inbounds float, float* %dst, i32 %r
  store float %sum, float* %dp, align 4
  %r.next = add nuw nsw i32 %r, 1
  %rdone = icmp eq i32 %r.next, %rows
  br i1 %rdone, label %exit, label %outer
exit:
  ret void
}

; h = max(h, 0), keeping NaN (a diverged run must stay visibly diverged).
define void @relu(float* noalias nocapture %h, i32 %n) {
entry:
  %has = icmp sgt i32 %n, 0
  br i1 %has, label %loop, label %exit
loop:
  %i = phi i32 [0, %entry], [%i.next, %loop]
  %hp = getelementptr inbounds float, float* %h, i32 %i
  %hv = load float, float* %hp, align 4
  %neg = fcmp olt float %hv, 0.0
  %r = select i1 %neg, float 0.0, float %hv
  store float %r, float* %hp, align 4
  %i.next = add nuw nsw i32 %i, 1
  %done = icmp eq i32 %i.next, %n
  br i1 %done, label %exit, label %loop
exit:
  ret void
}

; dz = a > 0 ? dz : 0, where a is the ReLU's output (a > 0 exactly where its input was).
define void @relu_grad(float* noalias nocapture %dz, float* noalias nocapture readonly %a, i32 %n) {
entry:
  %has = icmp sgt i32 %n, 0
  br i1 %has, label %loop, label %exit
loop:
  %i = phi i32 [0, %entry], [%i.next, %loop]
  %dp = getelementptr inbounds float, float* %dz, i32 %i
  %ap = getelementptr inbounds float, float* %a, i32 %i
  %dv = load float, float* %dp, align 4
  %av = load float, float* %ap, align 4
  %pos = fcmp ogt float %av, 0.0
  %r = select i1 %pos, float %dv, float 0.0
  store float %r, float* %dp, align 4
  %i.next = add nuw nsw i32 %i, 1
  %done = icmp eq i32 %i.next, %n
  br i1 %done, label %exit, label %loop
exit:
  ret void
}

; h *= mask (inverted dropout: mask holds 0 or 1/keep).
define void @mul(float* noalias nocapture %h, float* noalias nocapture readonly %mask, i32 %n) {
entry:
  %has = icmp sgt i32 %n, 0
  br i1 %has, label %loop, label %exit
loop:
  %i = phi i32 [0, %entry], [%i.next, %loop]
  %hp = getelementptr inbounds float, float* %h, i32 %i
  %mp = getelementptr inbounds float, float* %mask, i32 %i
  %hv = load float, float* %hp, align 4
  %mv = load float, float* %mp, align 4
  %r = fmul float %hv, %mv
  store float %r, float* %hp, align 4
  %i.next = add nuw nsw i32 %i, 1
  %done = icmp eq i32 %i.next, %n
  br i1 %done, label %exit, label %loop
exit:
  ret void
}

; Inverted-dropout mask: mask[i] = scale (= 1/keep) when u + keep >= 1, else 0, as tf.dropout's
; floor(u + keep) / keep, with u from mulberry32 (random.ts), one draw per element. Returns the
; generator's next state, so a seeded run repeats its masks exactly.
define i32 @dropout_mask(float* noalias nocapture %mask, i32 %n, i32 %state, double %keep,
                         float %scale) {
entry:
  %has = icmp sgt i32 %n, 0
  br i1 %has, label %loop, label %exit
loop:
  %i = phi i32 [0, %entry], [%i.next, %loop]
  %s = phi i32 [%state, %entry], [%a, %loop]
  %a = add i32 %s, 1831565813
  %t15 = lshr i32 %a, 15
  %x1 = xor i32 %a, %t15
  %o1 = or i32 %a, 1
  %t = mul i32 %x1, %o1
  %t7 = lshr i32 %t, 7
  %x2 = xor i32 %t, %t7
  %o61 = or i32 %t, 61
  %m2 = mul i32 %x2, %o61
  %sum = add i32 %t, %m2
  %t2 = xor i32 %t, %sum
  %t14 = lshr i32 %t2, 14
  %bits = xor i32 %t2, %t14
  %ud = uitofp i32 %bits to double
  %u = fmul double %ud, 0x3DF0000000000000
  %uk = fadd double %u, %keep
  %kept = fcmp oge double %uk, 1.0
  %val = select i1 %kept, float %scale, float 0.0
  %mp = getelementptr inbounds float, float* %mask, i32 %i
  store float %val, float* %mp, align 4
  %i.next = add nuw nsw i32 %i, 1
  %done = icmp eq i32 %i.next, %n
  br i1 %done, label %exit, label %loop
exit:
  %final = phi i32 [%state, %entry], [%a, %loop]
  ret i32 %final
}

; Conv2DBackpropFilter summed directly, for few input channels (a first conv layer):
;   dw[i, j, c, o] += x[b, y·sh + i − pt, xo·sw + j − pl, c] · dy[b, y, xo, o]
; over every output pixel, the inner loop over o vectorised, dw ([kh, kw, ci, co], zeroed by the
; caller) staying in L1. Through XNNPACK this is a matrix product whose packed operand is all of
; dy (n·oh·ow·co floats) for only kh·kw·ci·co outputs, 4x slower on the cnn's first layer.
define void @conv_filter_grad(float* noalias nocapture readonly %x,
                              float* noalias nocapture readonly %dy,
                              float* noalias nocapture %dw,
                              i32 %n, i32 %h, i32 %w, i32 %ci, i32 %oh, i32 %ow, i32 %co,
                              i32 %kh, i32 %kw, i32 %sh, i32 %sw, i32 %pt, i32 %pl) {
entry:
  %rows = mul i32 %n, %oh
  %ok0 = icmp sgt i32 %rows, 0
  %ok1 = icmp sgt i32 %ow, 0
  %ok2 = icmp sgt i32 %co, 0
  %ok3 = icmp sgt i32 %kh, 0
  %ok4 = icmp sgt i32 %kw, 0
  %ok5 = icmp sgt i32 %ci, 0
  %a1 = and i1 %ok0, %ok1
  %a2 = and i1 %a1, %ok2
  %a3 = and i1 %a2, %ok3
  %a4 = and i1 %a3, %ok4
  %a5 = and i1 %a4, %ok5
  br i1 %a5, label %row, label %exit

row:                                   ; r = b·oh + y
  %r = phi i32 [0, %entry], [%r.next, %row.end]
  %b = sdiv i32 %r, %oh
  %y = srem i32 %r, %oh
  %ys = mul i32 %y, %sh
  %y0 = sub i32 %ys, %pt
  %bh = mul i32 %b, %h
  %p0 = mul i32 %r, %ow
  br label %col

col:
  %xo = phi i32 [0, %row], [%xo.next, %col.end]
  %p = add i32 %p0, %xo
  %dyoff = mul i32 %p, %co
  %xs = mul i32 %xo, %sw
  %x0 = sub i32 %xs, %pl
  br label %ki

ki:
  %i = phi i32 [0, %col], [%i.next, %ki.end]
  %yy = add i32 %y0, %i
  %yin1 = icmp sge i32 %yy, 0
  %yin2 = icmp slt i32 %yy, %h
  %yin = and i1 %yin1, %yin2
  br i1 %yin, label %kj.pre, label %ki.end

kj.pre:
  %rowi = add i32 %bh, %yy
  %rowoff = mul i32 %rowi, %w
  %ikw = mul i32 %i, %kw
  br label %kj

kj:
  %j = phi i32 [0, %kj.pre], [%j.next, %kj.end]
  %xx = add i32 %x0, %j
  %xin1 = icmp sge i32 %xx, 0
  %xin2 = icmp slt i32 %xx, %w
  %xin = and i1 %xin1, %xin2
  br i1 %xin, label %kc.pre, label %kj.end

kc.pre:
  %pix = add i32 %rowoff, %xx
  %xoff = mul i32 %pix, %ci
  %k = add i32 %ikw, %j
  %kci = mul i32 %k, %ci
  br label %kc

kc:
  %cc = phi i32 [0, %kc.pre], [%cc.next, %kc.end]
  %xi = add i32 %xoff, %cc
  %xp = getelementptr inbounds float, float* %x, i32 %xi
  %v = load float, float* %xp, align 4
  %wrow = add i32 %kci, %cc
  %accoff = mul i32 %wrow, %co
  br label %cl

cl:
  %o = phi i32 [0, %kc], [%o.next, %cl]
  %di = add i32 %dyoff, %o
  %dp = getelementptr inbounds float, float* %dy, i32 %di
  %dv = load float, float* %dp, align 4
  %ai = add i32 %accoff, %o
  %ap = getelementptr inbounds float, float* %dw, i32 %ai
  %av = load float, float* %ap, align 4
  %prod = fmul float %v, %dv
  %sum = fadd float %av, %prod
  store float %sum, float* %ap, align 4
  %o.next = add nuw nsw i32 %o, 1
  %odone = icmp eq i32 %o.next, %co
  br i1 %odone, label %kc.end, label %cl

kc.end:
  %cc.next = add nuw nsw i32 %cc, 1
  %ccdone = icmp eq i32 %cc.next, %ci
  br i1 %ccdone, label %kj.end, label %kc

kj.end:
  %j.next = add nuw nsw i32 %j, 1
  %jdone = icmp eq i32 %j.next, %kw
  br i1 %jdone, label %ki.end, label %kj

ki.end:
  %i.next = add nuw nsw i32 %i, 1
  %idone = icmp eq i32 %i.next, %kh
  br i1 %idone, label %col.end, label %ki

col.end:
  %xo.next = add nuw nsw i32 %xo, 1
  %xdone = icmp eq i32 %xo.next, %ow
  br i1 %xdone, label %row.end, label %col

row.end:
  %r.next = add nuw nsw i32 %r, 1
  %rdone = icmp eq i32 %r.next, %rows
  br i1 %rdone, label %exit, label %row

exit:
  ret void
}

; MaxPoolGrad for disjoint windows that lie inside the input (stride ≥ window, no padding),
; with the pooled output at hand: each dy value goes to the first element of its window (row
; major) equal to the window's maximum, channels vectorised, `found` (c floats of scratch)
; marking the channels already routed. dx must be zeroed. Returns 1 when some window needs the
; exact search instead (an element above the pooled maximum, none equal to it, or a maximum of
; −∞, which routes nothing); the caller then recomputes everything the exact way.
define i32 @max_pool_grad_disjoint(float* noalias nocapture readonly %x,
                                   float* noalias nocapture readonly %pooled,
                                   float* noalias nocapture readonly %dy,
                                   float* noalias nocapture %dx,
                                   float* noalias nocapture %found,
                                   i32 %n, i32 %h, i32 %w, i32 %c, i32 %oh, i32 %ow,
                                   i32 %fh, i32 %fw, i32 %sh, i32 %sw) {
entry:
  %rows = mul i32 %n, %oh
  %ok0 = icmp sgt i32 %rows, 0
  %ok1 = icmp sgt i32 %ow, 0
  %ok2 = icmp sgt i32 %c, 0
  %ok3 = icmp sgt i32 %fh, 0
  %ok4 = icmp sgt i32 %fw, 0
  %a1 = and i1 %ok0, %ok1
  %a2 = and i1 %a1, %ok2
  %a3 = and i1 %a2, %ok3
  %a4 = and i1 %a3, %ok4
  br i1 %a4, label %row, label %exit

row:
  %r = phi i32 [0, %entry], [%r.next, %row.end]
  %bad.r = phi i32 [0, %entry], [%bad.q.out, %row.end]
  %b = sdiv i32 %r, %oh
  %y = srem i32 %r, %oh
  %bh = mul i32 %b, %h
  %ys = mul i32 %y, %sh
  %iy = add i32 %bh, %ys
  %rowbase = mul i32 %iy, %w
  %g0r = mul i32 %r, %ow
  br label %win

win:
  %q = phi i32 [0, %row], [%q.next, %win.end]
  %bad.q = phi i32 [%bad.r, %row], [%bad.chk.out, %win.end]
  %qs = mul i32 %q, %sw
  %pix = add i32 %rowbase, %qs
  %base = mul i32 %pix, %c
  %g0q = add i32 %g0r, %q
  %g0 = mul i32 %g0q, %c
  br label %reset

reset:
  %k0 = phi i32 [0, %win], [%k0.next, %reset]
  %fp0 = getelementptr inbounds float, float* %found, i32 %k0
  store float 0.0, float* %fp0, align 4
  %k0.next = add nuw nsw i32 %k0, 1
  %k0done = icmp eq i32 %k0.next, %c
  br i1 %k0done, label %ti, label %reset

ti:
  %i = phi i32 [0, %reset], [%i.next, %ti.end]
  %bad.i = phi i32 [%bad.q, %reset], [%bad.j.out, %ti.end]
  %iw = mul i32 %i, %w
  br label %tj

tj:
  %j = phi i32 [0, %ti], [%j.next, %tj.end]
  %bad.j = phi i32 [%bad.i, %ti], [%bad.k.out, %tj.end]
  %tap = add i32 %iw, %j
  %tapc = mul i32 %tap, %c
  %off = add i32 %base, %tapc
  br label %tk

tk:
  %k = phi i32 [0, %tj], [%k.next, %tk]
  %bad.k = phi i32 [%bad.j, %tj], [%bad.k.next, %tk]
  %gi = add i32 %g0, %k
  %mp = getelementptr inbounds float, float* %pooled, i32 %gi
  %m = load float, float* %mp, align 4
  %gp = getelementptr inbounds float, float* %dy, i32 %gi
  %gv = load float, float* %gp, align 4
  %xi = add i32 %off, %k
  %xp = getelementptr inbounds float, float* %x, i32 %xi
  %v = load float, float* %xp, align 4
  %fp = getelementptr inbounds float, float* %found, i32 %k
  %f = load float, float* %fp, align 4
  %eq = fcmp oeq float %v, %m
  %fresh = fcmp oeq float %f, 0.0
  %take = and i1 %eq, %fresh
  %out = select i1 %take, float %gv, float 0.0
  %dp = getelementptr inbounds float, float* %dx, i32 %xi
  store float %out, float* %dp, align 4
  %f.next = select i1 %eq, float 1.0, float %f
  store float %f.next, float* %fp, align 4
  %gt = fcmp ogt float %v, %m
  %gtz = zext i1 %gt to i32
  %bad.k.next = or i32 %bad.k, %gtz
  %k.next = add nuw nsw i32 %k, 1
  %kdone = icmp eq i32 %k.next, %c
  br i1 %kdone, label %tj.end, label %tk

tj.end:
  %bad.k.out = phi i32 [%bad.k.next, %tk]
  %j.next = add nuw nsw i32 %j, 1
  %jdone = icmp eq i32 %j.next, %fw
  br i1 %jdone, label %ti.end, label %tj

ti.end:
  %bad.j.out = phi i32 [%bad.k.out, %tj.end]
  %i.next = add nuw nsw i32 %i, 1
  %idone = icmp eq i32 %i.next, %fh
  br i1 %idone, label %check, label %ti

check:
  %kc = phi i32 [0, %ti.end], [%kc.next, %check]
  %bad.c = phi i32 [%bad.j.out, %ti.end], [%bad.c.next, %check]
  %fpc = getelementptr inbounds float, float* %found, i32 %kc
  %fc = load float, float* %fpc, align 4
  %none = fcmp oeq float %fc, 0.0
  %gic = add i32 %g0, %kc
  %mpc = getelementptr inbounds float, float* %pooled, i32 %gic
  %mc = load float, float* %mpc, align 4
  %ninf = fcmp oeq float %mc, 0xFFF0000000000000
  %either = or i1 %none, %ninf
  %ez = zext i1 %either to i32
  %bad.c.next = or i32 %bad.c, %ez
  %kc.next = add nuw nsw i32 %kc, 1
  %kcdone = icmp eq i32 %kc.next, %c
  br i1 %kcdone, label %win.end, label %check

win.end:
  %bad.chk.out = phi i32 [%bad.c.next, %check]
  %q.next = add nuw nsw i32 %q, 1
  %qdone = icmp eq i32 %q.next, %ow
  br i1 %qdone, label %row.end, label %win

row.end:
  %bad.q.out = phi i32 [%bad.chk.out, %win.end]
  %r.next = add nuw nsw i32 %r, 1
  %rdone = icmp eq i32 %r.next, %rows
  br i1 %rdone, label %exit, label %row

exit:
  %bad = phi i32 [0, %entry], [%bad.q.out, %row.end]
  ret i32 %bad
}

; Conv2DBackpropFilter's transposed im2col for stride 1 and no padding ('valid'):
;   dst[(i·kw + j)·ci + c, (b − b0)·oh·ow + y·ow + xo] = src[c, b, y + i, xo + j]
; from x transposed to [ci, n, h, w], for images b0 ≤ b < b1. Each output row segment is a run
; of one input row. "no-builtins" keeps opt from turning those short runs into memory.copy calls,
; which cost more than the copy itself at 11 floats.
define void @gather_cols_t(float* noalias nocapture readonly %src, float* noalias nocapture %dst,
                           i32 %n, i32 %h, i32 %w, i32 %ci, i32 %oh, i32 %ow,
                           i32 %kh, i32 %kw, i32 %b0, i32 %b1) #0 {
entry:
  %taps = mul i32 %kh, %kw
  %nb = sub i32 %b1, %b0
  %img = mul i32 %oh, %ow
  %pc = mul i32 %nb, %img
  %hw = mul i32 %h, %w
  %ok0 = icmp sgt i32 %taps, 0
  %ok1 = icmp sgt i32 %ci, 0
  %ok2 = icmp sgt i32 %nb, 0
  %ok3 = icmp sgt i32 %oh, 0
  %ok4 = icmp sgt i32 %ow, 0
  %a1 = and i1 %ok0, %ok1
  %a2 = and i1 %a1, %ok2
  %a3 = and i1 %a2, %ok3
  %a4 = and i1 %a3, %ok4
  br i1 %a4, label %tap, label %exit

tap:
  %t = phi i32 [0, %entry], [%t.next, %tap.end]
  %i = sdiv i32 %t, %kw
  %j = srem i32 %t, %kw
  %tci = mul i32 %t, %ci
  br label %chan

chan:
  %c = phi i32 [0, %tap], [%c.next, %chan.end]
  %trow = add i32 %tci, %c
  %d0 = mul i32 %trow, %pc
  %cn = mul i32 %c, %n
  br label %image

image:
  %b = phi i32 [%b0, %chan], [%b.next, %image.end]
  %plane.i = add i32 %cn, %b
  %plane = mul i32 %plane.i, %hw
  %bl = sub i32 %b, %b0
  %blimg = mul i32 %bl, %img
  %dbase = add i32 %d0, %blimg
  br label %yrow

yrow:
  %y = phi i32 [0, %image], [%y.next, %yrow.end]
  %yi = add i32 %y, %i
  %yiw = mul i32 %yi, %w
  %s1 = add i32 %plane, %yiw
  %srow = add i32 %s1, %j
  %yow = mul i32 %y, %ow
  %drow = add i32 %dbase, %yow
  br label %xcol

xcol:
  %xo = phi i32 [0, %yrow], [%xo.next, %xcol]
  %si = add i32 %srow, %xo
  %sp = getelementptr inbounds float, float* %src, i32 %si
  %v = load float, float* %sp, align 4
  %di = add i32 %drow, %xo
  %dp = getelementptr inbounds float, float* %dst, i32 %di
  store float %v, float* %dp, align 4
  %xo.next = add nuw nsw i32 %xo, 1
  %xdone = icmp eq i32 %xo.next, %ow
  br i1 %xdone, label %yrow.end, label %xcol

yrow.end:
  %y.next = add nuw nsw i32 %y, 1
  %ydone = icmp eq i32 %y.next, %oh
  br i1 %ydone, label %image.end, label %yrow

image.end:
  %b.next = add nsw i32 %b, 1
  %bdone = icmp eq i32 %b.next, %b1
  br i1 %bdone, label %chan.end, label %image

chan.end:
  %c.next = add nuw nsw i32 %c, 1
  %cdone = icmp eq i32 %c.next, %ci
  br i1 %cdone, label %tap.end, label %chan

tap.end:
  %t.next = add nuw nsw i32 %t, 1
  %tdone = icmp eq i32 %t.next, %taps
  br i1 %tdone, label %exit, label %tap

exit:
  ret void
}

; Winograd F(2×2, 3×3) transforms for a stride-1 3×3 convolution (wasm-kernels/winograd.ts),
; tiles t0 ≤ t < t1 of the n·th·tw output tiles (2×2 outputs each, tile t = (b·th + ty)·tw + tx).
; winograd_input: V[k][t − t0][c] = (Bᵀ d B)[k] for the 4×4 input patch d at rows 2·ty − pt + 0..3,
; columns 2·tx − pl + 0..3 of image b, k = 4·row + col, the 16 matrices `stride` rows apart, with
;   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1].
; Pixels outside the image read `zero` (c zeros) instead, so the channel loop has no branches.
; winograd_output: y[b, 2·ty + i, 2·tx + j, o] = (Aᵀ M A)[i][j] with Aᵀ = [1 1 1 0; 0 1 −1 −1],
; from M[k][t − t0][o] laid out like V; outputs past the bottom/right edge (odd oh or ow) go to
; `dump` (co floats of scratch). Channels are explicit f32x4 vectors with a scalar tail: the loop
; vectoriser would not vectorise 16 stores at an unknown stride apart without runtime checks.
; Generated from a template (the 16 loads, the transforms and the stores unrolled), kept here as
; the source of truth.
define void @winograd_input(float* noalias nocapture readonly %x,
                            float* noalias nocapture readonly %zero,
                            float* noalias nocapture %v,
                            i32 %h, i32 %w, i32 %c, i32 %th, i32 %tw, i32 %pt, i32 %pl,
                            i32 %t0, i32 %t1, i32 %stride) {
entry:
  %per = mul i32 %th, %tw
  %ok0 = icmp slt i32 %t0, %t1
  %ok1 = icmp sgt i32 %c, 0
  %ok = and i1 %ok0, %ok1
  br i1 %ok, label %tile, label %exit
tile:
  %t = phi i32 [%t0, %entry], [%t.next, %tile.end]
  %tl = sub i32 %t, %t0
  %b = sdiv i32 %t, %per
  %rr = srem i32 %t, %per
  %ty = sdiv i32 %rr, %tw
  %tx = srem i32 %rr, %tw
  %ty2 = shl i32 %ty, 1
  %tx2 = shl i32 %tx, 1
  %y0 = sub i32 %ty2, %pt
  %x0 = sub i32 %tx2, %pl
  %bh = mul i32 %b, %h
  %yy0 = add i32 %y0, 0
  %yin0a = icmp sge i32 %yy0, 0
  %yin0b = icmp slt i32 %yy0, %h
  %yin0 = and i1 %yin0a, %yin0b
  %row0a = add i32 %bh, %yy0
  %row0 = mul i32 %row0a, %w
  %yy1 = add i32 %y0, 1
  %yin1a = icmp sge i32 %yy1, 0
  %yin1b = icmp slt i32 %yy1, %h
  %yin1 = and i1 %yin1a, %yin1b
  %row1a = add i32 %bh, %yy1
  %row1 = mul i32 %row1a, %w
  %yy2 = add i32 %y0, 2
  %yin2a = icmp sge i32 %yy2, 0
  %yin2b = icmp slt i32 %yy2, %h
  %yin2 = and i1 %yin2a, %yin2b
  %row2a = add i32 %bh, %yy2
  %row2 = mul i32 %row2a, %w
  %yy3 = add i32 %y0, 3
  %yin3a = icmp sge i32 %yy3, 0
  %yin3b = icmp slt i32 %yy3, %h
  %yin3 = and i1 %yin3a, %yin3b
  %row3a = add i32 %bh, %yy3
  %row3 = mul i32 %row3a, %w
  %xx0 = add i32 %x0, 0
  %xin0a = icmp sge i32 %xx0, 0
  %xin0b = icmp slt i32 %xx0, %w
  %xin0 = and i1 %xin0a, %xin0b
  %xx1 = add i32 %x0, 1
  %xin1a = icmp sge i32 %xx1, 0
  %xin1b = icmp slt i32 %xx1, %w
  %xin1 = and i1 %xin1a, %xin1b
  %xx2 = add i32 %x0, 2
  %xin2a = icmp sge i32 %xx2, 0
  %xin2b = icmp slt i32 %xx2, %w
  %xin2 = and i1 %xin2a, %xin2b
  %xx3 = add i32 %x0, 3
  %xin3a = icmp sge i32 %xx3, 0
  %xin3b = icmp slt i32 %xx3, %w
  %xin3 = and i1 %xin3a, %xin3b
  %in00 = and i1 %yin0, %xin0
  %pix00 = add i32 %row0, %xx0
  %off00 = mul i32 %pix00, %c
  %px00 = getelementptr float, float* %x, i32 %off00
  %p00 = select i1 %in00, float* %px00, float* %zero
  %in01 = and i1 %yin0, %xin1
  %pix01 = add i32 %row0, %xx1
  %off01 = mul i32 %pix01, %c
  %px01 = getelementptr float, float* %x, i32 %off01
  %p01 = select i1 %in01, float* %px01, float* %zero
  %in02 = and i1 %yin0, %xin2
  %pix02 = add i32 %row0, %xx2
  %off02 = mul i32 %pix02, %c
  %px02 = getelementptr float, float* %x, i32 %off02
  %p02 = select i1 %in02, float* %px02, float* %zero
  %in03 = and i1 %yin0, %xin3
  %pix03 = add i32 %row0, %xx3
  %off03 = mul i32 %pix03, %c
  %px03 = getelementptr float, float* %x, i32 %off03
  %p03 = select i1 %in03, float* %px03, float* %zero
  %in10 = and i1 %yin1, %xin0
  %pix10 = add i32 %row1, %xx0
  %off10 = mul i32 %pix10, %c
  %px10 = getelementptr float, float* %x, i32 %off10
  %p10 = select i1 %in10, float* %px10, float* %zero
  %in11 = and i1 %yin1, %xin1
  %pix11 = add i32 %row1, %xx1
  %off11 = mul i32 %pix11, %c
  %px11 = getelementptr float, float* %x, i32 %off11
  %p11 = select i1 %in11, float* %px11, float* %zero
  %in12 = and i1 %yin1, %xin2
  %pix12 = add i32 %row1, %xx2
  %off12 = mul i32 %pix12, %c
  %px12 = getelementptr float, float* %x, i32 %off12
  %p12 = select i1 %in12, float* %px12, float* %zero
  %in13 = and i1 %yin1, %xin3
  %pix13 = add i32 %row1, %xx3
  %off13 = mul i32 %pix13, %c
  %px13 = getelementptr float, float* %x, i32 %off13
  %p13 = select i1 %in13, float* %px13, float* %zero
  %in20 = and i1 %yin2, %xin0
  %pix20 = add i32 %row2, %xx0
  %off20 = mul i32 %pix20, %c
  %px20 = getelementptr float, float* %x, i32 %off20
  %p20 = select i1 %in20, float* %px20, float* %zero
  %in21 = and i1 %yin2, %xin1
  %pix21 = add i32 %row2, %xx1
  %off21 = mul i32 %pix21, %c
  %px21 = getelementptr float, float* %x, i32 %off21
  %p21 = select i1 %in21, float* %px21, float* %zero
  %in22 = and i1 %yin2, %xin2
  %pix22 = add i32 %row2, %xx2
  %off22 = mul i32 %pix22, %c
  %px22 = getelementptr float, float* %x, i32 %off22
  %p22 = select i1 %in22, float* %px22, float* %zero
  %in23 = and i1 %yin2, %xin3
  %pix23 = add i32 %row2, %xx3
  %off23 = mul i32 %pix23, %c
  %px23 = getelementptr float, float* %x, i32 %off23
  %p23 = select i1 %in23, float* %px23, float* %zero
  %in30 = and i1 %yin3, %xin0
  %pix30 = add i32 %row3, %xx0
  %off30 = mul i32 %pix30, %c
  %px30 = getelementptr float, float* %x, i32 %off30
  %p30 = select i1 %in30, float* %px30, float* %zero
  %in31 = and i1 %yin3, %xin1
  %pix31 = add i32 %row3, %xx1
  %off31 = mul i32 %pix31, %c
  %px31 = getelementptr float, float* %x, i32 %off31
  %p31 = select i1 %in31, float* %px31, float* %zero
  %in32 = and i1 %yin3, %xin2
  %pix32 = add i32 %row3, %xx2
  %off32 = mul i32 %pix32, %c
  %px32 = getelementptr float, float* %x, i32 %off32
  %p32 = select i1 %in32, float* %px32, float* %zero
  %in33 = and i1 %yin3, %xin3
  %pix33 = add i32 %row3, %xx3
  %off33 = mul i32 %pix33, %c
  %px33 = getelementptr float, float* %x, i32 %off33
  %p33 = select i1 %in33, float* %px33, float* %zero
  %kstride = mul i32 %stride, %c
  %lc = mul i32 %tl, %c
  %o0 = getelementptr inbounds float, float* %v, i32 %lc
  %o1 = getelementptr inbounds float, float* %o0, i32 %kstride
  %o2 = getelementptr inbounds float, float* %o1, i32 %kstride
  %o3 = getelementptr inbounds float, float* %o2, i32 %kstride
  %o4 = getelementptr inbounds float, float* %o3, i32 %kstride
  %o5 = getelementptr inbounds float, float* %o4, i32 %kstride
  %o6 = getelementptr inbounds float, float* %o5, i32 %kstride
  %o7 = getelementptr inbounds float, float* %o6, i32 %kstride
  %o8 = getelementptr inbounds float, float* %o7, i32 %kstride
  %o9 = getelementptr inbounds float, float* %o8, i32 %kstride
  %o10 = getelementptr inbounds float, float* %o9, i32 %kstride
  %o11 = getelementptr inbounds float, float* %o10, i32 %kstride
  %o12 = getelementptr inbounds float, float* %o11, i32 %kstride
  %o13 = getelementptr inbounds float, float* %o12, i32 %kstride
  %o14 = getelementptr inbounds float, float* %o13, i32 %kstride
  %o15 = getelementptr inbounds float, float* %o14, i32 %kstride
  br label %tile.body
tile.body:
  %c4 = and i32 %c, -4
  %hasvec = icmp sgt i32 %c4, 0
  br i1 %hasvec, label %vec, label %vec.end
vec:
  %cv = phi i32 [0, %tile.body], [%cv.next, %vec]
  %a00.v = getelementptr inbounds float, float* %p00, i32 %cv
  %b00.v = bitcast float* %a00.v to <4 x float>*
  %d00.v = load <4 x float>, <4 x float>* %b00.v, align 4
  %a01.v = getelementptr inbounds float, float* %p01, i32 %cv
  %b01.v = bitcast float* %a01.v to <4 x float>*
  %d01.v = load <4 x float>, <4 x float>* %b01.v, align 4
  %a02.v = getelementptr inbounds float, float* %p02, i32 %cv
  %b02.v = bitcast float* %a02.v to <4 x float>*
  %d02.v = load <4 x float>, <4 x float>* %b02.v, align 4
  %a03.v = getelementptr inbounds float, float* %p03, i32 %cv
  %b03.v = bitcast float* %a03.v to <4 x float>*
  %d03.v = load <4 x float>, <4 x float>* %b03.v, align 4
  %a10.v = getelementptr inbounds float, float* %p10, i32 %cv
  %b10.v = bitcast float* %a10.v to <4 x float>*
  %d10.v = load <4 x float>, <4 x float>* %b10.v, align 4
  %a11.v = getelementptr inbounds float, float* %p11, i32 %cv
  %b11.v = bitcast float* %a11.v to <4 x float>*
  %d11.v = load <4 x float>, <4 x float>* %b11.v, align 4
  %a12.v = getelementptr inbounds float, float* %p12, i32 %cv
  %b12.v = bitcast float* %a12.v to <4 x float>*
  %d12.v = load <4 x float>, <4 x float>* %b12.v, align 4
  %a13.v = getelementptr inbounds float, float* %p13, i32 %cv
  %b13.v = bitcast float* %a13.v to <4 x float>*
  %d13.v = load <4 x float>, <4 x float>* %b13.v, align 4
  %a20.v = getelementptr inbounds float, float* %p20, i32 %cv
  %b20.v = bitcast float* %a20.v to <4 x float>*
  %d20.v = load <4 x float>, <4 x float>* %b20.v, align 4
  %a21.v = getelementptr inbounds float, float* %p21, i32 %cv
  %b21.v = bitcast float* %a21.v to <4 x float>*
  %d21.v = load <4 x float>, <4 x float>* %b21.v, align 4
  %a22.v = getelementptr inbounds float, float* %p22, i32 %cv
  %b22.v = bitcast float* %a22.v to <4 x float>*
  %d22.v = load <4 x float>, <4 x float>* %b22.v, align 4
  %a23.v = getelementptr inbounds float, float* %p23, i32 %cv
  %b23.v = bitcast float* %a23.v to <4 x float>*
  %d23.v = load <4 x float>, <4 x float>* %b23.v, align 4
  %a30.v = getelementptr inbounds float, float* %p30, i32 %cv
  %b30.v = bitcast float* %a30.v to <4 x float>*
  %d30.v = load <4 x float>, <4 x float>* %b30.v, align 4
  %a31.v = getelementptr inbounds float, float* %p31, i32 %cv
  %b31.v = bitcast float* %a31.v to <4 x float>*
  %d31.v = load <4 x float>, <4 x float>* %b31.v, align 4
  %a32.v = getelementptr inbounds float, float* %p32, i32 %cv
  %b32.v = bitcast float* %a32.v to <4 x float>*
  %d32.v = load <4 x float>, <4 x float>* %b32.v, align 4
  %a33.v = getelementptr inbounds float, float* %p33, i32 %cv
  %b33.v = bitcast float* %a33.v to <4 x float>*
  %d33.v = load <4 x float>, <4 x float>* %b33.v, align 4
  %u00.v = fsub <4 x float> %d00.v, %d20.v
  %u10.v = fadd <4 x float> %d10.v, %d20.v
  %u20.v = fsub <4 x float> %d20.v, %d10.v
  %u30.v = fsub <4 x float> %d10.v, %d30.v
  %u01.v = fsub <4 x float> %d01.v, %d21.v
  %u11.v = fadd <4 x float> %d11.v, %d21.v
  %u21.v = fsub <4 x float> %d21.v, %d11.v
  %u31.v = fsub <4 x float> %d11.v, %d31.v
  %u02.v = fsub <4 x float> %d02.v, %d22.v
  %u12.v = fadd <4 x float> %d12.v, %d22.v
  %u22.v = fsub <4 x float> %d22.v, %d12.v
  %u32.v = fsub <4 x float> %d12.v, %d32.v
  %u03.v = fsub <4 x float> %d03.v, %d23.v
  %u13.v = fadd <4 x float> %d13.v, %d23.v
  %u23.v = fsub <4 x float> %d23.v, %d13.v
  %u33.v = fsub <4 x float> %d13.v, %d33.v
  %v00.v = fsub <4 x float> %u00.v, %u02.v
  %v01.v = fadd <4 x float> %u01.v, %u02.v
  %v02.v = fsub <4 x float> %u02.v, %u01.v
  %v03.v = fsub <4 x float> %u01.v, %u03.v
  %v10.v = fsub <4 x float> %u10.v, %u12.v
  %v11.v = fadd <4 x float> %u11.v, %u12.v
  %v12.v = fsub <4 x float> %u12.v, %u11.v
  %v13.v = fsub <4 x float> %u11.v, %u13.v
  %v20.v = fsub <4 x float> %u20.v, %u22.v
  %v21.v = fadd <4 x float> %u21.v, %u22.v
  %v22.v = fsub <4 x float> %u22.v, %u21.v
  %v23.v = fsub <4 x float> %u21.v, %u23.v
  %v30.v = fsub <4 x float> %u30.v, %u32.v
  %v31.v = fadd <4 x float> %u31.v, %u32.v
  %v32.v = fsub <4 x float> %u32.v, %u31.v
  %v33.v = fsub <4 x float> %u31.v, %u33.v
  %s0.v = getelementptr inbounds float, float* %o0, i32 %cv
  %sb0.v = bitcast float* %s0.v to <4 x float>*
  store <4 x float> %v00.v, <4 x float>* %sb0.v, align 4
  %s1.v = getelementptr inbounds float, float* %o1, i32 %cv
  %sb1.v = bitcast float* %s1.v to <4 x float>*
  store <4 x float> %v01.v, <4 x float>* %sb1.v, align 4
  %s2.v = getelementptr inbounds float, float* %o2, i32 %cv
  %sb2.v = bitcast float* %s2.v to <4 x float>*
  store <4 x float> %v02.v, <4 x float>* %sb2.v, align 4
  %s3.v = getelementptr inbounds float, float* %o3, i32 %cv
  %sb3.v = bitcast float* %s3.v to <4 x float>*
  store <4 x float> %v03.v, <4 x float>* %sb3.v, align 4
  %s4.v = getelementptr inbounds float, float* %o4, i32 %cv
  %sb4.v = bitcast float* %s4.v to <4 x float>*
  store <4 x float> %v10.v, <4 x float>* %sb4.v, align 4
  %s5.v = getelementptr inbounds float, float* %o5, i32 %cv
  %sb5.v = bitcast float* %s5.v to <4 x float>*
  store <4 x float> %v11.v, <4 x float>* %sb5.v, align 4
  %s6.v = getelementptr inbounds float, float* %o6, i32 %cv
  %sb6.v = bitcast float* %s6.v to <4 x float>*
  store <4 x float> %v12.v, <4 x float>* %sb6.v, align 4
  %s7.v = getelementptr inbounds float, float* %o7, i32 %cv
  %sb7.v = bitcast float* %s7.v to <4 x float>*
  store <4 x float> %v13.v, <4 x float>* %sb7.v, align 4
  %s8.v = getelementptr inbounds float, float* %o8, i32 %cv
  %sb8.v = bitcast float* %s8.v to <4 x float>*
  store <4 x float> %v20.v, <4 x float>* %sb8.v, align 4
  %s9.v = getelementptr inbounds float, float* %o9, i32 %cv
  %sb9.v = bitcast float* %s9.v to <4 x float>*
  store <4 x float> %v21.v, <4 x float>* %sb9.v, align 4
  %s10.v = getelementptr inbounds float, float* %o10, i32 %cv
  %sb10.v = bitcast float* %s10.v to <4 x float>*
  store <4 x float> %v22.v, <4 x float>* %sb10.v, align 4
  %s11.v = getelementptr inbounds float, float* %o11, i32 %cv
  %sb11.v = bitcast float* %s11.v to <4 x float>*
  store <4 x float> %v23.v, <4 x float>* %sb11.v, align 4
  %s12.v = getelementptr inbounds float, float* %o12, i32 %cv
  %sb12.v = bitcast float* %s12.v to <4 x float>*
  store <4 x float> %v30.v, <4 x float>* %sb12.v, align 4
  %s13.v = getelementptr inbounds float, float* %o13, i32 %cv
  %sb13.v = bitcast float* %s13.v to <4 x float>*
  store <4 x float> %v31.v, <4 x float>* %sb13.v, align 4
  %s14.v = getelementptr inbounds float, float* %o14, i32 %cv
  %sb14.v = bitcast float* %s14.v to <4 x float>*
  store <4 x float> %v32.v, <4 x float>* %sb14.v, align 4
  %s15.v = getelementptr inbounds float, float* %o15, i32 %cv
  %sb15.v = bitcast float* %s15.v to <4 x float>*
  store <4 x float> %v33.v, <4 x float>* %sb15.v, align 4
  %cv.next = add nuw nsw i32 %cv, 4
  %vdone = icmp eq i32 %cv.next, %c4
  br i1 %vdone, label %vec.end, label %vec
vec.end:
  %rest = icmp slt i32 %c4, %c
  br i1 %rest, label %sc, label %tile.end
sc:
  %cs = phi i32 [%c4, %vec.end], [%cs.next, %sc]
  %a00.s = getelementptr inbounds float, float* %p00, i32 %cs
  %d00.s = load float, float* %a00.s, align 4
  %a01.s = getelementptr inbounds float, float* %p01, i32 %cs
  %d01.s = load float, float* %a01.s, align 4
  %a02.s = getelementptr inbounds float, float* %p02, i32 %cs
  %d02.s = load float, float* %a02.s, align 4
  %a03.s = getelementptr inbounds float, float* %p03, i32 %cs
  %d03.s = load float, float* %a03.s, align 4
  %a10.s = getelementptr inbounds float, float* %p10, i32 %cs
  %d10.s = load float, float* %a10.s, align 4
  %a11.s = getelementptr inbounds float, float* %p11, i32 %cs
  %d11.s = load float, float* %a11.s, align 4
  %a12.s = getelementptr inbounds float, float* %p12, i32 %cs
  %d12.s = load float, float* %a12.s, align 4
  %a13.s = getelementptr inbounds float, float* %p13, i32 %cs
  %d13.s = load float, float* %a13.s, align 4
  %a20.s = getelementptr inbounds float, float* %p20, i32 %cs
  %d20.s = load float, float* %a20.s, align 4
  %a21.s = getelementptr inbounds float, float* %p21, i32 %cs
  %d21.s = load float, float* %a21.s, align 4
  %a22.s = getelementptr inbounds float, float* %p22, i32 %cs
  %d22.s = load float, float* %a22.s, align 4
  %a23.s = getelementptr inbounds float, float* %p23, i32 %cs
  %d23.s = load float, float* %a23.s, align 4
  %a30.s = getelementptr inbounds float, float* %p30, i32 %cs
  %d30.s = load float, float* %a30.s, align 4
  %a31.s = getelementptr inbounds float, float* %p31, i32 %cs
  %d31.s = load float, float* %a31.s, align 4
  %a32.s = getelementptr inbounds float, float* %p32, i32 %cs
  %d32.s = load float, float* %a32.s, align 4
  %a33.s = getelementptr inbounds float, float* %p33, i32 %cs
  %d33.s = load float, float* %a33.s, align 4
  %u00.s = fsub float %d00.s, %d20.s
  %u10.s = fadd float %d10.s, %d20.s
  %u20.s = fsub float %d20.s, %d10.s
  %u30.s = fsub float %d10.s, %d30.s
  %u01.s = fsub float %d01.s, %d21.s
  %u11.s = fadd float %d11.s, %d21.s
  %u21.s = fsub float %d21.s, %d11.s
  %u31.s = fsub float %d11.s, %d31.s
  %u02.s = fsub float %d02.s, %d22.s
  %u12.s = fadd float %d12.s, %d22.s
  %u22.s = fsub float %d22.s, %d12.s
  %u32.s = fsub float %d12.s, %d32.s
  %u03.s = fsub float %d03.s, %d23.s
  %u13.s = fadd float %d13.s, %d23.s
  %u23.s = fsub float %d23.s, %d13.s
  %u33.s = fsub float %d13.s, %d33.s
  %v00.s = fsub float %u00.s, %u02.s
  %v01.s = fadd float %u01.s, %u02.s
  %v02.s = fsub float %u02.s, %u01.s
  %v03.s = fsub float %u01.s, %u03.s
  %v10.s = fsub float %u10.s, %u12.s
  %v11.s = fadd float %u11.s, %u12.s
  %v12.s = fsub float %u12.s, %u11.s
  %v13.s = fsub float %u11.s, %u13.s
  %v20.s = fsub float %u20.s, %u22.s
  %v21.s = fadd float %u21.s, %u22.s
  %v22.s = fsub float %u22.s, %u21.s
  %v23.s = fsub float %u21.s, %u23.s
  %v30.s = fsub float %u30.s, %u32.s
  %v31.s = fadd float %u31.s, %u32.s
  %v32.s = fsub float %u32.s, %u31.s
  %v33.s = fsub float %u31.s, %u33.s
  %s0.s = getelementptr inbounds float, float* %o0, i32 %cs
  store float %v00.s, float* %s0.s, align 4
  %s1.s = getelementptr inbounds float, float* %o1, i32 %cs
  store float %v01.s, float* %s1.s, align 4
  %s2.s = getelementptr inbounds float, float* %o2, i32 %cs
  store float %v02.s, float* %s2.s, align 4
  %s3.s = getelementptr inbounds float, float* %o3, i32 %cs
  store float %v03.s, float* %s3.s, align 4
  %s4.s = getelementptr inbounds float, float* %o4, i32 %cs
  store float %v10.s, float* %s4.s, align 4
  %s5.s = getelementptr inbounds float, float* %o5, i32 %cs
  store float %v11.s, float* %s5.s, align 4
  %s6.s = getelementptr inbounds float, float* %o6, i32 %cs
  store float %v12.s, float* %s6.s, align 4
  %s7.s = getelementptr inbounds float, float* %o7, i32 %cs
  store float %v13.s, float* %s7.s, align 4
  %s8.s = getelementptr inbounds float, float* %o8, i32 %cs
  store float %v20.s, float* %s8.s, align 4
  %s9.s = getelementptr inbounds float, float* %o9, i32 %cs
  store float %v21.s, float* %s9.s, align 4
  %s10.s = getelementptr inbounds float, float* %o10, i32 %cs
  store float %v22.s, float* %s10.s, align 4
  %s11.s = getelementptr inbounds float, float* %o11, i32 %cs
  store float %v23.s, float* %s11.s, align 4
  %s12.s = getelementptr inbounds float, float* %o12, i32 %cs
  store float %v30.s, float* %s12.s, align 4
  %s13.s = getelementptr inbounds float, float* %o13, i32 %cs
  store float %v31.s, float* %s13.s, align 4
  %s14.s = getelementptr inbounds float, float* %o14, i32 %cs
  store float %v32.s, float* %s14.s, align 4
  %s15.s = getelementptr inbounds float, float* %o15, i32 %cs
  store float %v33.s, float* %s15.s, align 4
  %cs.next = add nuw nsw i32 %cs, 1
  %sdone = icmp eq i32 %cs.next, %c
  br i1 %sdone, label %tile.end, label %sc
tile.end:
  %t.next = add nsw i32 %t, 1
  %tdone = icmp eq i32 %t.next, %t1
  br i1 %tdone, label %exit, label %tile
exit:
  ret void
}

define void @winograd_output(float* noalias nocapture readonly %m,
                             float* noalias nocapture %y,
                             float* noalias nocapture %dump,
                             i32 %oh, i32 %ow, i32 %co, i32 %th, i32 %tw,
                             i32 %t0, i32 %t1, i32 %stride) {
entry:
  %per = mul i32 %th, %tw
  %ok0 = icmp slt i32 %t0, %t1
  %ok1 = icmp sgt i32 %co, 0
  %ok = and i1 %ok0, %ok1
  br i1 %ok, label %tile, label %exit
tile:
  %t = phi i32 [%t0, %entry], [%t.next, %tile.end]
  %tl = sub i32 %t, %t0
  %b = sdiv i32 %t, %per
  %rr = srem i32 %t, %per
  %ty = sdiv i32 %rr, %tw
  %tx = srem i32 %rr, %tw
  %ty2 = shl i32 %ty, 1
  %tx2 = shl i32 %tx, 1
  %bh = mul i32 %b, %oh
  %yy0 = add i32 %ty2, 0
  %yin0 = icmp slt i32 %yy0, %oh
  %row0a = add i32 %bh, %yy0
  %row0 = mul i32 %row0a, %ow
  %yy1 = add i32 %ty2, 1
  %yin1 = icmp slt i32 %yy1, %oh
  %row1a = add i32 %bh, %yy1
  %row1 = mul i32 %row1a, %ow
  %xx0 = add i32 %tx2, 0
  %xin0 = icmp slt i32 %xx0, %ow
  %xx1 = add i32 %tx2, 1
  %xin1 = icmp slt i32 %xx1, %ow
  %in00 = and i1 %yin0, %xin0
  %pix00 = add i32 %row0, %xx0
  %off00 = mul i32 %pix00, %co
  %py00 = getelementptr float, float* %y, i32 %off00
  %q00 = select i1 %in00, float* %py00, float* %dump
  %in01 = and i1 %yin0, %xin1
  %pix01 = add i32 %row0, %xx1
  %off01 = mul i32 %pix01, %co
  %py01 = getelementptr float, float* %y, i32 %off01
  %q01 = select i1 %in01, float* %py01, float* %dump
  %in10 = and i1 %yin1, %xin0
  %pix10 = add i32 %row1, %xx0
  %off10 = mul i32 %pix10, %co
  %py10 = getelementptr float, float* %y, i32 %off10
  %q10 = select i1 %in10, float* %py10, float* %dump
  %in11 = and i1 %yin1, %xin1
  %pix11 = add i32 %row1, %xx1
  %off11 = mul i32 %pix11, %co
  %py11 = getelementptr float, float* %y, i32 %off11
  %q11 = select i1 %in11, float* %py11, float* %dump
  %kstride = mul i32 %stride, %co
  %lc = mul i32 %tl, %co
  %p0 = getelementptr inbounds float, float* %m, i32 %lc
  %p1 = getelementptr inbounds float, float* %p0, i32 %kstride
  %p2 = getelementptr inbounds float, float* %p1, i32 %kstride
  %p3 = getelementptr inbounds float, float* %p2, i32 %kstride
  %p4 = getelementptr inbounds float, float* %p3, i32 %kstride
  %p5 = getelementptr inbounds float, float* %p4, i32 %kstride
  %p6 = getelementptr inbounds float, float* %p5, i32 %kstride
  %p7 = getelementptr inbounds float, float* %p6, i32 %kstride
  %p8 = getelementptr inbounds float, float* %p7, i32 %kstride
  %p9 = getelementptr inbounds float, float* %p8, i32 %kstride
  %p10 = getelementptr inbounds float, float* %p9, i32 %kstride
  %p11 = getelementptr inbounds float, float* %p10, i32 %kstride
  %p12 = getelementptr inbounds float, float* %p11, i32 %kstride
  %p13 = getelementptr inbounds float, float* %p12, i32 %kstride
  %p14 = getelementptr inbounds float, float* %p13, i32 %kstride
  %p15 = getelementptr inbounds float, float* %p14, i32 %kstride
  br label %tile.body
tile.body:
  %c4 = and i32 %co, -4
  %hasvec = icmp sgt i32 %c4, 0
  br i1 %hasvec, label %vec, label %vec.end
vec:
  %cv = phi i32 [0, %tile.body], [%cv.next, %vec]
  %a0.v = getelementptr inbounds float, float* %p0, i32 %cv
  %b0.v = bitcast float* %a0.v to <4 x float>*
  %m00.v = load <4 x float>, <4 x float>* %b0.v, align 4
  %a1.v = getelementptr inbounds float, float* %p1, i32 %cv
  %b1.v = bitcast float* %a1.v to <4 x float>*
  %m01.v = load <4 x float>, <4 x float>* %b1.v, align 4
  %a2.v = getelementptr inbounds float, float* %p2, i32 %cv
  %b2.v = bitcast float* %a2.v to <4 x float>*
  %m02.v = load <4 x float>, <4 x float>* %b2.v, align 4
  %a3.v = getelementptr inbounds float, float* %p3, i32 %cv
  %b3.v = bitcast float* %a3.v to <4 x float>*
  %m03.v = load <4 x float>, <4 x float>* %b3.v, align 4
  %a4.v = getelementptr inbounds float, float* %p4, i32 %cv
  %b4.v = bitcast float* %a4.v to <4 x float>*
  %m10.v = load <4 x float>, <4 x float>* %b4.v, align 4
  %a5.v = getelementptr inbounds float, float* %p5, i32 %cv
  %b5.v = bitcast float* %a5.v to <4 x float>*
  %m11.v = load <4 x float>, <4 x float>* %b5.v, align 4
  %a6.v = getelementptr inbounds float, float* %p6, i32 %cv
  %b6.v = bitcast float* %a6.v to <4 x float>*
  %m12.v = load <4 x float>, <4 x float>* %b6.v, align 4
  %a7.v = getelementptr inbounds float, float* %p7, i32 %cv
  %b7.v = bitcast float* %a7.v to <4 x float>*
  %m13.v = load <4 x float>, <4 x float>* %b7.v, align 4
  %a8.v = getelementptr inbounds float, float* %p8, i32 %cv
  %b8.v = bitcast float* %a8.v to <4 x float>*
  %m20.v = load <4 x float>, <4 x float>* %b8.v, align 4
  %a9.v = getelementptr inbounds float, float* %p9, i32 %cv
  %b9.v = bitcast float* %a9.v to <4 x float>*
  %m21.v = load <4 x float>, <4 x float>* %b9.v, align 4
  %a10.v = getelementptr inbounds float, float* %p10, i32 %cv
  %b10.v = bitcast float* %a10.v to <4 x float>*
  %m22.v = load <4 x float>, <4 x float>* %b10.v, align 4
  %a11.v = getelementptr inbounds float, float* %p11, i32 %cv
  %b11.v = bitcast float* %a11.v to <4 x float>*
  %m23.v = load <4 x float>, <4 x float>* %b11.v, align 4
  %a12.v = getelementptr inbounds float, float* %p12, i32 %cv
  %b12.v = bitcast float* %a12.v to <4 x float>*
  %m30.v = load <4 x float>, <4 x float>* %b12.v, align 4
  %a13.v = getelementptr inbounds float, float* %p13, i32 %cv
  %b13.v = bitcast float* %a13.v to <4 x float>*
  %m31.v = load <4 x float>, <4 x float>* %b13.v, align 4
  %a14.v = getelementptr inbounds float, float* %p14, i32 %cv
  %b14.v = bitcast float* %a14.v to <4 x float>*
  %m32.v = load <4 x float>, <4 x float>* %b14.v, align 4
  %a15.v = getelementptr inbounds float, float* %p15, i32 %cv
  %b15.v = bitcast float* %a15.v to <4 x float>*
  %m33.v = load <4 x float>, <4 x float>* %b15.v, align 4
  %t00.v = fadd <4 x float> %m00.v, %m10.v
  %s00.v = fadd <4 x float> %t00.v, %m20.v
  %t10.v = fsub <4 x float> %m10.v, %m20.v
  %s10.v = fsub <4 x float> %t10.v, %m30.v
  %t01.v = fadd <4 x float> %m01.v, %m11.v
  %s01.v = fadd <4 x float> %t01.v, %m21.v
  %t11.v = fsub <4 x float> %m11.v, %m21.v
  %s11.v = fsub <4 x float> %t11.v, %m31.v
  %t02.v = fadd <4 x float> %m02.v, %m12.v
  %s02.v = fadd <4 x float> %t02.v, %m22.v
  %t12.v = fsub <4 x float> %m12.v, %m22.v
  %s12.v = fsub <4 x float> %t12.v, %m32.v
  %t03.v = fadd <4 x float> %m03.v, %m13.v
  %s03.v = fadd <4 x float> %t03.v, %m23.v
  %t13.v = fsub <4 x float> %m13.v, %m23.v
  %s13.v = fsub <4 x float> %t13.v, %m33.v
  %r0a.v = fadd <4 x float> %s00.v, %s01.v
  %y00.v = fadd <4 x float> %r0a.v, %s02.v
  %r0b.v = fsub <4 x float> %s01.v, %s02.v
  %y01.v = fsub <4 x float> %r0b.v, %s03.v
  %r1a.v = fadd <4 x float> %s10.v, %s11.v
  %y10.v = fadd <4 x float> %r1a.v, %s12.v
  %r1b.v = fsub <4 x float> %s11.v, %s12.v
  %y11.v = fsub <4 x float> %r1b.v, %s13.v
  %w00.v = getelementptr inbounds float, float* %q00, i32 %cv
  %wb00.v = bitcast float* %w00.v to <4 x float>*
  store <4 x float> %y00.v, <4 x float>* %wb00.v, align 4
  %w01.v = getelementptr inbounds float, float* %q01, i32 %cv
  %wb01.v = bitcast float* %w01.v to <4 x float>*
  store <4 x float> %y01.v, <4 x float>* %wb01.v, align 4
  %w10.v = getelementptr inbounds float, float* %q10, i32 %cv
  %wb10.v = bitcast float* %w10.v to <4 x float>*
  store <4 x float> %y10.v, <4 x float>* %wb10.v, align 4
  %w11.v = getelementptr inbounds float, float* %q11, i32 %cv
  %wb11.v = bitcast float* %w11.v to <4 x float>*
  store <4 x float> %y11.v, <4 x float>* %wb11.v, align 4
  %cv.next = add nuw nsw i32 %cv, 4
  %vdone = icmp eq i32 %cv.next, %c4
  br i1 %vdone, label %vec.end, label %vec
vec.end:
  %rest = icmp slt i32 %c4, %co
  br i1 %rest, label %sc, label %tile.end
sc:
  %cs = phi i32 [%c4, %vec.end], [%cs.next, %sc]
  %a0.s = getelementptr inbounds float, float* %p0, i32 %cs
  %m00.s = load float, float* %a0.s, align 4
  %a1.s = getelementptr inbounds float, float* %p1, i32 %cs
  %m01.s = load float, float* %a1.s, align 4
  %a2.s = getelementptr inbounds float, float* %p2, i32 %cs
  %m02.s = load float, float* %a2.s, align 4
  %a3.s = getelementptr inbounds float, float* %p3, i32 %cs
  %m03.s = load float, float* %a3.s, align 4
  %a4.s = getelementptr inbounds float, float* %p4, i32 %cs
  %m10.s = load float, float* %a4.s, align 4
  %a5.s = getelementptr inbounds float, float* %p5, i32 %cs
  %m11.s = load float, float* %a5.s, align 4
  %a6.s = getelementptr inbounds float, float* %p6, i32 %cs
  %m12.s = load float, float* %a6.s, align 4
  %a7.s = getelementptr inbounds float, float* %p7, i32 %cs
  %m13.s = load float, float* %a7.s, align 4
  %a8.s = getelementptr inbounds float, float* %p8, i32 %cs
  %m20.s = load float, float* %a8.s, align 4
  %a9.s = getelementptr inbounds float, float* %p9, i32 %cs
  %m21.s = load float, float* %a9.s, align 4
  %a10.s = getelementptr inbounds float, float* %p10, i32 %cs
  %m22.s = load float, float* %a10.s, align 4
  %a11.s = getelementptr inbounds float, float* %p11, i32 %cs
  %m23.s = load float, float* %a11.s, align 4
  %a12.s = getelementptr inbounds float, float* %p12, i32 %cs
  %m30.s = load float, float* %a12.s, align 4
  %a13.s = getelementptr inbounds float, float* %p13, i32 %cs
  %m31.s = load float, float* %a13.s, align 4
  %a14.s = getelementptr inbounds float, float* %p14, i32 %cs
  %m32.s = load float, float* %a14.s, align 4
  %a15.s = getelementptr inbounds float, float* %p15, i32 %cs
  %m33.s = load float, float* %a15.s, align 4
  %t00.s = fadd float %m00.s, %m10.s
  %s00.s = fadd float %t00.s, %m20.s
  %t10.s = fsub float %m10.s, %m20.s
  %s10.s = fsub float %t10.s, %m30.s
  %t01.s = fadd float %m01.s, %m11.s
  %s01.s = fadd float %t01.s, %m21.s
  %t11.s = fsub float %m11.s, %m21.s
  %s11.s = fsub float %t11.s, %m31.s
  %t02.s = fadd float %m02.s, %m12.s
  %s02.s = fadd float %t02.s, %m22.s
  %t12.s = fsub float %m12.s, %m22.s
  %s12.s = fsub float %t12.s, %m32.s
  %t03.s = fadd float %m03.s, %m13.s
  %s03.s = fadd float %t03.s, %m23.s
  %t13.s = fsub float %m13.s, %m23.s
  %s13.s = fsub float %t13.s, %m33.s
  %r0a.s = fadd float %s00.s, %s01.s
  %y00.s = fadd float %r0a.s, %s02.s
  %r0b.s = fsub float %s01.s, %s02.s
  %y01.s = fsub float %r0b.s, %s03.s
  %r1a.s = fadd float %s10.s, %s11.s
  %y10.s = fadd float %r1a.s, %s12.s
  %r1b.s = fsub float %s11.s, %s12.s
  %y11.s = fsub float %r1b.s, %s13.s
  %w00.s = getelementptr inbounds float, float* %q00, i32 %cs
  store float %y00.s, float* %w00.s, align 4
  %w01.s = getelementptr inbounds float, float* %q01, i32 %cs
  store float %y01.s, float* %w01.s, align 4
  %w10.s = getelementptr inbounds float, float* %q10, i32 %cs
  store float %y10.s, float* %w10.s, align 4
  %w11.s = getelementptr inbounds float, float* %q11, i32 %cs
  store float %y11.s, float* %w11.s, align 4
  %cs.next = add nuw nsw i32 %cs, 1
  %sdone = icmp eq i32 %cs.next, %co
  br i1 %sdone, label %tile.end, label %sc
tile.end:
  %t.next = add nsw i32 %t, 1
  %tdone = icmp eq i32 %t.next, %t1
  br i1 %tdone, label %exit, label %tile
exit:
  ret void
}

attributes #0 = { "no-builtins" }
