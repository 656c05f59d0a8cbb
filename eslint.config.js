import js from '@eslint/js';
import { builtinModules } from 'node:module';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Modules only main may load: Node's built-ins and Electron. */
const NODE_AND_ELECTRON = [
  {
    group: ['node:*', ...builtinModules],
    message: 'The renderer runs in a sandboxed page: no Node modules.',
  },
  { group: ['electron', 'electron/*'], message: 'The renderer reaches main through lib/api.ts.' },
];
const INTO_MAIN = {
  group: ['**/src-main/**', '**/src-preload/**'],
  message: "Import the contract as '$contract/…' and shared code as '$shared/…'.",
};
const INTO_RENDERER = {
  group: ['**/src-renderer/**', '$contract/*', '$shared/*'],
  message:
    'Main and preload never import the renderer, nor use its aliases (renderer builds only).',
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'out/',
      'dist/',
      'checkpoints/',
      'tests/.tmp/',
      'bench/results/',
      'bench/.venv/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Everything but the page runs on Node; the page has only the browser's globals.
    ignores: ['src-renderer/**'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['src-renderer/**/*.{ts,svelte}', '**/*.svelte.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: {
      parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] },
    },
  },
  {
    // The renderer's way into shared code is the two aliases; the engine is not a library of it.
    files: ['src-renderer/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [INTO_MAIN, ...NODE_AND_ELECTRON] }],
    },
  },
  {
    files: ['src-main/**', 'src-preload/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [INTO_RENDERER] }] },
  },
  {
    // The engine runs in the CLI, serve and tests too, where there is no Electron.
    files: ['src-main/engine/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            INTO_RENDERER,
            { group: ['electron', 'electron/*'], message: 'Engine code never imports Electron.' },
          ],
        },
      ],
    },
  },
  {
    // Promises nobody awaits lose their errors; a promise handed to a void callback does too.
    files: ['**/*.ts', '**/*.svelte'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
);
