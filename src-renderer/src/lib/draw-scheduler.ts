/**
 * When the Draw panel asks the model: as soon as the drawing changes, at most once per animation
 * frame, and with at most one predict request in flight. Changes that arrive while a request is
 * out are folded into one "dirty" flag and predicted once it returns, so a fast stroke never
 * builds a backlog: the model always answers about the newest drawing.
 *
 * It also measures what the user feels: from the first pointer event that the shown prediction
 * does not yet reflect, to the moment the prediction that does reflect it is in the DOM.
 */

export interface LatencySample {
  /** Pointer event → new prediction in the DOM (ms). */
  shown: number;
  /** Pointer event → the next animation frame after that, i.e. when it is painted (ms). */
  painted: number | null;
  /**
   * Painted in the first frame after the pointer event, the frame that also shows the ink that
   * event drew: the prediction did not lag the stroke at all. The display's own wait for that
   * frame (up to one refresh) is in `painted` but no computation can remove it.
   */
  sameFrame: boolean | null;
}

export interface SchedulerOptions {
  /**
   * Predicts the drawing as it is now and shows the answer; resolves true once a prediction is
   * in the DOM, false when there was nothing to show (empty pad, no model, a stale answer).
   */
  predict: () => Promise<boolean>;
  requestFrame?: (callback: () => void) => void;
  now?: () => number;
  onSample?: (sample: LatencySample) => void;
  onError?: (error: Error) => void;
}

/** Notes when the first animation frame after a pointer event runs its callbacks. */
interface FrameProbe {
  ranAt: number | null;
  then: ((ranAt: number) => void)[];
}

export class PredictScheduler {
  private readonly predict: () => Promise<boolean>;
  private readonly requestFrame: (callback: () => void) => void;
  private readonly now: () => number;
  private readonly onSample: (sample: LatencySample) => void;
  private readonly onError: (error: Error) => void;
  private inFlight = false;
  private dirty = false;
  /** A prediction already started in the current animation frame. */
  private frameUsed = false;
  private frameRequested = false;
  /** Time of the oldest change not yet sent to the model (null: none, or not a pointer's). */
  private pendingSince: number | null = null;
  /** The first frame after that change (see LatencySample.sameFrame). */
  private pendingFrame: FrameProbe | null = null;
  /** Bumped by cancel(): answers to older requests are not measured. */
  private epoch = 0;
  /** Requests started, for tests and diagnostics. */
  started = 0;

  constructor(options: SchedulerOptions) {
    this.predict = options.predict;
    this.requestFrame =
      options.requestFrame ?? ((callback) => void requestAnimationFrame(() => callback()));
    this.now = options.now ?? (() => performance.now());
    this.onSample = options.onSample ?? (() => undefined);
    this.onError = options.onError ?? (() => undefined);
  }

  get busy(): boolean {
    return this.inFlight;
  }

  /**
   * The drawing (or the model) changed. `at` is when the pointer event that changed it arrived,
   * to measure latency; null for changes no pointer made (a new model).
   */
  invalidate(at: number | null = null): void {
    this.dirty = true;
    if (at !== null && this.pendingSince === null) {
      this.pendingSince = at;
      const probe: FrameProbe = { ranAt: null, then: [] };
      this.pendingFrame = probe;
      this.requestFrame(() => {
        probe.ranAt = this.now();
        probe.then.forEach((f) => f(probe.ranAt!));
      });
    }
    this.pump();
  }

  /** Forget pending work (the pad was cleared); an answer in flight is no longer measured. */
  cancel(): void {
    this.dirty = false;
    this.pendingSince = null;
    this.pendingFrame = null;
    this.epoch++;
  }

  private pump(): void {
    if (!this.dirty || this.inFlight) return;
    if (this.frameUsed) {
      this.waitForFrame();
      return;
    }
    void this.run();
  }

  private waitForFrame(): void {
    if (this.frameRequested) return;
    this.frameRequested = true;
    this.requestFrame(() => {
      this.frameRequested = false;
      this.frameUsed = false;
      this.pump();
    });
  }

  private async run(): Promise<void> {
    this.dirty = false;
    this.inFlight = true;
    this.frameUsed = true;
    this.waitForFrame();
    this.started++;
    const since = this.pendingSince;
    const firstFrame = this.pendingFrame;
    this.pendingSince = null;
    this.pendingFrame = null;
    const epoch = this.epoch;
    try {
      const shown = await this.predict();
      if (shown && since !== null && epoch === this.epoch) this.measure(since, firstFrame);
    } catch (error) {
      this.onError(error instanceof Error ? error : new Error(String(error)));
    } finally {
      this.inFlight = false;
    }
    this.pump();
  }

  private measure(since: number, firstFrame: FrameProbe | null): void {
    const shown = this.now() - since;
    if (firstFrame && firstFrame.ranAt === null) {
      // The stroke's own frame has not run its callbacks yet (or is running them: the probe was
      // requested after ours), so it paints this prediction together with the ink.
      firstFrame.then.push((at) => this.onSample({ shown, painted: at - since, sameFrame: true }));
      return;
    }
    this.requestFrame(() =>
      this.onSample({
        shown,
        painted: this.now() - since,
        sameFrame: firstFrame ? false : null,
      }),
    );
  }
}

/** Nearest-rank percentile (q in [0, 1]) of the samples; null when there are none. */
export function percentile(samples: readonly number[], q: number): number | null {
  if (!samples.length) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

/** The most recent latency samples (a bounded window, so a long session does not grow it). */
export class LatencyLog {
  readonly shown: number[] = [];
  readonly painted: number[] = [];
  /** 1 for a prediction painted with its stroke's frame, 0 for a later one. */
  readonly sameFrame: number[] = [];
  /** Samples ever added (the window keeps the last `capacity`). */
  total = 0;

  constructor(private readonly capacity = 2000) {}

  add(sample: LatencySample): void {
    this.total++;
    push(this.shown, sample.shown, this.capacity);
    if (sample.painted !== null) push(this.painted, sample.painted, this.capacity);
    if (sample.sameFrame !== null) push(this.sameFrame, sample.sameFrame ? 1 : 0, this.capacity);
  }

  clear(): void {
    this.total = 0;
    this.shown.length = 0;
    this.painted.length = 0;
    this.sameFrame.length = 0;
  }
}

/**
 * The log as `data-*` values (milliseconds, two decimals) for the Draw panel's hidden latency
 * element, which the e2e latency checks read.
 */
export function latencyDataset(log: LatencyLog): Record<string, string> {
  const ms = (v: number | null) => (v === null ? '' : v.toFixed(2));
  const same = log.sameFrame;
  return {
    count: String(log.total),
    p50: ms(percentile(log.shown, 0.5)),
    p95: ms(percentile(log.shown, 0.95)),
    paintedP95: ms(percentile(log.painted, 0.95)),
    samples: log.shown.map(ms).join(' '),
    paintedSamples: log.painted.map(ms).join(' '),
    sameFrame: same.length ? (same.reduce((a, b) => a + b, 0) / same.length).toFixed(4) : '',
    sameFrameSamples: same.join(''),
  };
}

function push(list: number[], value: number, capacity: number): void {
  list.push(value);
  if (list.length > capacity) list.splice(0, list.length - capacity);
}
