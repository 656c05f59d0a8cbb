// Shared by the SIMD kernels' C sources (build.ts compiles them to one module).
#ifndef ACCEL_SIMD_H
#define ACCEL_SIMD_H

// The module imports the wasm backend's memory, so every pointer is a byte offset into tfjs'
// heap; a function is reachable from JavaScript only under the name given here.
#define EXPORT(name) __attribute__((export_name(#name))) name

#endif
