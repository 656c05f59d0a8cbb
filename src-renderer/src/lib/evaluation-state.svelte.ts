import type { ClientEvent, StudioApi } from '$contract/api';
import type { Evaluation, TestExample } from '$contract/messages';
import { checkpointKey, needsEvaluation, type CheckpointRef } from './evaluation';

/**
 * What the Evaluate panel knows: the last result of every checkpoint evaluated in this session
 * (so switching checkpoints or tabs loses nothing), the evaluation under way and its progress,
 * and the test images of the confusion-matrix cell the user opened.
 */

/** Images asked for when a cell is opened; "show more" asks for the contract's maximum. */
export const CELL_LIMIT = 100;
export const CELL_LIMIT_MAX = 500;

export interface CellView {
  /** checkpointKey of the evaluation the cell belongs to. */
  key: string;
  actual: number;
  predicted: number;
  limit: number;
  examples: TestExample[];
  /** Images in the cell; null until the first answer. */
  total: number | null;
  loading: boolean;
  error: string | null;
  /** The worker no longer holds this evaluation: evaluating the checkpoint again brings it back. */
  needsEvaluation: boolean;
}

export class EvaluationState {
  /** Latest result per checkpointKey. Replaced, never mutated: results are large and read-only. */
  results = $state.raw<Record<string, Evaluation>>({});
  /** The checkpoint being evaluated, or null. One evaluation at a time. */
  running = $state.raw<CheckpointRef | null>(null);
  /** Test images done of total for the running (or last finished) evaluation. */
  progress = $state.raw<{ ref: CheckpointRef; done: number; total: number } | null>(null);
  /** The last failed evaluation and why; cleared when the next one starts. */
  error = $state.raw<{ ref: CheckpointRef; message: string } | null>(null);
  cell = $state.raw<CellView | null>(null);
  private cellRequest = 0;

  constructor(private readonly api: StudioApi) {}

  handle(event: ClientEvent): void {
    const ref = this.running;
    if (event.type === 'evaluateProgress' && event.runId === ref?.runId)
      this.progress = { ref, done: event.done, total: event.total };
  }

  result(ref: CheckpointRef | null): Evaluation | null {
    return ref ? (this.results[checkpointKey(ref)] ?? null) : null;
  }

  /** Evaluates a checkpoint on the test set; on failure the earlier result, if any, stays. */
  async evaluate(ref: CheckpointRef): Promise<Evaluation | null> {
    if (this.running) return null;
    this.running = ref;
    this.progress = { ref, done: 0, total: 0 };
    this.error = null;
    try {
      const result = await this.api.request({
        type: 'evaluate',
        runId: ref.runId,
        epoch: ref.epoch,
      });
      const key = checkpointKey(ref);
      this.results = { ...this.results, [key]: result };
      this.progress = { ref, done: result.count, total: result.count };
      const cell = this.cell;
      // A cell whose images had expired is answerable again now.
      if (cell?.key === key && (cell.error || cell.needsEvaluation))
        void this.openCell(ref, cell.actual, cell.predicted, cell.limit);
      return result;
    } catch (error) {
      this.error = { ref, message: (error as Error).message };
      this.progress = null;
      return null;
    } finally {
      this.running = null;
    }
  }

  /** Fetches the test images of one confusion-matrix cell; a later click wins over an earlier one. */
  async openCell(
    ref: CheckpointRef,
    actual: number,
    predicted: number,
    limit = CELL_LIMIT,
  ): Promise<void> {
    const key = checkpointKey(ref);
    const id = ++this.cellRequest;
    const previous = this.cell;
    const same =
      previous?.key === key && previous.actual === actual && previous.predicted === predicted;
    const view: CellView = {
      key,
      actual,
      predicted,
      limit,
      // Keep what is shown while more of the same cell loads.
      examples: same ? previous.examples : [],
      total: same ? previous.total : null,
      loading: true,
      error: null,
      needsEvaluation: false,
    };
    this.cell = view;
    try {
      const { examples, total } = await this.api.request({
        type: 'examples',
        runId: ref.runId,
        epoch: ref.epoch,
        actual,
        predicted,
        limit,
      });
      if (id !== this.cellRequest) return;
      this.cell = { ...view, examples, total, loading: false };
    } catch (error) {
      if (id !== this.cellRequest) return;
      const message = (error as Error).message;
      this.cell = {
        ...view,
        loading: false,
        error: message,
        needsEvaluation: needsEvaluation(message),
      };
    }
  }

  closeCell(): void {
    this.cellRequest++;
    this.cell = null;
  }
}
