import { BACKEND_LABELS, describeBackendBadge } from '../contract/backend-labels';
import type { BackendInfo, EventOfType, ResultOf } from '../contract/messages';
import { duration, fitToWidth, percent, plural, progressBar, thousands } from './terminal-line';

/** What `train` and `resume` print in a terminal, a line (or a few) per event. */

/** "Engine ready on WASM — native TensorFlow not installed." */
export function readyLine(backend: BackendInfo): string {
  return `Engine ready on ${describeBackendBadge(backend).text}.`;
}

/** The run's shape before its first batch, and anything the user should know about the start. */
export function startedLines(event: EventOfType<'started'>): string[] {
  const { config } = event;
  const epochs =
    event.startEpoch > 1
      ? `epochs ${event.startEpoch} to ${config.epochs}`
      : plural(config.epochs, 'epoch');
  const validation =
    event.validationSize > 0
      ? `${thousands(event.validationSize)} validation images`
      : 'no validation images';
  return [
    `Training run ${event.runId} (${config.model}): ${epochs} of ` +
      `${plural(event.batchesPerEpoch, 'batch', 'batches')} of ${config.batchSize}.`,
    `${thousands(event.trainSize)} training and ${validation}; ` +
      `${plural(event.threads, 'thread')} on ${BACKEND_LABELS[event.backend.name]}.`,
    ...event.notices.map((notice) => `note: ${notice}`),
  ];
}

/** Which checkpoint a resume continues from, a branch it made, and damaged ones it passed over. */
export function resumedLines(result: ResultOf<'resume'>): string[] {
  const from = result.branchedFrom
    ? `Resuming from epoch ${result.epoch} of run ${result.branchedFrom.runId} as a new run, ${result.runId} ` +
      '(later epochs of the original are kept as they are).'
    : `Resuming run ${result.runId} from epoch ${result.epoch}.`;
  return [
    from,
    ...result.skipped.map((s) => `skipped damaged checkpoint of epoch ${s.epoch}: ${s.reason}`),
  ];
}

/** "epoch 2/3" with the number padded so the lines of one run stay aligned. */
function epochOf(epoch: number, epochs: number): string {
  return `epoch ${String(epoch).padStart(String(epochs).length)}/${epochs}`;
}

const metric = (label: string, value: string) => `${label} ${value}`;

/** One line per finished epoch: the figures to compare down the column, then its time. */
export function epochLine(event: EventOfType<'epoch'>, epochs: number): string {
  const val = (v: number | null, show: (v: number) => string) => (v === null ? '—' : show(v));
  return [
    epochOf(event.epoch, epochs),
    metric('loss', event.loss.toFixed(4)),
    metric('accuracy', percent(event.accuracy).padStart(8)),
    metric(
      'val loss',
      val(event.valLoss, (v) => v.toFixed(4)),
    ),
    metric(
      'val accuracy',
      val(event.valAccuracy, (v) => percent(v).padStart(8)),
    ),
    duration(event.seconds),
  ].join('   ');
}

/** The progress line within an epoch (redrawn in place; the loss and accuracy are the batch's). */
export function batchLine(
  event: EventOfType<'batch'>,
  epochs: number,
  columns: number | undefined,
): string {
  return fitToWidth(
    [
      epochOf(event.epoch, epochs),
      progressBar(event.batch / event.batches, 30),
      `${event.batch}/${event.batches}`,
      metric('loss', event.loss.toFixed(4)),
      metric('accuracy', percent(event.accuracy)),
    ].join('  '),
    columns,
  );
}

/** `runFolder`: where the checkpoints went, from the last checkpoint event (null: none seen). */
export function finishedLine(event: EventOfType<'finished'>, runFolder: string | null): string {
  const where = runFolder ? `; checkpoints in ${runFolder}` : '';
  return `Finished run ${event.runId}: ${plural(event.epochs, 'epoch')}${where}.`;
}

export function stoppedLine(event: EventOfType<'stopped'>): string {
  const during = `Stopped run ${event.runId} during epoch ${event.epoch + 1}`;
  const after = event.batch > 0 ? ` after ${plural(event.batch, 'batch', 'batches')}` : '';
  const kept =
    event.epoch > 0
      ? `the checkpoints up to epoch ${event.epoch} are kept; the partial epoch is not`
      : 'no epoch had finished, so there is no checkpoint';
  return `${during}${after}: ${kept}.`;
}
