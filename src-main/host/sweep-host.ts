import type {
  ResumableSweep,
  SweepDeletedEvent,
  SweepStatus,
  SweepViewEvent,
} from '../contract/api';
import type { BackendChoice } from '../contract/config';
import type { SweepSpec } from '../contract/sweep';
import type { SweepView } from '../contract/sweep-view';
import { deleteSweep, listSweeps, sweepRuns } from '../engine/sweeps/catalog';
import { readSweepJournal, type SweepJournal } from '../engine/sweeps/journal';
import {
  resumeSweep,
  startSweep,
  type SweepRunnerOptions,
  type SweepSession,
} from '../engine/sweeps/runner';
import { sweepView } from '../engine/sweeps/view';
import { LocalTrialLauncher } from './trial-launcher';
import type { SpawnWorker } from './worker-handle';
import { HostCommandError, type ShutdownOutcome } from './worker-host';

/**
 * The app's sweeps (the desktop app and serve mode): at most one at a time, its trials in worker
 * processes of their own started with the app's own SpawnWorker, and the sweep as the Sweep panel
 * draws it sent after every write of its journal. A sweep never runs beside a run the user
 * trains: both would share the same cores and each would report the other's slowness as its own.
 */

export interface SweepHostOptions {
  spawn: SpawnWorker;
  checkpointsDir: string;
  dataDir: string | null;
  backend: BackendChoice;
  /** Built gradient-thread entry for a bundled app; default the source file. */
  threadEntry?: string;
  /** Names the app in the sweep's lock and, with ", a trial", in its runs' locks. */
  owner: string | (() => string);
  onEvent: (event: SweepViewEvent | SweepDeletedEvent) => void;
  /** What the app's own worker trains, in words, or null: a sweep does not start beside it. */
  trainingNow: () => string | null;
  /** Cores the 'auto' parallelism shares (default: this machine's). */
  cores?: number;
}

export class SweepHost {
  private session: SweepSession | null = null;
  /** The running sweep's view, else the last one's: what a page that opens is shown. */
  private lastView: SweepView | null = null;
  private closed = false;

  constructor(private readonly options: SweepHostOptions) {}

  /** The running sweep's id, or null. */
  get running(): string | null {
    return this.session?.sweepId ?? null;
  }

  status(): SweepStatus {
    return { sweep: this.lastView, resumable: this.resumable() };
  }

  /** Starts a sweep; throws, starting nothing, when one runs, a run trains, or the spec is bad. */
  start(spec: SweepSpec): SweepView {
    return this.begin((options) => startSweep(spec, options));
  }

  /** Takes up a stopped or interrupted sweep from its journal, as `sweep resume` does. */
  resume(sweepId: string): SweepView {
    return this.begin((options) => resumeSweep(sweepId, options));
  }

  /**
   * Stops every trial after its current batch; the journal ends `stopped`, resumable. Resolves
   * false when no sweep runs, else true once the sweep has ended.
   */
  async stop(reason = 'the sweep was stopped from the app'): Promise<boolean> {
    const session = this.session;
    if (!session) return false;
    await session.stop(reason).catch(() => undefined);
    return true;
  }

  /**
   * Deletes a sweep no process drives and, with `runs`, its trial runs, then sends the status
   * again so the Resume list and the Checkpoints panel drop it. Refused while this host runs it,
   * or while the app's worker trains one of its trials (its lock would stop the delete midway).
   */
  delete(sweepId: string, runs: boolean): { sweepId: string; runsDeleted: string[] } {
    if (this.closed) throw new HostCommandError('the host is shutting down');
    if (this.session?.sweepId === sweepId)
      throw new HostCommandError(`sweep ${sweepId} is running; stop it first`);
    const { checkpointsDir } = this.options;
    // trainingNow speaks in words ("run <id>"); a run still starting has no id yet: refused too.
    const busy = this.options.trainingNow();
    if (
      busy !== null &&
      (!busy.startsWith('run ') ||
        sweepRuns(checkpointsDir, sweepId).some((id) => busy === `run ${id}`))
    )
      throw new HostCommandError(
        `${busy} is training; stop it or let it finish before deleting sweep ${sweepId}`,
      );
    let result;
    try {
      result = deleteSweep(checkpointsDir, sweepId, { runs, owner: this.owner() });
    } catch (error) {
      // The engine's own words name the problem (not found, locked by another process).
      throw new HostCommandError((error as Error).message);
    }
    if (this.lastView?.id === sweepId) this.lastView = null;
    try {
      this.options.onEvent({ type: 'sweepDeleted', ...result });
    } catch (error) {
      // The sweep is gone either way; a window that went away reads the status when it returns.
      console.warn(`could not announce the deleted sweep: ${(error as Error).message}`);
    }
    return result;
  }

  /**
   * For an app that is going away: refuses new sweeps, stops the running one after its trials'
   * current batches, and kills the trials that have not stopped within `timeoutMs` (the journal
   * keeps them running, which a resume reads as interrupted: nothing is lost but their partial
   * epoch either way).
   */
  async shutdown({
    timeoutMs,
    reason,
  }: {
    timeoutMs: number;
    reason?: string;
  }): Promise<ShutdownOutcome> {
    this.closed = true;
    const session = this.session;
    if (!session) return 'idle';
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      session
        .stop(reason ?? 'the host shut down')
        .then((): ShutdownOutcome => 'stopped')
        .catch((): ShutdownOutcome => 'stopped'),
      new Promise<ShutdownOutcome>((resolve) => (timer = setTimeout(resolve, timeoutMs, 'killed'))),
    ]);
    clearTimeout(timer);
    if (outcome === 'killed') await session.kill();
    return outcome;
  }

  /** Kills every trial now (a second Ctrl-C): their runs are crashed, the sweep resumable. */
  async kill(): Promise<void> {
    this.closed = true;
    await this.session?.kill();
  }

  private begin(open: (options: SweepRunnerOptions) => SweepSession): SweepView {
    if (this.closed) throw new HostCommandError('the host is shutting down');
    if (this.session)
      throw new HostCommandError(
        `sweep ${this.session.sweepId} is running; stop it before starting another`,
      );
    const busy = this.options.trainingNow();
    if (busy)
      throw new HostCommandError(
        `${busy} is training; stop it or let it finish before starting a sweep`,
      );
    const { spawn, checkpointsDir, dataDir, backend, threadEntry } = this.options;
    const owner = this.owner();
    const launcher = new LocalTrialLauncher({
      spawn,
      checkpointsDir,
      dataDir,
      backend,
      threadEntry,
      owner: `${owner}, a trial`,
    });
    let session: SweepSession;
    try {
      session = open({
        root: checkpointsDir,
        launcher,
        owner,
        cores: this.options.cores,
        onJournal: (journal) => this.show(journal),
      });
    } catch (error) {
      void launcher.close();
      // The engine's own words name the problem (a locked sweep, a damaged journal).
      throw new HostCommandError((error as Error).message);
    }
    this.session = session;
    // The journal as created or resumed: the runner reports only the writes after this one.
    this.show(readSweepJournal(checkpointsDir, session.sweepId));
    session.done.then(
      () => this.ended(session, null),
      (error: unknown) =>
        this.ended(session, error instanceof Error ? error.message : String(error)),
    );
    return this.lastView!;
  }

  private owner(): string {
    return typeof this.options.owner === 'function' ? this.options.owner() : this.options.owner;
  }

  private ended(session: SweepSession, error: string | null): void {
    if (this.session === session) this.session = null;
    if (error === null || this.lastView === null) return;
    // The runner failed (its journal could not be written): the last view says what was done.
    this.options.onEvent({ type: 'sweep', sweep: this.lastView, error });
  }

  private show(journal: SweepJournal): void {
    const view = sweepView(journal);
    this.lastView = view;
    try {
      this.options.onEvent({ type: 'sweep', sweep: view, error: null });
    } catch (error) {
      // A window that went away must not end the sweep, whose journal has just been written.
      console.warn(`could not send the sweep's view: ${(error as Error).message}`);
    }
  }

  private resumable(): ResumableSweep[] {
    let listed;
    try {
      listed = listSweeps(this.options.checkpointsDir);
    } catch {
      return [];
    }
    return listed.flatMap((s): ResumableSweep[] =>
      s.sweepId !== this.running && (s.status === 'stopped' || s.status === 'interrupted')
        ? [
            {
              sweepId: s.sweepId,
              status: s.status,
              trials: Object.values(s.trials).reduce((a, b) => a + b, 0),
              createdAt: s.createdAt,
            },
          ]
        : [],
    );
  }
}
