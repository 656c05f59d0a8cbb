import type { ClientEvent, ResumableSweep, StudioApi } from '$contract/api';
import { MAX_EPOCHS, type TrainConfig } from '$contract/config';
import type { SweepSpec } from '$contract/sweep';
import type { SweepView, TrialView } from '$contract/sweep-view';

/**
 * The sweep as the Sweep panel shows it. The host's `sweep` events are the truth: each carries
 * the whole view after a write of the journal, so this state only keeps the latest and what the
 * user asked for that the host has not answered yet.
 */
export class SweepState {
  /** The running sweep, else the last one the host ran; null before the first. */
  sweep = $state<SweepView | null>(null);
  /** Stopped or interrupted sweeps on disk that Resume can take up. */
  resumable = $state<ResumableSweep[]>([]);
  starting = $state(false);
  stopping = $state(false);
  error = $state<string | null>(null);

  constructor(private readonly api: StudioApi) {}

  get running(): boolean {
    return this.sweep?.status === 'running';
  }

  handle(event: ClientEvent): void {
    if (event.type === 'sweepDeleted') {
      this.resumable = this.resumable.filter((s) => s.sweepId !== event.sweepId);
      if (this.sweep?.id === event.sweepId) this.sweep = null;
      return;
    }
    if (event.type !== 'sweep') return;
    const wasRunning = this.running && this.sweep?.id === event.sweep.id;
    this.sweep = event.sweep;
    if (event.error) this.error = `The sweep failed: ${event.error}`;
    if (event.sweep.status !== 'running') {
      this.stopping = false;
      // A sweep that just stopped is one Resume can take up.
      if (wasRunning) void this.sync();
    }
  }

  /** On load and after a reconnect: the host's sweep, and the ones that could go on. */
  async sync(): Promise<void> {
    try {
      const status = await this.api.request({ type: 'sweepStatus' });
      this.sweep = status.sweep;
      this.resumable = status.resumable;
      if (!this.running) this.stopping = false;
    } catch (error) {
      this.error = capitalise((error as Error).message);
    }
  }

  async start(spec: SweepSpec): Promise<void> {
    await this.open(() => this.api.request({ type: 'startSweep', spec }));
  }

  async resume(sweepId: string): Promise<void> {
    await this.open(() => this.api.request({ type: 'resumeSweep', sweepId }));
  }

  async stop(): Promise<void> {
    if (!this.running || this.stopping) return;
    this.stopping = true;
    this.error = null;
    try {
      const { stopping } = await this.api.request({ type: 'stopSweep' });
      // Nothing was running any more: the event that ended it may still be on its way.
      if (!stopping) this.stopping = false;
    } catch (error) {
      this.stopping = false;
      this.error = capitalise((error as Error).message);
    }
  }

  private async open(request: () => Promise<SweepView>): Promise<void> {
    this.starting = true;
    this.error = null;
    try {
      const view = await request();
      // The host sends the sweep's first views before its answer: keep a newer one.
      if (this.sweep?.id !== view.id) this.sweep = view;
      this.resumable = this.resumable.filter((s) => s.sweepId !== view.id);
    } catch (error) {
      this.error = capitalise((error as Error).message);
    } finally {
      this.starting = false;
    }
  }
}

/**
 * "Train longer": the trial's own configuration as an ordinary run with twice its epochs, so the
 * curve the sweep cut at its budget can be seen going on.
 */
export function longerConfig(trial: TrialView): TrainConfig {
  return { ...trial.config, epochs: Math.min(MAX_EPOCHS, trial.config.epochs * 2) };
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
