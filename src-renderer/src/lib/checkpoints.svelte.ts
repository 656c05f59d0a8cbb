import type {
  ClientEvent,
  ExportCheckpointRequest,
  ExportOutcome,
  Status,
  StudioApi,
} from '$contract/api';
import type { CheckpointInfo, Restored, RunInfo } from '$contract/messages';

/**
 * Runs and checkpoints as the panels see them, and which checkpoint the Draw and Evaluate panels
 * use: the one the user restored, or else the finished runs' checkpoint with the best validation
 * accuracy (the newest finished run was a poor default: a quick CNN test run displaced a better
 * MLP). The list refreshes itself on the worker's events, so it follows a run while it writes
 * checkpoints.
 */

export interface ModelChoice {
  runId: string;
  epoch: number;
  model: string;
  valAccuracy: number | null;
  /**
   * 'restored': chosen by the user; 'best': the default when nothing was restored, the finished
   * runs' checkpoint with the best validation accuracy.
   */
  source: 'restored' | 'best';
}

/**
 * Events after which the listing on disk has changed. A sweep's trials train in workers of their
 * own, whose events stay in the host: the sweep's view, sent as a trial starts, scores an epoch
 * (its checkpoint written) or ends, stands for them.
 */
const CHANGES_LISTING = new Set<ClientEvent['type']>([
  'started',
  'checkpoint',
  'finished',
  'stopped',
  'error',
  'sweep',
  'sweepDeleted',
]);

const COMPARED_KEY = 'mnist-studio.compared';

/** The runs ticked for comparison before the page was reloaded; anything unreadable is none. */
function loadCompared(): string[] {
  try {
    const parsed: unknown = JSON.parse(globalThis.localStorage?.getItem(COMPARED_KEY) ?? '[]');
    return Array.isArray(parsed) ? parsed.filter((id): id is string => typeof id === 'string') : [];
  } catch {
    return [];
  }
}

const okCheckpoints = (run: RunInfo): CheckpointInfo[] =>
  run.checkpoints.filter((c) => c.status === 'ok');

/** A run, or one checkpoint of it (epoch), as a delete names them. */
export interface Removal {
  runId: string;
  epoch: number | null;
}

const removes = (removal: Removal | null, runId: string, epoch: number) =>
  removal !== null &&
  removal.runId === runId &&
  (removal.epoch === null || removal.epoch === epoch);

/**
 * The default model: the valid checkpoint of a finished run with the best validation accuracy
 * (one without a validation set counts below any with one); on a tie the newest run's latest
 * epoch. `without` leaves out what a pending delete would remove.
 */
export function bestFinished(
  runs: readonly RunInfo[],
  without: Removal | null = null,
): ModelChoice | null {
  let best: ModelChoice | null = null;
  // Runs arrive newest first; a later candidate must be strictly better to win.
  for (const run of runs) {
    if (run.status !== 'finished') continue;
    for (const cp of [...okCheckpoints(run)].reverse()) {
      if (removes(without, run.runId, cp.epoch)) continue;
      const valAccuracy = cp.metrics?.valAccuracy ?? null;
      if (best === null || (valAccuracy ?? -1) > (best.valAccuracy ?? -1))
        best = {
          runId: run.runId,
          epoch: cp.epoch,
          model: run.model ?? 'unknown',
          valAccuracy,
          source: 'best',
        };
    }
  }
  return best;
}

export class CheckpointsState {
  runs = $state<RunInfo[]>([]);
  loaded = $state(false);
  /** Last failure of a listing or an action, shown in the panel; null when all is well. */
  error = $state<string | null>(null);
  restored = $state<Restored | null>(null);
  /** Run ids whose curves are overlaid for comparison. */
  compared = $state<string[]>(loadCompared());
  private refreshing: Promise<void> | null = null;
  private again = false;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly api: StudioApi,
    /** Coalesces bursts of events (epoch + checkpoint arrive together) into one listing. */
    private readonly debounceMs = 150,
  ) {}

  /** The checkpoint drawing and evaluation use, or null when there is none yet. */
  get model(): ModelChoice | null {
    const r = this.restored;
    if (r) {
      const run = this.runs.find((x) => x.runId === r.runId);
      const cp = run?.checkpoints.find((c) => c.epoch === r.epoch);
      // Until the first listing arrives, trust the host; afterwards the files must still be there.
      if (!this.loaded || cp?.status === 'ok')
        return {
          runId: r.runId,
          epoch: r.epoch,
          model: r.model,
          valAccuracy: cp?.metrics?.valAccuracy ?? r.metrics?.valAccuracy ?? null,
          source: 'restored',
        };
    }
    return bestFinished(this.runs);
  }

  /** What drawing and evaluation would use once `removal` is deleted. */
  modelAfter(removal: Removal): ModelChoice | null {
    const current = this.model;
    if (current && !removes(removal, current.runId, current.epoch)) return current;
    return bestFinished(this.runs, removal);
  }

  handle(event: ClientEvent): void {
    if (CHANGES_LISTING.has(event.type)) this.scheduleRefresh();
  }

  /** First load, and after a reload: the host remembers what was restored. */
  async sync(): Promise<void> {
    try {
      const status: Status = await this.api.request({ type: 'status' });
      this.restored = status.restored;
    } catch (error) {
      this.error = capitalise((error as Error).message);
    }
    await this.refresh();
  }

  scheduleRefresh(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.refresh();
    }, this.debounceMs);
  }

  /** One listing at a time; a request during one runs once more after it, never in parallel. */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.again = false;
        try {
          const { runs } = await this.api.request({ type: 'listRuns' });
          this.runs = runs;
          this.loaded = true;
          this.setCompared(this.compared.filter((id) => runs.some((r) => r.runId === id)));
        } catch (error) {
          this.error = `Could not list checkpoints: ${(error as Error).message}`;
        }
      } while (this.again);
      this.refreshing = null;
    })();
    return this.refreshing;
  }

  async restore(runId: string, epoch: number): Promise<boolean> {
    return this.act(async () => {
      this.restored = await this.api.request({ type: 'restore', runId, epoch });
    });
  }

  /** Resumes training from a checkpoint; the result names the run that continues (maybe a new one). */
  async resume(runId: string, epoch: number, epochs: number): Promise<string | null> {
    let continued: string | null = null;
    await this.act(async () => {
      continued = (await this.api.request({ type: 'resume', runId, epoch, epochs })).runId;
    });
    return continued;
  }

  /** Deletes a checkpoint, or the whole run when epoch is null. */
  async remove(runId: string, epoch: number | null): Promise<boolean> {
    const done = await this.act(async () => {
      await this.api.request({ type: 'deleteRun', runId, epoch });
      const r = this.restored;
      if (r && r.runId === runId && (epoch === null || epoch === r.epoch)) this.restored = null;
    });
    await this.refresh();
    return done;
  }

  /**
   * Deletes a sweep no process drives and, with `runs`, its trial runs; the list refreshes
   * either way, as a refusal may come after some trial runs were already gone.
   */
  async removeSweep(sweepId: string, runs: boolean): Promise<boolean> {
    const done = await this.act(async () => {
      const { runsDeleted } = await this.api.request({ type: 'deleteSweep', sweepId, runs });
      const r = this.restored;
      if (r && runsDeleted.includes(r.runId)) this.restored = null;
    });
    await this.refresh();
    return done;
  }

  /** Names a run (blank clears the name); the listing shows it once saved. */
  async rename(runId: string, name: string): Promise<boolean> {
    const done = await this.act(async () => {
      await this.api.request({ type: 'renameRun', runId, name });
    });
    await this.refresh();
    return done;
  }

  /**
   * Exports a checkpoint where the host puts it (a save dialog, or a download in serve mode).
   * Errors are thrown, not kept in `error`: the export dialog shows them and stays open.
   */
  exportCheckpoint(request: Omit<ExportCheckpointRequest, 'type'>): Promise<ExportOutcome> {
    return this.api.request({ type: 'exportCheckpoint', ...request });
  }

  toggleCompared(runId: string): void {
    this.setCompared(
      this.compared.includes(runId)
        ? this.compared.filter((id) => id !== runId)
        : [...this.compared, runId],
    );
  }

  /** The ticks outlive a reload of the page (this window's storage; nothing leaves it). */
  private setCompared(ids: string[]): void {
    this.compared = ids;
    try {
      globalThis.localStorage?.setItem(COMPARED_KEY, JSON.stringify(ids));
    } catch {
      // Storage full or disabled: the ticks last as long as the page.
    }
  }

  private async act(action: () => Promise<void>): Promise<boolean> {
    this.error = null;
    try {
      await action();
      return true;
    } catch (error) {
      this.error = capitalise((error as Error).message);
      return false;
    }
  }
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
