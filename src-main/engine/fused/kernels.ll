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

attributes #0 = { "no-builtins" }
