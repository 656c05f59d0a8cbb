import { app, utilityProcess } from 'electron';
import { WORKER_V8_FLAGS } from '../host/fork-worker';
import {
  appendTail,
  describeExit,
  type SpawnWorker,
  type WorkerHandle,
} from '../host/worker-handle';

/**
 * The engine worker as an Electron utility process: training never competes with the main
 * process's event loop, and a crash in tfjs or WASM cannot take the window down with it.
 */
const SERVICE_NAME = 'MNIST Studio trainer';
/**
 * A sweep runs several workers at once, and 'child-process-gone' names a process only by its
 * service name: each gets a name of its own, so one's crash is never reported as another's.
 */
let forks = 0;

export function utilityWorker(entry: string): SpawnWorker {
  return (): WorkerHandle => {
    forks++;
    const serviceName = forks === 1 ? SERVICE_NAME : `${SERVICE_NAME} ${forks}`;
    const child = utilityProcess.fork(entry, [], {
      serviceName,
      stdio: 'pipe',
      execArgv: WORKER_V8_FLAGS,
    });
    let stderrTail = '';
    let goneReason: string | null = null;
    child.stdout?.on('data', (chunk: Buffer) => process.stdout.write(chunk));
    child.stderr?.on('data', (chunk: Buffer) => {
      stderrTail = appendTail(stderrTail, chunk);
      process.stderr.write(chunk);
    });
    // 'exit' only carries a code; the crash reason (oom, crashed, killed…) comes from this event.
    const onGone = (_event: unknown, details: Electron.Details) => {
      if (
        details.type === 'Utility' &&
        details.name === serviceName &&
        details.reason !== 'clean-exit'
      ) {
        goneReason = details.reason;
      }
    };
    app.on('child-process-gone', onGone);
    return {
      get pid() {
        return child.pid;
      },
      post: (message) => child.postMessage(message),
      onMessage: (listener) => child.on('message', listener),
      onExit: (listener) =>
        child.on('exit', (code) => {
          app.off('child-process-gone', onGone);
          const reason = describeExit(code, null, stderrTail);
          listener({
            code,
            signal: null,
            reason: goneReason ? `${reason} (${goneReason})` : reason,
          });
        }),
      kill: () => {
        // utilityProcess.kill() sends SIGTERM on POSIX, which the worker answers with a clean
        // stop; the host's kill is the one that cannot wait.
        if (child.pid === undefined) {
          child.kill(); // not started yet: it has no run to stop
          return;
        }
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // Already gone: its 'exit' reports it.
        }
      },
    };
  };
}
