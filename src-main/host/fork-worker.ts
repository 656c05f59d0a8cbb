import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { appendTail, describeExit, type SpawnWorker, type WorkerHandle } from './worker-handle';

/**
 * Starts the engine worker as a Node child process. From sources it runs the TypeScript entry
 * through tsx; a built entry (.js) runs as is.
 */
/**
 * V8 leaves part of tfjs' WebAssembly on its baseline compiler (Liftoff) in worker threads, so a
 * gradient thread ran ~20 % slower than the training thread and the leader waited for it every
 * step; compiling with TurboFan up front gave 1.81–1.85x instead of 1.5–1.7x on two threads.
 */
export const WORKER_V8_FLAGS = ['--no-liftoff'];

export function sourceWorkerEntry(): string {
  return fileURLToPath(new URL('../worker/main.ts', import.meta.url));
}

export function forkWorker(entry: string = sourceWorkerEntry()): SpawnWorker {
  return (): WorkerHandle => {
    const child = fork(entry, [], {
      execArgv: [...(entry.endsWith('.ts') ? ['--import', 'tsx'] : []), ...WORKER_V8_FLAGS],
      // stdout is piped away from our own stdout: the CLI's stdout carries JSON lines only, and
      // tfjs prints banners there.
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2' },
    });
    let stderrTail = '';
    child.stdout?.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    child.stderr?.on('data', (chunk: Buffer) => {
      stderrTail = appendTail(stderrTail, chunk);
      if (process.env.MNIST_STUDIO_WORKER_STDERR !== '0') process.stderr.write(chunk);
    });
    return {
      pid: child.pid,
      post: (message) => {
        if (child.connected) child.send(message as object);
      },
      onMessage: (listener) => child.on('message', listener),
      onExit: (listener) =>
        child.on('exit', (code, signal) =>
          listener({ code, signal, reason: describeExit(code, signal, stderrTail) }),
        ),
      kill: () => {
        child.kill('SIGKILL');
      },
    };
  };
}
