import { defineConfig } from 'vitest/config';

/** Slow end-to-end checks kept out of `npm test` (see tests/checks/); `npm run check:drawings`. */
export default defineConfig({
  test: {
    include: ['tests/checks/**/*.check.ts'],
    globalSetup: ['tests/chromium/global-setup.ts'],
    pool: 'forks',
    testTimeout: 900_000,
    hookTimeout: 900_000,
  },
});
