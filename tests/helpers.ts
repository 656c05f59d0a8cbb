import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

/** A fresh temp folder, removed after the file's tests. */
export function tempDir(prefix = 'mnist-studio-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Big-endian IDX bytes: the format's header, then the payload. */
export function idxBytes(
  dims: number[],
  payload: Uint8Array | number[],
  typeCode = 0x08,
): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  header[2] = typeCode;
  header[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const body = payload instanceof Uint8Array ? payload : Uint8Array.from(payload);
  const out = new Uint8Array(header.length + body.length);
  out.set(header);
  out.set(body, header.length);
  return out;
}

/** Pearson correlation of two equally long series: how alike two images look, whatever their scale. */
export function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]! / n;
    mb += b[i]! / n;
  }
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    ab += (a[i]! - ma) * (b[i]! - mb);
    aa += (a[i]! - ma) ** 2;
    bb += (b[i]! - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

export interface GroupProcess {
  child: ChildProcess;
  /** stdout's JSON lines so far (other lines are skipped). */
  lines: Record<string, unknown>[];
  stderr(): string;
  /** Resolves with the first stdout JSON line (already seen or still to come) that matches. */
  line(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** Sends `signal` to the whole process group, as a terminal's Ctrl-C does. */
  signalGroup(signal: NodeJS.Signals): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * A `node --import tsx` script in a session and process group of its own (`setsid`), so a test
 * can signal the group like a terminal does without signalling vitest.
 */
export function spawnGroup(
  script: string,
  args: string[],
  /** Through tsx's own CLI, as `npm run cli` starts it: a parent process that relays signals. */
  { tsxCli = false } = {},
): GroupProcess {
  const runner = tsxCli
    ? [path.join(import.meta.dirname, '../node_modules/tsx/dist/cli.mjs')]
    : ['--import', 'tsx'];
  const child = spawn(process.execPath, [...runner, script, ...args], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MNIST_STUDIO_WORKER_STDERR: '0' },
  });
  const lines: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    const parts = out.split('\n');
    out = parts.pop()!;
    for (const part of parts) {
      try {
        lines.push(JSON.parse(part) as Record<string, unknown>);
      } catch {
        lines.push({ type: 'text', text: part });
      }
    }
    for (const waiter of waiters.splice(0)) waiter();
  });
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  // A failed test must not leave a training group behind.
  afterAll(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
  });
  const line = (match: (l: Record<string, unknown>) => boolean, timeoutMs = 60_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching line in ${timeoutMs} ms; stderr: ${err.slice(-2000)}`)),
        timeoutMs,
      );
      const check = () => {
        const hit = lines.find(match);
        if (hit) {
          clearTimeout(timer);
          resolve(hit);
        } else waiters.push(check);
      };
      check();
    });
  return {
    child,
    lines,
    stderr: () => err,
    line,
    signalGroup: (signal) => process.kill(-child.pid!, signal),
    exited,
  };
}

/** Whether a process still runs (a zombie, exited but not yet reaped, does not). Linux only. */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Polls `isRunning` until the process is gone; false if it still runs after `timeoutMs`. */
export async function waitUntilGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isRunning(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !isRunning(pid);
}

/**
 * Ctrl-C twice at a process group, the second past the echo window (ECHO_WINDOW_MS) so it counts
 * as a second press. Resolves with the time the second was sent.
 */
export async function interruptTwice(group: GroupProcess): Promise<number> {
  group.signalGroup('SIGINT');
  await new Promise((r) => setTimeout(r, 500));
  group.signalGroup('SIGINT');
  return Date.now();
}
