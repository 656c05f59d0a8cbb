import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as layers from '@tensorflow/tfjs-layers';
// Inlined as data: URLs (see electron.vite.config.ts), so the binaries load the same from app://
// and http; the page's CSP allows compiling them ('wasm-unsafe-eval'), nothing else.
import { plain as wasmPlain, simd as wasmSimd } from 'virtual:tfjs-wasm';

/**
 * TensorFlow.js inside the window, loaded on demand (this module is its own chunk): the Draw
 * panel runs the restored model here, so a prediction is ready in the same frame as the stroke
 * instead of a round trip to the worker, which may be busy training. WASM when the page may
 * compile WebAssembly, else the pure-JS CPU backend.
 */

let ready: Promise<string> | null = null;

export function initRuntime(): Promise<string> {
  ready ??= (async () => {
    setWasmPaths({
      'tfjs-backend-wasm.wasm': wasmPlain,
      'tfjs-backend-wasm-simd.wasm': wasmSimd,
      // Threads need cross-origin isolation, which neither Electron's app:// page nor serve mode has.
      'tfjs-backend-wasm-threaded-simd.wasm': wasmSimd,
    });
    try {
      if (await tf.setBackend('wasm')) return 'wasm';
    } catch {
      // Falls through to the CPU backend below.
    }
    await tf.setBackend('cpu');
    return 'cpu';
  })();
  return ready;
}

export { layers, tf };
