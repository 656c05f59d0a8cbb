import { spawn } from 'node:child_process';
import path from 'node:path';

/**
 * A finished run on disk before the page opens, trained by the real CLI (the same engine the app
 * uses), so panel tests do not each wait for the Train panel. Async, so a test file's browser
 * and server can start meanwhile.
 */
export function trainRun(checkpointsDir: string, args: string[]): Promise<string> {
  const cli = path.join(import.meta.dirname, '../../src-main/cli.ts');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', cli, 'train', ...args, '--checkpoints', checkpointsDir],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MNIST_STUDIO_WORKER_STDERR: '0' } },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      const finished = out
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { type: string; runId?: string })
        .find((e) => e.type === 'finished');
      if (code === 0 && finished?.runId) resolve(finished.runId);
      else reject(new Error(`cli train exited with ${code}: ${err.trim()}`));
    });
  });
}
