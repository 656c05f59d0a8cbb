import { constants } from 'node:os';
import type { SweepHost } from './sweep-host';
import type { ShutdownOutcome, WorkerHost } from './worker-host';

/**
 * The signals that end a host process. Ctrl-C in a terminal sends SIGINT to the whole foreground
 * process group, the worker included (which ignores it: the host decides); a service manager,
 * `docker stop` or `kill` send SIGTERM. The first one asks for a clean stop, a second one for an
 * end now.
 */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/**
 * How long a host that is going away waits for a run to stop after its current batch. A batch
 * takes well under a second for every preset; the validation and checkpoint that end an epoch
 * take a few seconds. Service managers wait longer before their SIGKILL (systemd: 90 s).
 */
export const STOP_TIMEOUT_MS = 30_000;

/** The exit status a shell gives a process ended by `signal` (130 for SIGINT, 143 for SIGTERM). */
export const signalExitCode = (signal: NodeJS.Signals): number => 128 + constants.signals[signal];

export interface StopSignalHandlers {
  /** The first signal: stop cleanly. */
  stop(signal: NodeJS.Signals): void;
  /** The second signal: do not wait any longer. */
  kill(signal: NodeJS.Signals): void;
}

/**
 * One Ctrl-C can arrive twice: tsx's CLI (`npm run cli`, `npm run serve`) relays a signal to its
 * child unless the child reports it within 30 ms, and the child, in the same process group, had
 * it from the terminal already. A repeat this soon is that echo, not a second Ctrl-C.
 */
export const ECHO_WINDOW_MS = 200;

/** Listens for STOP_SIGNALS; returns the function that stops listening. */
export function onStopSignals(handlers: StopSignalHandlers): () => void {
  let received = 0;
  let first = 0;
  const listener = (signal: NodeJS.Signals) => {
    if (received === 1 && performance.now() - first < ECHO_WINDOW_MS) return;
    received++;
    if (received === 1) {
      first = performance.now();
      handlers.stop(signal);
    } else if (received === 2) handlers.kill(signal);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, listener);
  return () => {
    for (const signal of STOP_SIGNALS) process.off(signal, listener);
  };
}

export interface ExitOnSignalsOptions {
  host: WorkerHost;
  /** The sweep this host may be running: its trials stop (or are killed) with the run. */
  sweeps?: SweepHost;
  /** Who received the signal, for the stopped run's reason: "serve mode". */
  name?: string;
  /** Closes what the process serves (after the run has stopped, so clients hear `stopped`). */
  close: () => Promise<void>;
  timeoutMs?: number;
  log?: (line: string) => void;
  exit?: (code: number) => void;
}

/**
 * Shuts a host and its sweep down together: each stops its runs after their current batch,
 * waiting at most `timeoutMs`; 'killed' if either had to kill one.
 */
export async function shutdownAll(
  host: WorkerHost,
  sweeps: SweepHost | undefined,
  options: { timeoutMs: number; reason: string },
): Promise<ShutdownOutcome> {
  const outcomes = await Promise.all([
    host.shutdown(options),
    sweeps?.shutdown(options) ?? Promise.resolve<ShutdownOutcome>('idle'),
  ]);
  if (outcomes.includes('killed')) return 'killed';
  return outcomes.includes('stopped') ? 'stopped' : 'idle';
}

/**
 * A long-lived host (serve): the first signal stops the run (and the sweep's trials) after the
 * current batch (waiting at most `timeoutMs`), closes the server and exits 0; a second kills the
 * workers, which marks their runs crashed, and exits with the signal's status.
 */
export function exitOnStopSignals(options: ExitOnSignalsOptions): () => void {
  const { host, close, timeoutMs = STOP_TIMEOUT_MS } = options;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let exited = false;
  const exitOnce = (code: number) => {
    if (exited) return;
    exited = true;
    exit(code);
  };
  let killedBy: NodeJS.Signals | null = null;
  return onStopSignals({
    stop: (signal) => {
      const sweepId = options.sweeps?.running;
      log(
        host.training
          ? `${signal}: stopping run ${host.training.runId} after its current batch, then exiting (${signal} again kills it)`
          : sweepId
            ? `${signal}: stopping sweep ${sweepId} after its trials' current batch, then exiting (${signal} again kills them)`
            : `${signal}: exiting`,
      );
      void shutdownAll(host, options.sweeps, {
        timeoutMs,
        reason: `${options.name ?? 'the host'} received ${signal}`,
      })
        .then((outcome: ShutdownOutcome) => {
          if (outcome === 'killed')
            log(`the run did not stop within ${timeoutMs / 1000} s and was killed`);
          return close();
        })
        .catch((error: unknown) => log(`shutting down: ${(error as Error).message}`))
        .finally(() => exitOnce(killedBy ? signalExitCode(killedBy) : 0));
    },
    kill: (signal) => {
      killedBy = signal;
      log(`${signal}: killing the training worker`);
      void Promise.all([host.kill(), options.sweeps?.kill()]).finally(() =>
        exitOnce(signalExitCode(signal)),
      );
    },
  });
}
