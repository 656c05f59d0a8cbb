/** TensorFlow.js' WebAssembly binaries as data: URLs (a build-time module, electron.vite.config.ts). */
declare module 'virtual:tfjs-wasm' {
  export const plain: string;
  export const simd: string;
}
