import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { inject } from 'vitest';

/**
 * A Chromium driven by playwright-core (no browser download), found once per run by
 * tests/chromium/global-setup.ts, the global setup of every vitest config whose tests call this.
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: inject('chromiumPath'),
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  stop(): void;
}

/** `npm run serve` without the build step (the test command builds once before vitest). */
export function startServe(checkpointsDir: string, extra: string[] = []): Promise<ServeProcess> {
  const entry = path.join(import.meta.dirname, '../../src-main/serve/main.ts');
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      entry,
      '--checkpoints',
      checkpointsDir,
      '--static',
      path.join(import.meta.dirname, '../../out/renderer'),
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MNIST_STUDIO_WORKER_STDERR: '0' } },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line)
        resolve({ url: line.trim(), child, stop: () => child.kill('SIGTERM') });
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
}
