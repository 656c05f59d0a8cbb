import { svelte } from '@sveltejs/vite-plugin-svelte';
import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';
import { sharedAliases } from './aliases.config.ts';

export default defineConfig({
  test: {
    // Training tests are CPU-bound; two cores run two files at once without starving each other.
    maxWorkers: 2,
    projects: [
      {
        // tests/engine/models.test.ts checks the renderer's form against the engine's models.
        resolve: { alias: sharedAliases() },
        test: {
          name: 'node',
          include: ['tests/**/*.test.ts'],
          exclude: ['tests/renderer/**', 'tests/e2e/**'],
          pool: 'forks',
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          // The files that drive Chromium: their own project, so the browser is looked for only
          // when one of them runs, and its absence fails the run once (the global setup says how
          // to install one).
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          globalSetup: ['tests/chromium/global-setup.ts'],
          pool: 'forks',
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        plugins: [
          svelte({ configFile: resolve('svelte.config.js'), compilerOptions: { hmr: false } }),
        ],
        resolve: { conditions: ['browser'], alias: sharedAliases() },
        test: {
          name: 'renderer',
          include: ['tests/renderer/**/*.test.ts'],
          environment: 'jsdom',
          setupFiles: ['tests/renderer/setup.ts'],
        },
      },
    ],
  },
});
