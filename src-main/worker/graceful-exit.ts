import type { WorkerEvent } from '../contract/messages';

/**
 * How the worker leaves when no host will tell it to: the host went away (its IPC channel
 * closed: it crashed, or was killed with SIGKILL) or SIGTERM/SIGHUP was sent to the worker
 * itself (a service manager, a closed terminal). A run in progress stops after its current batch,
 * as if the user had pressed Stop, so run.json says `stopped` and every finished epoch's
 * checkpoint stands; then the process exits. A worker never trains on without a host.
 */

/** Request id of the worker's own stop: above any the host hands out, and never forwarded. */
export const OWN_STOP_REQUEST_ID = Number.MAX_SAFE_INTEGER;

/**
 * A batch takes well under a second for the presets, an epoch's validation and checkpoint a few
 * seconds; past this the run is taken as stuck, and the worker exits without it (a later
 * listing shows the run crashed, as its pid is gone).
 */
export const STOP_GRACE_MS = 30_000;

export interface GracefulExitOptions {
  /** Runs one command through the service, as the host's commands are. */
  handle: (command: unknown) => Promise<void>;
  /** Resolves once a `train` or `resume` being handled now (if any) has started its run. */
  runStarted: () => Promise<void>;
  exit: (code: number) => void;
  log: (line: string) => void;
  graceMs?: number;
}

export class GracefulExit {
  private reason: string | null = null;
  private onStopReply: ((stopping: boolean) => void) | null = null;
  private onRunEnd: (() => void) | null = null;

  constructor(private readonly options: GracefulExitOptions) {}

  /** True once leaving: commands that arrive later are not run. */
  get leaving(): boolean {
    return this.reason !== null;
  }

  /**
   * Sees every outgoing event; returns false for the answer to the worker's own stop, which is
   * not the host's business.
   */
  observe(event: WorkerEvent): boolean {
    if (event.type === 'reply' && event.requestId === OWN_STOP_REQUEST_ID) {
      const result = event.result as { stopping?: unknown } | null;
      this.onStopReply?.(result?.stopping === true);
      return false;
    }
    const endsRun =
      event.type === 'finished' ||
      event.type === 'stopped' ||
      (event.type === 'error' && event.runId !== null);
    if (endsRun) this.onRunEnd?.();
    return true;
  }

  /** Stops the run (if any) after its current batch, then exits. Later calls change nothing. */
  async leave(reason: string): Promise<void> {
    if (this.reason !== null) return;
    this.reason = reason;
    const { graceMs = STOP_GRACE_MS, log, exit } = this.options;
    log(`worker stopping: ${reason}`);
    const timer = setTimeout(() => {
      log(`worker exiting: the run did not stop within ${graceMs / 1000} s`);
      exit(1);
    }, graceMs);
    // A `train` that is being handled returns once its run has started: stop that run, not
    // nothing. Other commands are not waited for (an evaluation takes seconds and its answer has
    // nobody to go to), and those queued are dropped (see `leaving`).
    await this.options.runStarted();
    const ended = new Promise<void>((resolve) => (this.onRunEnd = resolve));
    const stopping = await new Promise<boolean>((resolve) => {
      this.onStopReply = resolve;
      void this.options.handle({
        type: 'stop',
        requestId: OWN_STOP_REQUEST_ID,
        reason: `the worker left: ${reason}`,
      });
    });
    if (stopping) await ended;
    clearTimeout(timer);
    exit(0);
  }
}
