import { spawnSync } from 'node:child_process';
import path from 'node:path';

/** The CLI's source entry, as `npm run cli` runs it through tsx. */
export const cliPath = path.join(import.meta.dirname, '../src-main/cli.ts');

/** `npm run cli -- ARGS --checkpoints ROOT`, run to the end: exit code, JSON lines, stderr. */
export function runCli(root: string, ...args: string[]) {
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', cliPath, ...args, '--checkpoints', root],
    {
      encoding: 'utf8',
      env: { ...process.env, MNIST_STUDIO_WORKER_STDERR: '0' },
      timeout: 120_000,
    },
  );
  const lines = result.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code: result.status, lines, stderr: result.stderr };
}
