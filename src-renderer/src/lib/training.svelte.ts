import type { ClientEvent, StudioApi } from '$contract/api';
import type { TrainConfig } from '$contract/config';
import type { BackendInfo, EpochMetrics } from '$contract/messages';
import { estimateRemaining } from './format';

/**
 * The state of training as the UI shows it, fed by worker events. Charts are not here: each
 * event is passed on to them (feedCharts) once this state has taken it in, and they append
 * points themselves, so a long run never re-renders its history through Svelte.
 */

export type Phase =
  'idle' | 'starting' | 'training' | 'stopping' | 'finished' | 'stopped' | 'error';

export class TrainingState {
  phase = $state<Phase>('idle');
  // Until the worker reports its backend nothing can start: the badge says so too.
  message = $state('Starting the engine…');
  backend = $state<BackendInfo | null>(null);
  runId = $state<string | null>(null);
  config = $state<TrainConfig | null>(null);
  startEpoch = $state(1);
  epoch = $state(0);
  batch = $state(0);
  batches = $state(0);
  epochs = $state<EpochMetrics[]>([]);
  lastLoss = $state<number | null>(null);
  lastAccuracy = $state<number | null>(null);
  startedAt = $state<number | null>(null);
  now = $state(Date.now());
  /** A run's batch events from before this page opened (sync), for the charts to draw once. */
  batchHistory = $state.raw<Extract<ClientEvent, { type: 'batch' }>[]>([]);

  constructor(private readonly api: StudioApi) {}

  get active(): boolean {
    return this.phase === 'starting' || this.phase === 'training' || this.phase === 'stopping';
  }

  /** Fraction of the current epoch done, 0–1. */
  get epochFraction(): number {
    return this.batches ? this.batch / this.batches : 0;
  }

  /** Fraction of the whole run done (a resumed run counts from where it resumed). */
  get runFraction(): number {
    if (!this.config) return 0;
    const total = this.config.epochs - this.startEpoch + 1;
    const done = Math.max(0, this.epoch - this.startEpoch) + this.epochFraction;
    return total > 0 ? Math.min(1, done / total) : 0;
  }

  /** Seconds since the run started; 0 before one. */
  get elapsed(): number {
    return this.startedAt ? (this.now - this.startedAt) / 1000 : 0;
  }

  /** Seconds the run has left at its pace so far; null when none trains or it is too early. */
  get remaining(): number | null {
    return this.active ? estimateRemaining(this.runFraction, this.elapsed) : null;
  }

  /** The run's best validation accuracy so far; null before its first validated epoch. */
  get bestValAccuracy(): number | null {
    return this.epochs.reduce<number | null>(
      (best, e) =>
        e.valAccuracy !== null && (best === null || e.valAccuracy > best) ? e.valAccuracy : best,
      null,
    );
  }

  /** The charts' feeds: plain callbacks, not state, so a point added re-renders nothing. */
  #chartFeeds: ((event: ClientEvent) => void)[] = [];

  /** Passes every event on to `feed` after this state has taken it in; returns the unsubscribe. */
  feedCharts(feed: (event: ClientEvent) => void): () => void {
    this.#chartFeeds = [...this.#chartFeeds, feed];
    return () => {
      this.#chartFeeds = this.#chartFeeds.filter((f) => f !== feed);
    };
  }

  handle(event: ClientEvent): void {
    this.update(event);
    for (const feed of this.#chartFeeds) feed(event);
  }

  private update(event: ClientEvent): void {
    switch (event.type) {
      case 'ready':
        this.backend = event.backend;
        this.engineReady();
        break;
      case 'started':
        this.phase = 'training';
        this.runId = event.runId;
        this.config = event.config;
        this.backend = event.backend;
        this.startEpoch = event.startEpoch;
        this.epoch = event.startEpoch;
        this.batch = 0;
        this.batches = event.batchesPerEpoch;
        this.epochs = [];
        this.startedAt = event.at ?? Date.now();
        this.message = [
          `Training ${event.config.model} on ${event.trainSize.toLocaleString()} images (${event.validationSize.toLocaleString()} for validation).`,
          ...(event.notices ?? []).map((notice) => `${capitalise(notice)}.`),
        ].join(' ');
        break;
      case 'batch':
        if (event.runId !== this.runId) break;
        this.epoch = event.epoch;
        this.batch = event.batch;
        this.batches = event.batches;
        this.lastLoss = event.loss;
        this.lastAccuracy = event.accuracy;
        this.now = Date.now();
        break;
      case 'epoch':
        if (event.runId !== this.runId) break;
        this.epochs = [...this.epochs, event];
        this.message = `Epoch ${event.epoch} done in ${event.seconds.toFixed(1)} s — validation accuracy ${event.valAccuracy === null ? '–' : (event.valAccuracy * 100).toFixed(2) + ' %'}.`;
        break;
      case 'finished':
        if (event.runId !== this.runId) break;
        this.phase = 'finished';
        this.batch = this.batches;
        this.epoch = event.epochs;
        this.message = `Finished ${count(event.epochs, 'epoch')}. Checkpoints saved in run ${event.runId}.`;
        break;
      case 'stopped':
        if (event.runId !== this.runId) break;
        this.phase = 'stopped';
        this.message =
          event.epoch === 0
            ? 'Stopped during the first epoch, before any checkpoint was written.'
            : `Stopped. The last checkpoint is epoch ${event.epoch}; the partial epoch after it was discarded.`;
        break;
      case 'error':
        if (event.fatal || event.runId === this.runId || event.runId === null) {
          if (this.active || event.fatal) this.phase = 'error';
          this.message = event.fatal
            ? `${capitalise(event.message)}. The next action starts a fresh worker.`
            : event.runId !== null
              ? this.runFailed(event.message)
              : capitalise(event.message);
        }
        break;
    }
  }

  /** An error naming this run ended it: say so, why, and what it kept. */
  private runFailed(reason: string): string {
    const last = this.epochs.at(-1)?.epoch ?? this.startEpoch - 1;
    const kept =
      last > 0 ? `The last checkpoint is epoch ${last}.` : 'No checkpoint of this run was written.';
    return `Training failed: ${reason}. ${kept}`;
  }

  /** The engine answered: say so, unless a run's own message is showing. */
  private engineReady(): void {
    if (this.phase === 'idle') this.message = 'Ready.';
  }

  async start(config: TrainConfig): Promise<void> {
    this.phase = 'starting';
    this.message = 'Starting…';
    // The previous run's numbers would read as this run's until its first batch.
    this.runId = null;
    this.config = config;
    this.startEpoch = 1;
    this.epoch = 0;
    this.batch = 0;
    this.batches = 0;
    this.epochs = [];
    this.lastLoss = null;
    this.lastAccuracy = null;
    this.startedAt = null;
    try {
      const { runId } = await this.api.request({ type: 'train', config });
      this.runId = runId;
    } catch (error) {
      // Events are authoritative: if the run already started (and then died), keep their message.
      if (this.phase !== 'starting') return;
      this.phase = 'error';
      this.message = capitalise((error as Error).message);
    }
  }

  async stop(): Promise<void> {
    if (!this.active) return;
    this.phase = 'stopping';
    this.message = 'Stopping after the current batch…';
    try {
      await this.api.request({ type: 'stop' });
    } catch (error) {
      this.message = capitalise((error as Error).message);
    }
  }

  /** Catches up after a reload: the backend, and a run that is already training. */
  async sync(): Promise<void> {
    try {
      const status = await this.api.request({ type: 'status' });
      if (status.backend) {
        this.backend = status.backend;
        this.engineReady();
      }
      if (status.activeRun) {
        // Replayed into the state only: the charts draw a run's past from batchHistory and the
        // run's metrics log, once, not as if it were live.
        this.update(status.activeRun);
        this.batchHistory = status.activeRunBatches.filter(
          (b) => b.runId === status.activeRun?.runId,
        );
        const last = this.batchHistory.at(-1);
        if (last) this.update(last);
      } else if (this.active) {
        // Its end came while this page was disconnected (a restarted server stops its worker).
        this.phase = 'stopped';
        this.message =
          'This run is no longer training: the server stopped while this page was disconnected. Its checkpoints are in the Checkpoints panel.';
      }
    } catch (error) {
      this.message = capitalise((error as Error).message);
    }
  }
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** "1 epoch", "3 epochs". */
export const count = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;
