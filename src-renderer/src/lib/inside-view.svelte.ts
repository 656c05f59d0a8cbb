import type { LocalModel } from './local-model';
import type { Filters, LayerActivation, Saliency } from './model-inspect';
import { Throttle } from './throttle';

/** What the Draw panel's inside view is looking at right now. */
export interface InsideSource {
  /** The model in use, loaded in this window; null while it loads (or when there is none). */
  model: LocalModel | null;
  /** Whether there is a model in use at all (loaded here or not). */
  hasModel: boolean;
  /** The view is open and its panel shown: otherwise nothing is computed. */
  shown: boolean;
  /** The pen is down: saliency waits until it lifts. */
  drawing: boolean;
}

interface SaliencyJob {
  parts: Generator<void, Saliency, void>;
  model: LocalModel;
  pixels: Float32Array;
  /** Time spent in its parts so far, and in the longest (ms). */
  spent: number;
  longest: number;
}

export type InsideStatus = 'no-model' | 'loading' | 'empty' | 'ready';

/**
 * A look inside the window's model for the drawing on the pad (model-inspect.ts), a few times a
 * second at most and after the prediction has been painted: the pad's same-frame answer never
 * waits for it. Activations follow the pen; integrated gradients, far dearer on a CNN (0.1–0.6 s
 * in Chromium), wait until the pen has rested `quiet` ms, so they do not fall between the strokes
 * of one digit, and are computed a part per task, so a new stroke is answered after one part at
 * most and ends them. Results for an earlier drawing or model are dropped.
 */
export class InsideView {
  activations = $state.raw<LayerActivation[] | null>(null);
  saliency = $state.raw<Saliency | null>(null);
  /** The 28×28 input the saliency explains (the view draws it under the overlay). */
  saliencyInput = $state.raw<Float32Array | null>(null);
  /** Activations have moved on since the saliency was computed (the pen is down). */
  saliencyStale = $state(false);
  filters = $state.raw<Filters | null>(null);
  /** Cost of the last look at the activations, and of the last saliency (ms, its parts summed). */
  activationsMs = $state<number | null>(null);
  saliencyMs = $state<number | null>(null);
  /** The longest of its parts (ms): how long a stroke may wait for the page. */
  saliencyPartMs = $state<number | null>(null);
  error = $state<string | null>(null);
  status = $state<InsideStatus>('no-model');

  #pixels: Float32Array | null = null;
  readonly #throttle: Throttle;
  /** The model whose filters are shown, so they are read once per model. */
  #filtersOf: LocalModel | null = null;
  #resultsOf: LocalModel | null = null;
  #liftedAt = -Infinity;
  #quietTimer: ReturnType<typeof setTimeout> | null = null;
  /** The saliency being computed, part by part. */
  #job: SaliencyJob | null = null;
  private readonly quiet: number;
  private readonly now: () => number;

  constructor(
    private readonly source: () => InsideSource,
    options: {
      interval?: number;
      /** Runs a task after the next paint (tests pass a plain timer). */
      afterPaint?: (task: () => void) => void;
      now?: () => number;
      /** How long the pen must rest before the saliency is computed (ms). */
      quiet?: number;
    } = {},
  ) {
    const afterPaint =
      options.afterPaint ??
      ((task: () => void) => requestAnimationFrame(() => void setTimeout(task, 0)));
    this.now = options.now ?? (() => performance.now());
    this.quiet = options.quiet ?? 400;
    this.#throttle = new Throttle(() => afterPaint(() => this.#run()), {
      interval: options.interval ?? 250,
    });
  }

  /** The drawing is now this 28×28 input (null: nothing to read, e.g. empty or too small). */
  show(pixels: Float32Array | null): void {
    this.#pixels = pixels;
    if (!pixels) {
      this.#reset();
      this.#status();
      return;
    }
    this.refresh();
  }

  /** Something besides the drawing changed (the model, the pen, the view opened): look again. */
  refresh(): void {
    this.#status();
    const { shown, model } = this.source();
    if (shown && model && this.#pixels) this.#throttle.request();
  }

  /** The pen lifted: the saliency follows if it stays up. */
  penLifted(): void {
    this.#liftedAt = this.now();
    this.#cancelQuiet();
    this.#quietTimer = setTimeout(() => {
      this.#quietTimer = null;
      this.refresh();
    }, this.quiet);
    this.refresh();
  }

  #cancelQuiet(): void {
    if (this.#quietTimer) clearTimeout(this.#quietTimer);
    this.#quietTimer = null;
  }

  /** The pad was cleared or the model changed: whatever is shown or on its way is stale. */
  clear(): void {
    this.#pixels = null;
    this.#throttle.cancel();
    this.#cancelQuiet();
    this.#reset();
    this.#status();
  }

  #reset(): void {
    this.#job = null;
    this.activations = null;
    this.saliency = null;
    this.saliencyInput = null;
    this.saliencyStale = false;
    this.error = null;
  }

  #status(): void {
    const { model, hasModel } = this.source();
    this.status = !hasModel ? 'no-model' : !model ? 'loading' : this.#pixels ? 'ready' : 'empty';
    if (model !== this.#resultsOf) {
      this.#reset();
      this.#resultsOf = model;
    }
    if (model && model !== this.#filtersOf) {
      this.#filtersOf = model;
      // A cap, not a page: 512 templates of an MLP as wide as the form allows (4096) is 1.6 MB.
      this.filters = this.#safely(() => model.filters(512)) ?? null;
    } else if (!model) {
      this.#filtersOf = null;
      this.filters = null;
    }
  }

  #run(): void {
    const { model, shown, drawing } = this.source();
    const pixels = this.#pixels;
    // Cleared, hidden or the model gone between the request and now.
    if (!model || !shown || !pixels || model !== this.#resultsOf) return;
    const start = this.now();
    const result = this.#safely(() => model.inspect(pixels));
    if (!result) return;
    this.activationsMs = this.now() - start;
    this.activations = result.activations;
    const rested = !drawing && start - this.#liftedAt >= this.quiet;
    if (!rested) this.saliencyStale = this.saliency !== null;
    else if (this.saliencyInput !== pixels && this.#job?.pixels !== pixels) {
      this.#job = {
        parts: model.explain(pixels, result.digit),
        model,
        pixels,
        spent: 0,
        longest: 0,
      };
      this.#next(this.#job);
    }
  }

  /** One part of the saliency, in a task of its own, unless the drawing has moved on. */
  #next(job: SaliencyJob): void {
    setTimeout(() => {
      if (job !== this.#job) return;
      const { model, shown, drawing } = this.source();
      if (model !== job.model || !shown || drawing || this.#pixels !== job.pixels) {
        this.#job = null;
        this.saliencyStale = this.saliency !== null;
        return;
      }
      const start = this.now();
      const step = this.#safely(() => job.parts.next());
      const took = this.now() - start;
      job.spent += took;
      job.longest = Math.max(job.longest, took);
      if (!step) this.#job = null;
      else if (!step.done) this.#next(job);
      else {
        this.#job = null;
        this.saliency = step.value;
        this.saliencyInput = job.pixels;
        this.saliencyStale = false;
        this.saliencyMs = job.spent;
        this.saliencyPartMs = job.longest;
      }
    }, 0);
  }

  #safely<T>(f: () => T): T | undefined {
    try {
      const value = f();
      this.error = null;
      return value;
    } catch (e) {
      this.error = (e as Error).message;
      return undefined;
    }
  }
}
