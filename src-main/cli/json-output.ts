import type { ResultOf, RunInfo, WorkerEvent } from '../contract/messages';
import type { EvaluationSummary } from './eval-format';
import type { CliOutput, Streams } from './output';
import { CLEAR_LINE, progressBar } from './terminal-line';

/**
 * One JSON object per line on stdout, each with a "type": the CLI's format for programs and
 * tests, unchanged by the terminal format beside it. When stdout is redirected and stderr is a
 * terminal, a progress bar is drawn on stderr; never when both are the same terminal, where the
 * two would interleave.
 */
export class JsonOutput implements CliOutput {
  private epochs = 0;

  constructor(
    private readonly streams: Streams,
    private readonly progressOnStderr: boolean,
  ) {}

  private print(object: object): void {
    this.streams.out(JSON.stringify(object) + '\n');
  }

  event(event: WorkerEvent): void {
    if (event.type === 'evaluateProgress') return;
    this.progress(event);
    if (event.type === 'error') this.streams.err(`error: ${event.message}\n`);
    else this.print(event);
  }

  private progress(event: WorkerEvent): void {
    if (!this.progressOnStderr) return;
    if (event.type === 'started') this.epochs = event.config.epochs;
    if (event.type === 'batch') {
      this.streams.err(
        `\repoch ${event.epoch}/${this.epochs} ${progressBar(event.batch / event.batches, 30)} ${event.batch}/${event.batches} loss ${event.loss.toFixed(4)} acc ${event.accuracy.toFixed(4)} `,
      );
    }
    if (event.type === 'epoch' || event.type === 'finished' || event.type === 'stopped')
      this.streams.err(CLEAR_LINE);
  }

  /** Not a line: evaluateProgress never was one either, and programs wait for the result. */
  evaluating(_runId: string): void {}

  resumed(result: ResultOf<'resume'>): void {
    this.print({ type: 'resumed', ...result });
  }

  evaluation(result: EvaluationSummary): void {
    this.print({ type: 'evaluation', ...result });
  }

  prediction(result: ResultOf<'predict'>): void {
    this.print({ type: 'prediction', ...result });
  }

  runs(runs: readonly RunInfo[]): void {
    for (const run of runs) {
      const { checkpoints, ...rest } = run;
      this.print({ type: 'run', ...rest, checkpoints: checkpoints.length });
      for (const c of checkpoints) {
        this.print({
          type: 'checkpoint',
          runId: run.runId,
          epoch: c.epoch,
          status: c.status,
          reason: c.reason,
          valAccuracy: c.metrics?.valAccuracy ?? null,
          accuracy: c.metrics?.accuracy ?? null,
          bytes: c.bytes,
          savedAt: c.savedAt,
        });
      }
    }
  }

  deleted(result: ResultOf<'deleteRun'>): void {
    this.print({ type: 'deleted', ...result });
  }

  renamed(result: ResultOf<'renameRun'>): void {
    this.print({ type: 'renamed', ...result });
  }

  close(): void {}
}
