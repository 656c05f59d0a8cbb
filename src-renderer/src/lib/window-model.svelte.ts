import type { StudioApi } from '$contract/api';
import { loadLocalModel, type LocalModel } from './local-model';

/**
 * The checkpoint's model loaded into this window, so the Draw panel answers in the same frame as
 * the stroke whatever the worker is doing (training keeps it busy between batches). Until it is
 * loaded, or if it cannot be, the worker answers instead.
 */
export class WindowModel {
  model = $state.raw<LocalModel | null>(null);
  state = $state<'none' | 'loading' | 'ready' | 'failed'>('none');
  /** The checkpoint being loaded: a later load or a release makes an earlier one's result moot. */
  #loading: string | null = null;

  constructor(
    private readonly api: StudioApi,
    private readonly load = loadLocalModel,
  ) {}

  /** Whether this checkpoint's model is the one loaded here. */
  holds(runId: string, epoch: number): boolean {
    return this.model?.runId === runId && this.model.epoch === epoch;
  }

  async use(runId: string, epoch: number): Promise<void> {
    const key = `${runId}@${epoch}`;
    if (this.holds(runId, epoch)) {
      // Back to the model already here: a load still on its way is for one no longer wanted.
      this.#loading = null;
      this.state = 'ready';
      return;
    }
    if (this.#loading === key) return;
    this.#loading = key;
    this.state = 'loading';
    try {
      const files = await this.api.request({ type: 'modelFiles', runId, epoch });
      const loaded = await this.load(files);
      if (this.#loading !== key) {
        loaded.dispose();
        return;
      }
      this.model?.dispose();
      this.model = loaded;
      this.state = 'ready';
    } catch (e) {
      if (this.#loading !== key) return;
      // Not an error for the user: the engine keeps answering, only less promptly.
      console.warn(`MNIST Studio: predicting in the engine: ${(e as Error).message}`);
      this.state = 'failed';
    }
  }

  release(): void {
    this.#loading = null;
    this.model?.dispose();
    this.model = null;
    this.state = 'none';
  }
}
