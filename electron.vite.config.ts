import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';
import type { Plugin } from 'vite';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { sharedAliases } from './aliases.config.ts';

/**
 * `virtual:tfjs-wasm`: TensorFlow.js' WebAssembly binaries as data: URLs, for the renderer's
 * in-window model. Inlined so the loader never looks for a sibling file by a path of its own
 * making: the same bundle works over serve mode's http and Electron's app://, and the CSP needs
 * only `connect-src data:` for it.
 */
function tfjsWasmInline(): Plugin {
  const id = 'virtual:tfjs-wasm';
  const dist = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
  const dataUrl = (name: string) =>
    `data:application/wasm;base64,${readFileSync(resolve(dist, name)).toString('base64')}`;
  return {
    name: 'tfjs-wasm-inline',
    resolveId: (source) => (source === id ? `\0${id}` : null),
    load: (loaded) =>
      loaded === `\0${id}`
        ? `export const plain = ${JSON.stringify(dataUrl('tfjs-backend-wasm.wasm'))};\n` +
          `export const simd = ${JSON.stringify(dataUrl('tfjs-backend-wasm-simd.wasm'))};\n`
        : null,
  };
}

export default defineConfig({
  main: {
    build: {
      rollupOptions: { input: { index: resolve('src-main/index.ts') } },
    },
  },
  preload: {
    build: {
      // A sandboxed preload cannot require node_modules or be an ES module: bundle it as CJS.
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve('src-preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve('src-renderer'),
    resolve: { alias: sharedAliases() },
    build: {
      rollupOptions: { input: { index: resolve('src-renderer/index.html') } },
    },
    plugins: [svelte({ configFile: resolve('svelte.config.js') }), tfjsWasmInline()],
  },
});
