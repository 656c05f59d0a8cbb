import path from 'node:path';
import type { ResultOf, RunInfo, WorkerEvent } from '../contract/messages';
import {
  evalProgressLine,
  evalStartLine,
  evaluationLines,
  predictionLine,
  type EvaluationSummary,
} from './eval-format';
import type { CliOutput, Streams } from './output';
import { deletedLine, renamedLine, runsLines } from './runs-format';
import { CLEAR_LINE } from './terminal-line';
import {
  batchLine,
  epochLine,
  finishedLine,
  readyLine,
  resumedLines,
  startedLines,
  stoppedLine,
} from './train-format';

const REDRAW_MS = 100;

/**
 * Readable lines on stdout for a person at a terminal: a line per epoch, and one progress line
 * that redraws itself in place and is erased before any other line is written, so the two never
 * interleave (both go to stdout, in order).
 */
export class TerminalOutput implements CliOutput {
  private epochs = 0;
  private progressShown = false;
  private lastDrawn = -Infinity;
  private runFolder: string | null = null;

  constructor(
    private readonly streams: Streams,
    private readonly checkpointsDir: string,
  ) {}

  event(event: WorkerEvent): void {
    switch (event.type) {
      case 'ready':
        return this.lines([readyLine(event.backend)]);
      case 'started':
        this.epochs = event.config.epochs;
        return this.lines(startedLines(event));
      case 'batch':
        return this.progress(
          batchLine(event, this.epochs, this.streams.columns()),
          event.batch === event.batches,
        );
      case 'epoch':
        return this.lines([epochLine(event, this.epochs)]);
      case 'checkpoint':
        // The epoch line already says the epoch is done; the run's folder is said at the end.
        this.runFolder = path.dirname(event.path);
        return;
      case 'finished':
        return this.lines([finishedLine(event, this.runFolder)]);
      case 'stopped':
        return this.lines([stoppedLine(event)]);
      case 'evaluateProgress':
        return this.progress(
          evalProgressLine(event.done, event.total, this.streams.columns()),
          event.done === event.total,
        );
      case 'error':
        this.erase();
        return this.streams.err(`error: ${event.message}\n`);
      case 'reply':
        return;
    }
  }

  evaluating(runId: string): void {
    this.progress(evalStartLine(runId), true);
  }

  resumed(result: ResultOf<'resume'>): void {
    this.lines(resumedLines(result));
  }

  evaluation(result: EvaluationSummary): void {
    this.lines(evaluationLines(result));
  }

  prediction(result: ResultOf<'predict'>): void {
    this.lines([predictionLine(result)]);
  }

  runs(runs: readonly RunInfo[]): void {
    this.lines(runsLines(runs, this.checkpointsDir));
  }

  deleted(result: ResultOf<'deleteRun'>): void {
    this.lines([deletedLine(result)]);
  }

  renamed(result: ResultOf<'renameRun'>): void {
    this.lines([renamedLine(result)]);
  }

  close(): void {
    this.erase();
  }

  /**
   * Redrawn at most every REDRAW_MS: thousands of tiny batches a second would otherwise keep the
   * terminal busier than the training. `last`: the final state, always drawn.
   */
  private progress(line: string, last: boolean): void {
    const now = this.streams.now();
    if (!last && this.progressShown && now - this.lastDrawn < REDRAW_MS) return;
    this.lastDrawn = now;
    this.progressShown = true;
    this.streams.out(CLEAR_LINE + line);
  }

  private erase(): void {
    if (!this.progressShown) return;
    this.streams.out(CLEAR_LINE);
    this.progressShown = false;
  }

  private lines(lines: readonly string[]): void {
    this.erase();
    for (const line of lines) this.streams.out(line + '\n');
  }
}
