import type { ResultOf, RunInfo, WorkerEvent } from '../contract/messages';
import type { EvaluationSummary } from './eval-format';

/**
 * Where the CLI's results go: JSON lines for programs (piped, or --json), readable lines with
 * progress for a person at a terminal. Both get the same calls in the same order.
 */
export interface CliOutput {
  /** A worker event the command cares about (errors included: they go to stderr). */
  event(event: WorkerEvent): void;
  /** Before an evaluation's first progress event, which comes only after the model loads. */
  evaluating(runId: string): void;
  resumed(result: ResultOf<'resume'>): void;
  evaluation(result: EvaluationSummary): void;
  prediction(result: ResultOf<'predict'>): void;
  runs(runs: readonly RunInfo[]): void;
  deleted(result: ResultOf<'deleteRun'>): void;
  renamed(result: ResultOf<'renameRun'>): void;
  /** The command is over (done or failed): nothing half-drawn may stay on the terminal. */
  close(): void;
}

/** The process's streams, as the outputs use them (tests pass their own). */
export interface Streams {
  out(text: string): void;
  err(text: string): void;
  /** The terminal's width now (it can be resized mid-run); undefined when unknown. */
  columns(): number | undefined;
  now(): number;
}

export const processStreams: Streams = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  columns: () => process.stdout.columns,
  now: () => Date.now(),
};

/** JSON lines unless a person reads stdout in a terminal and did not ask for --json. */
export const wantsJson = (json: boolean | undefined, stdoutIsTty: boolean | undefined): boolean =>
  json === true || stdoutIsTty !== true;
