import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import {
  BACKEND_CHOICES,
  describeZodError,
  resolveTrainConfig,
  type BackendChoice,
} from './contract/config';
import type { WorkerEvent } from './contract/messages';
import { loadDigitImage } from './engine/image';
import { forkWorker } from './host/fork-worker';
import { WorkerHost } from './host/worker-host';

/**
 * `npm run cli -- <train|resume|eval|predict|list|delete> [options]`: JSON lines on stdout, one
 * object per line with a "type"; errors as one line on stderr and a non-zero exit.
 */

const USAGE = `usage: npm run cli -- <command> [options]
  train    [--model mlp|cnn|cnn-strong] [--epochs N] [--batch-size N] [--learning-rate X]
           [--lr-decay X] [--hidden-units N] [--dropout X] [--validation-size N] [--limit N]
           [--seed N] [--threads N] [--augment|--no-augment] [--backend ${BACKEND_CHOICES.join('|')}]
  resume   --run ID [--epoch N] [--epochs N]
  eval     --run ID [--epoch N]
  predict  --run ID [--epoch N] --image FILE   (PNG or PGM, any size)
  list
  delete   --run ID [--epoch N]
common:    [--checkpoints DIR] [--data DIR] [--backend NAME]`;

export class UsageError extends Error {
  override name = 'UsageError';
}

const OPTIONS = {
  model: { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  'learning-rate': { type: 'string' },
  'lr-decay': { type: 'string' },
  'hidden-units': { type: 'string' },
  dropout: { type: 'string' },
  'validation-size': { type: 'string' },
  limit: { type: 'string' },
  seed: { type: 'string' },
  threads: { type: 'string' },
  augment: { type: 'boolean' },
  'no-augment': { type: 'boolean' },
  backend: { type: 'string' },
  checkpoints: { type: 'string' },
  data: { type: 'string' },
  run: { type: 'string' },
  epoch: { type: 'string' },
  image: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parse>['values'];
const parse = (argv: string[]) =>
  parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });

/** "12" → 12; anything else is left for the schema to reject with the field's name. */
const num = (v: string | undefined): number | undefined =>
  v === undefined ? undefined : v.trim() === '' ? NaN : Number(v);

export function trainConfigFromArgs(values: Values) {
  const augment = values['no-augment'] ? false : values.augment ? true : undefined;
  return resolveTrainConfig({
    model: values.model,
    epochs: num(values.epochs),
    batchSize: num(values['batch-size']),
    learningRate: num(values['learning-rate']),
    learningRateDecay: num(values['lr-decay']),
    hiddenUnits: num(values['hidden-units']),
    dropout: num(values.dropout),
    validationSize: num(values['validation-size']),
    limit: num(values.limit),
    seed: num(values.seed),
    threads: num(values.threads),
    augment,
    backend: values.backend,
  });
}

function requireRun(values: Values): string {
  if (!values.run) throw new UsageError('--run ID is required');
  return values.run;
}

function epochArg(values: Values, name: 'epoch' | 'epochs'): number | null {
  const v = num(values[name]);
  if (v === undefined) return null;
  if (!Number.isInteger(v) || v < 1) throw new UsageError(`--${name} must be a whole number ≥ 1`);
  return v;
}

const print = (object: object) => process.stdout.write(JSON.stringify(object) + '\n');

class ProgressBar {
  private readonly enabled = process.stderr.isTTY === true;
  private epochs = 0;
  update(event: WorkerEvent): void {
    if (!this.enabled) return;
    if (event.type === 'started') this.epochs = event.config.epochs;
    if (event.type === 'batch') {
      const width = 30;
      const filled = Math.round((event.batch / event.batches) * width);
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      process.stderr.write(
        `\repoch ${event.epoch}/${this.epochs} ${bar} ${event.batch}/${event.batches} loss ${event.loss.toFixed(4)} acc ${event.accuracy.toFixed(4)} `,
      );
    }
    if (event.type === 'epoch' || event.type === 'finished' || event.type === 'stopped')
      process.stderr.write('\r\x1b[2K');
  }
}

export async function main(argv: string[]): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parse(argv));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const command = positionals[0];
  if (values.help || !command) {
    process.stderr.write(USAGE + '\n');
    return values.help ? 0 : 2;
  }
  if (positionals.length > 1) throw new UsageError(`unexpected argument: ${positionals[1]}`);
  const backendParse = z.enum(BACKEND_CHOICES).safeParse(values.backend ?? 'auto');
  if (!backendParse.success)
    throw new UsageError(`backend must be one of ${BACKEND_CHOICES.join(', ')}`);
  const backend: BackendChoice = backendParse.data;
  const checkpointsDir = path.resolve(values.checkpoints ?? 'checkpoints');
  const dataDir = values.data ? path.resolve(values.data) : null;

  // Validate everything that can be validated before a worker process is started.
  const config = command === 'train' ? trainConfigFromArgs(values) : null;
  const pixels =
    command === 'predict' ? (values.image ? loadDigitImage(values.image) : null) : null;
  if (command === 'predict' && !pixels) throw new UsageError('--image FILE is required');
  if (!['train', 'resume', 'eval', 'predict', 'list', 'delete'].includes(command)) {
    throw new UsageError(`unknown command "${command}"`);
  }

  const progress = new ProgressBar();
  let finish: ((code: number) => void) | null = null;
  const host = new WorkerHost({
    spawn: forkWorker(),
    checkpointsDir,
    dataDir,
    backend,
    onEvent: (event) => {
      if (event.type === 'evaluateProgress') return;
      // The backend line matters for a training log; for list/eval/predict it is noise.
      if (event.type === 'ready' && command !== 'train' && command !== 'resume') return;
      progress.update(event);
      if (event.type === 'error') process.stderr.write(`error: ${event.message}\n`);
      else print(event);
      if (event.type === 'finished' || event.type === 'stopped') finish?.(0);
      if (event.type === 'error' && (event.fatal || event.runId !== null)) finish?.(1);
    },
  });

  try {
    switch (command) {
      case 'train':
      case 'resume': {
        const done = new Promise<number>((resolve) => (finish = resolve));
        if (command === 'train') await host.request({ type: 'train', config: config! });
        else {
          // Which checkpoint it continues from, and the damaged later ones it passed over.
          const resumed = await host.request({
            type: 'resume',
            runId: requireRun(values),
            epoch: epochArg(values, 'epoch'),
            epochs: epochArg(values, 'epochs'),
          });
          print({ type: 'resumed', ...resumed });
        }
        // Ctrl-C stops after the current batch; a second Ctrl-C kills the worker.
        let interrupted = false;
        process.on('SIGINT', () => {
          if (interrupted) host.kill();
          interrupted = true;
          void host.request({ type: 'stop' }).catch(() => undefined);
        });
        return await done;
      }
      case 'eval': {
        const result = await host.request({
          type: 'evaluate',
          runId: requireRun(values),
          epoch: epochArg(values, 'epoch'),
        });
        // Test-set indices instead of images: a terminal has no use for base64 pixels.
        const mistakes = result.mistakes.map(({ pixels: _, ...rest }) => rest);
        print({ type: 'evaluation', ...result, mistakes });
        return 0;
      }
      case 'predict': {
        const result = await host.request({
          type: 'predict',
          runId: requireRun(values),
          epoch: epochArg(values, 'epoch'),
          pixels: Array.from(pixels!),
        });
        print({ type: 'prediction', ...result });
        return 0;
      }
      case 'list': {
        const { runs } = await host.request({ type: 'listRuns' });
        for (const run of runs) {
          const { checkpoints, ...rest } = run;
          print({ type: 'run', ...rest, checkpoints: checkpoints.length });
          for (const c of checkpoints) {
            print({
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
        return 0;
      }
      case 'delete': {
        const result = await host.request({
          type: 'deleteRun',
          runId: requireRun(values),
          epoch: epochArg(values, 'epoch'),
        });
        print({ type: 'deleted', ...result });
        return 0;
      }
    }
    return 2;
  } finally {
    host.dispose();
  }
}

const isEntry = process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]));
if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      const message =
        error instanceof z.ZodError
          ? describeZodError(error)
          : error instanceof Error
            ? error.message
            : String(error);
      process.stderr.write(`error: ${message}\n`);
      if (error instanceof UsageError) process.stderr.write(`run with --help for usage\n`);
      process.exit(error instanceof UsageError || error instanceof z.ZodError ? 2 : 1);
    },
  );
}
