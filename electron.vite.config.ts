import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';
import { resolve } from 'node:path';

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
    build: {
      rollupOptions: { input: { index: resolve('src-renderer/index.html') } },
    },
    plugins: [svelte({ configFile: resolve('svelte.config.js') })],
  },
});
