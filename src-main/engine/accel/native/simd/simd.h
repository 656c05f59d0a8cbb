// Shared by the SIMD kernels' C sources (build.ts compiles them to one module, twice).
#ifndef ACCEL_SIMD_H
#define ACCEL_SIMD_H

#include <wasm_simd128.h>

// The module imports the wasm backend's memory, so every pointer is a byte offset into tfjs'
// heap; a function is reachable from JavaScript only under the name given here.
#define EXPORT(name) __attribute__((export_name(#name))) name

// a·b + c, four lanes. build.ts compiles every source twice: once for SIMD128 alone, and once
// with relaxed SIMD, where this is one fused multiply-add on hardware that has FMA (x86 FMA3,
// ARM NEON): ~1.3x on a GEMM's inner loop here. Relaxed means its rounding may differ between
// machines, so only kernels whose results need not match tfjs' bit for bit use it;
// -ffp-contract=off keeps the compiler from fusing anything else.
#ifdef __wasm_relaxed_simd__
#define F32X4_MADD(a, b, c) wasm_f32x4_relaxed_madd((a), (b), (c))
#else
#define F32X4_MADD(a, b, c) wasm_f32x4_add(wasm_f32x4_mul((a), (b)), (c))
#endif

#endif
