/**
 * Runs a task at most once per `interval` ms, however often it is asked for: the first request
 * runs after `delay` ms, later ones are folded into one trailing run, so the last request is
 * always answered. The Draw panel's inside view uses it to look inside the model a few times a
 * second while the pen moves, after the prediction is painted, never in the same task.
 */

export interface ThrottleOptions {
  interval: number;
  /** Wait before a run even when the last one is long past (lets the browser paint first). */
  delay?: number;
  now?: () => number;
  setTimer?: (callback: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export class Throttle {
  private readonly interval: number;
  private readonly delay: number;
  private readonly now: () => number;
  private readonly setTimer: (callback: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;
  private timer: unknown = null;
  private lastRun = -Infinity;
  /** Runs so far, for tests and diagnostics. */
  runs = 0;

  constructor(
    private readonly task: () => void,
    options: ThrottleOptions,
  ) {
    this.interval = options.interval;
    this.delay = options.delay ?? 0;
    this.now = options.now ?? (() => performance.now());
    this.setTimer = options.setTimer ?? ((f, ms) => setTimeout(f, ms));
    this.clearTimer =
      options.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  }

  get pending(): boolean {
    return this.timer !== null;
  }

  request(): void {
    if (this.timer !== null) return;
    const wait = Math.max(this.delay, this.lastRun + this.interval - this.now());
    this.timer = this.setTimer(() => this.fire(), wait);
  }

  cancel(): void {
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
  }

  private fire(): void {
    this.timer = null;
    this.lastRun = this.now();
    this.runs++;
    this.task();
  }
}
