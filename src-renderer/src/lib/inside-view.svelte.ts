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

export type InsideStatus = 'no-model' | 'loading' | 'empty' | 'ready';

/**
 * A look inside the window's model for the drawing on the pad (model-inspect.ts), a few times a
 * second at most and after the prediction has been painted: the pad's same-frame answer never
 * waits for it. Activations follow the pen; integrated gradients, far dearer on a CNN (~0.5 s for
 * cnn-fast in Chromium), wait until the pen has rested `quiet` ms, so they do not fall between
 * the strokes of one digit. Results for an earlier drawing or model are dropped.
 */
export class InsideView {
  activations = $state.raw<LayerActivation[] | null>(null);
  saliency = $state.raw<Saliency | null>(null);
  /** The 28×28 input the saliency explains (the view draws it under the overlay). */
  saliencyInput = $state.raw<Float32Array | null>(null);
  /** Activations have moved on since the saliency was computed (the pen is down). */
  saliencyStale = $state(false);
  filters = $state.raw<Filters | null>(null);
  /** Cost of the last look (ms), saliency included or not. */
  activationsMs = $state<number | null>(null);
  saliencyMs = $state<number | null>(null);
  error = $state<string | null>(null);
  status = $state<InsideStatus>('no-model');

  #pixels: Float32Array | null = null;
  readonly #throttle: Throttle;
  /** The model whose filters are shown, so they are read once per model. */
  #filtersOf: LocalModel | null = null;
  #resultsOf: LocalModel | null = null;
  #liftedAt = -Infinity;
  #quietTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly quiet: number;

  constructor(
    private readonly source: () => InsideSource,
    options: {
      interval?: number;
      /** Runs a task after the next paint (tests run it at once). */
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

  private readonly now: () => number;

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
    const explain = !drawing && start - this.#liftedAt >= this.quiet;
    const result = this.#safely(() => model.inspect(pixels, explain));
    if (!result) return;
    const end = this.now();
    this.activations = result.activations;
    if (result.saliency) {
      this.saliency = result.saliency;
      this.saliencyInput = pixels;
      this.saliencyStale = false;
      this.saliencyMs = end - start;
    } else {
      this.saliencyStale = this.saliency !== null;
      this.activationsMs = end - start;
    }
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
