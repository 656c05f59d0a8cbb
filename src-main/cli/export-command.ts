import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  EXPORT_FORMATS,
  ExportRequestSchema,
  type ExportRequest,
  type ExportResult,
} from '../engine/export/export-request';
import { processStreams, wantsJson, type Streams } from './output';
import { UsageError } from './usage-error';

/**
 * `npm run cli -- export --run ID --format tfjs|keras|onnx --out PATH`: one checkpoint in another
 * runtime's format. It only reads the run, so it runs here, without a worker process, and never
 * waits for a run's trainer: checkpoints are complete once listed.
 */

export const EXPORT_USAGE = `  export   --run ID [--epoch N] --format ${EXPORT_FORMATS.join('|')} --out PATH
           [--with-optimizer] [--overwrite]
           (tfjs: a folder of model.json + weights.bin, or a .zip; keras: a Keras 3 .keras file;
           onnx: an opset-17 .onnx file. --with-optimizer keeps Adam's state, tfjs only)`;

const OPTIONS = {
  run: { type: 'string' },
  epoch: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
  'with-optimizer': { type: 'boolean' },
  overwrite: { type: 'boolean' },
  checkpoints: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The command-line spelling of the request's fields, for errors that name what to fix. */
const OPTION_OF_FIELD: Record<string, string> = {
  runId: '--run',
  epoch: '--epoch',
  format: '--format',
  out: '--out',
  withOptimizer: '--with-optimizer',
};

export function exportRequestFromArgs(
  argv: string[],
): { request: ExportRequest; root: string; json: boolean } | null {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: OPTIONS,
      allowPositionals: false,
      strict: true,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return null;
  if (values.run === undefined) throw new UsageError('export needs --run ID');
  if (values.format === undefined)
    throw new UsageError(`export needs --format ${EXPORT_FORMATS.join('|')}`);
  if (values.out === undefined) throw new UsageError('export needs --out PATH');
  let epoch: number | null = null;
  if (values.epoch !== undefined) {
    if (!/^\d+$/.test(values.epoch) || Number(values.epoch) < 1)
      throw new UsageError(
        `--epoch must be a whole number ≥ 1, not ${JSON.stringify(values.epoch)}`,
      );
    epoch = Number(values.epoch);
  }
  const parsed = ExportRequestSchema.safeParse({
    runId: values.run,
    epoch,
    format: values.format,
    out: path.resolve(values.out),
    withOptimizer: values['with-optimizer'] ?? false,
    overwrite: values.overwrite ?? false,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = String(issue.path[0] ?? '');
    const message =
      field === 'format'
        ? `must be one of ${EXPORT_FORMATS.join(', ')}, not ${JSON.stringify(values.format)}`
        : issue.message;
    throw new UsageError(`${OPTION_OF_FIELD[field] ?? field}: ${message}`);
  }
  return {
    request: parsed.data,
    root: path.resolve(values.checkpoints ?? 'checkpoints'),
    json: wantsJson(values.json, process.stdout.isTTY),
  };
}

const size = (bytes: number) =>
  bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MB` : `${(bytes / 1024).toFixed(1)} KB`;

const FORMAT_NAMES = { tfjs: 'TensorFlow.js', keras: 'Keras 3', onnx: 'ONNX' } as const;

export function exportedLine(result: ExportResult): string {
  return `exported run ${result.runId} epoch ${result.epoch} as ${FORMAT_NAMES[result.format]} to ${result.path} (${size(result.bytes)})`;
}

export async function exportMain(
  argv: string[],
  streams: Streams = processStreams,
): Promise<number> {
  const parsed = exportRequestFromArgs(argv);
  if (parsed === null) {
    streams.err(`usage: npm run cli -- export …\n${EXPORT_USAGE}\n`);
    return 0;
  }
  // Loaded only now: the other commands never pay for TensorFlow.js in this process.
  const tf = await import('@tensorflow/tfjs');
  const { exportCheckpoint } = await import('../engine/export/export-checkpoint');
  // Reading weights needs no speed: the always-present cpu backend, without its console banner.
  tf.enableProdMode();
  await tf.setBackend('cpu');
  const result = await exportCheckpoint(parsed.root, parsed.request);
  streams.out(
    parsed.json
      ? JSON.stringify({ type: 'exported', ...result }) + '\n'
      : exportedLine(result) + '\n',
  );
  return 0;
}
