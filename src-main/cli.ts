import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import {
  BACKEND_CHOICES,
  MODEL_PRESETS,
  SCHEDULES,
  describeZodError,
  resolveTrainConfig,
  type BackendChoice,
} from './contract/config';
import { RUN_ID_PATTERN, RequestSchemas } from './contract/messages';
import { JsonOutput } from './cli/json-output';
import { processStreams, wantsJson, type CliOutput } from './cli/output';
import { TerminalOutput } from './cli/terminal-output';
import { EXPORT_USAGE, exportMain } from './cli/export-command';
import { SWEEP_USAGE, sweepMain } from './cli/sweep-command';
import { UsageError } from './cli/usage-error';
import { WORKER_USAGE, workerMain } from './cli/worker-command';
import { loadDigitImage } from './engine/image';
import { forkWorker } from './host/fork-worker';
import { onStopSignals, signalExitCode } from './host/shutdown';
import { WorkerHost, type CommandInput } from './host/worker-host';

/**
 * `npm run cli -- <train|resume|eval|predict|list|delete|rename|export|sweep|worker> [options]`: readable lines and progress
 * in a terminal; JSON lines on stdout when piped or with --json, one object per line with a
 * "type" (cli/json-output.ts); errors as one line on stderr and a non-zero exit.
 */

const USAGE = `usage: npm run cli -- <command> [options]
  train    [--model ${MODEL_PRESETS.join('|')}] [--epochs N] [--batch-size N] [--learning-rate X]
           [--schedule ${SCHEDULES.join('|')}] [--lr-decay X] [--label-smoothing X]
           [--hidden-units N] [--dropout X] [--validation-size N] [--limit N] [--seed N]
           [--threads N] [--augment|--no-augment] [--backend ${BACKEND_CHOICES.join('|')}]
  resume   --run ID [--epoch N] [--epochs N]
  eval     --run ID [--epoch N]
  predict  --run ID [--epoch N] --image FILE   (PNG, JPEG or PGM, any size)
  list
  delete   --run ID [--epoch N]
  rename   --run ID --name TEXT             (an empty TEXT clears the name)
${EXPORT_USAGE}
${SWEEP_USAGE}
${WORKER_USAGE}
common:    [--checkpoints DIR] [--data DIR] [--backend NAME] [--json]
output:    readable lines and progress in a terminal; JSON lines, one object with a "type" per
           line, when stdout is not a terminal or with --json.
N is a whole number in decimal digits (3, not 3.0, +3 or 0x3); X is a decimal number (0.001, 1e-3).
exit: 0 done (or stopped by a first Ctrl-C/SIGTERM), 1 failed, 2 usage error, 130 killed by a second Ctrl-C`;

export { UsageError };

const OPTIONS = {
  model: { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  'learning-rate': { type: 'string' },
  'lr-decay': { type: 'string' },
  schedule: { type: 'string' },
  'label-smoothing': { type: 'string' },
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
  name: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parse>['values'];
const parse = (argv: string[]) =>
  parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });

/**
 * Numbers as people type them, checked before any worker starts. Number() takes "0x2", "1e1",
 * " 3" and "Infinity" too: a typo must be an error, not epoch 2 or a learning rate of 1.
 */
const DIGITS = /^\d+$/;
/** Decimal or exponent notation: "0.001", "1e-3", ".5"; never hex, Infinity or NaN. */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/** A whole number in decimal digits; its range is the schema's to check (naming the field). */
function wholeNumber(values: Values, option: IntegerOption): number | undefined {
  const v = values[option];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!DIGITS.test(v) || !Number.isSafeInteger(n))
    throw new UsageError(
      `--${option} must be a whole number in decimal digits, not ${JSON.stringify(v)}`,
    );
  return n;
}

function decimal(values: Values, option: DecimalOption): number | undefined {
  const v = values[option];
  if (v === undefined) return undefined;
  if (!DECIMAL.test(v))
    throw new UsageError(
      `--${option} must be a number like 0.001 or 1e-3, not ${JSON.stringify(v)}`,
    );
  return Number(v);
}

type IntegerOption =
  | 'epochs'
  | 'epoch'
  | 'batch-size'
  | 'hidden-units'
  | 'validation-size'
  | 'limit'
  | 'seed'
  | 'threads';
type DecimalOption = 'learning-rate' | 'lr-decay' | 'label-smoothing' | 'dropout';

const COMMON_OPTIONS = ['checkpoints', 'data', 'backend', 'json', 'help'] as const;
/** What each command reads; anything else given to it is a usage error, not silently ignored. */
const COMMAND_OPTIONS = {
  train: [
    'model',
    'epochs',
    'batch-size',
    'learning-rate',
    'lr-decay',
    'schedule',
    'label-smoothing',
    'hidden-units',
    'dropout',
    'validation-size',
    'limit',
    'seed',
    'threads',
    'augment',
    'no-augment',
  ],
  resume: ['run', 'epoch', 'epochs'],
  eval: ['run', 'epoch'],
  predict: ['run', 'epoch', 'image'],
  list: [],
  delete: ['run', 'epoch'],
  rename: ['run', 'name'],
} as const satisfies Record<string, readonly (keyof typeof OPTIONS)[]>;
type CommandName = keyof typeof COMMAND_OPTIONS;

const isCommand = (name: string): name is CommandName => Object.hasOwn(COMMAND_OPTIONS, name);

export function trainConfigFromArgs(values: Values) {
  if (values.augment && values['no-augment'])
    throw new UsageError('--augment and --no-augment cannot both be given');
  const augment = values['no-augment'] ? false : values.augment ? true : undefined;
  return resolveTrainConfig({
    model: values.model,
    epochs: wholeNumber(values, 'epochs'),
    batchSize: wholeNumber(values, 'batch-size'),
    learningRate: decimal(values, 'learning-rate'),
    learningRateDecay: decimal(values, 'lr-decay'),
    schedule: values.schedule,
    labelSmoothing: decimal(values, 'label-smoothing'),
    hiddenUnits: wholeNumber(values, 'hidden-units'),
    dropout: decimal(values, 'dropout'),
    validationSize: wholeNumber(values, 'validation-size'),
    limit: wholeNumber(values, 'limit'),
    seed: wholeNumber(values, 'seed'),
    threads: wholeNumber(values, 'threads'),
    augment,
    backend: values.backend,
  });
}

/** Checked here, not by the worker: a malformed id is the command line's fault (exit 2). */
function requireRun(values: Values): string {
  if (values.run === undefined) throw new UsageError('--run ID is required');
  if (!RUN_ID_PATTERN.test(values.run))
    throw new UsageError(
      `--run must be a run id as \`list\` prints it (letters, digits, "-" and "_"), not ${JSON.stringify(values.run)}`,
    );
  return values.run;
}

function epochArg(values: Values, name: 'epoch' | 'epochs'): number | null {
  const v = wholeNumber(values, name);
  if (v === undefined) return null;
  if (v < 1) throw new UsageError(`--${name} must be a whole number ≥ 1`);
  return v;
}

const IMAGE_NOT_READ_YET = new Float32Array(28 * 28);

/** The contract's field names, as the options that set them are spelled. */
const OPTION_OF_FIELD: Record<string, string> = {
  runId: '--run',
  epoch: '--epoch',
  epochs: '--epochs',
  pixels: '--image',
  name: '--name',
};

/**
 * The worker command for a command line, checked against the contract before a worker starts:
 * what the host would refuse (an epoch past the schema's range) is a usage error too.
 */
function commandFromArgs(command: CommandName, values: Values, pixels: Float32Array | null) {
  const input = ((): CommandInput => {
    switch (command) {
      case 'train':
        return { type: 'train', config: trainConfigFromArgs(values) };
      case 'resume':
        return {
          type: 'resume',
          runId: requireRun(values),
          epoch: epochArg(values, 'epoch'),
          epochs: epochArg(values, 'epochs'),
        };
      case 'eval':
        return { type: 'evaluate', runId: requireRun(values), epoch: epochArg(values, 'epoch') };
      case 'predict':
        return {
          type: 'predict',
          runId: requireRun(values),
          epoch: epochArg(values, 'epoch'),
          pixels: Array.from(pixels ?? []),
        };
      case 'list':
        return { type: 'listRuns' };
      case 'delete':
        return { type: 'deleteRun', runId: requireRun(values), epoch: epochArg(values, 'epoch') };
      case 'rename':
        if (values.name === undefined) throw new UsageError('rename needs --name TEXT');
        return { type: 'renameRun', runId: requireRun(values), name: values.name };
    }
  })();
  const schema = RequestSchemas.find((s) => s.shape.type.value === input.type)!;
  const checked = schema.safeParse(input);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    const field = String(issue.path[0] ?? '');
    if (command !== 'train' && OPTION_OF_FIELD[field])
      throw new UsageError(`${OPTION_OF_FIELD[field]}: ${issue.message}`);
    throw checked.error;
  }
  return input;
}

export async function main(argv: string[]): Promise<number> {
  // `sweep` has sub-commands and options of its own: it parses its own command line.
  if (argv[0] === 'sweep') return sweepMain(argv.slice(1));
  // `worker` (a queued sweep's trials on this machine) too.
  if (argv[0] === 'worker') return workerMain(argv.slice(1));
  // `export` reads a checkpoint in this process: no worker, no backend choice.
  if (argv[0] === 'export') return exportMain(argv.slice(1));
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
  if (!isCommand(command)) throw new UsageError(`unknown command "${command}"`);
  if (positionals.length > 1) throw new UsageError(`unexpected argument: ${positionals[1]}`);
  const allowed: readonly string[] = [...COMMON_OPTIONS, ...COMMAND_OPTIONS[command]];
  const stray = Object.keys(values).find((option) => !allowed.includes(option));
  if (stray) throw new UsageError(`${command} does not take --${stray}`);
  const backendParse = z.enum(BACKEND_CHOICES).safeParse(values.backend ?? 'auto');
  if (!backendParse.success)
    throw new UsageError(`backend must be one of ${BACKEND_CHOICES.join(', ')}`);
  const backend: BackendChoice = backendParse.data;
  const checkpointsDir = path.resolve(values.checkpoints ?? 'checkpoints');
  const dataDir = values.data ? path.resolve(values.data) : null;

  // Everything that can be checked is checked before a worker process starts. The command line
  // first (exit 2); then the image, whose absence or damage is a failure (exit 1), like a
  // missing run.
  if (command === 'predict' && values.image === undefined)
    throw new UsageError('--image FILE is required');
  commandFromArgs(command, values, IMAGE_NOT_READ_YET);
  const pixels = command === 'predict' ? loadDigitImage(values.image!) : null;
  const request = commandFromArgs(command, values, pixels);

  const output: CliOutput = wantsJson(values.json, process.stdout.isTTY)
    ? // A bar on stderr only where it cannot land between JSON lines on the same terminal.
      new JsonOutput(processStreams, process.stderr.isTTY === true && process.stdout.isTTY !== true)
    : new TerminalOutput(processStreams, checkpointsDir);
  let finish: ((code: number) => void) | null = null;
  /** Set by a second Ctrl-C (or SIGTERM): the worker is killed, and we exit as the signal says. */
  let killedBy: NodeJS.Signals | null = null;
  const failed = () => (killedBy ? signalExitCode(killedBy) : 1);
  const host = new WorkerHost({
    spawn: forkWorker(),
    checkpointsDir,
    dataDir,
    backend,
    owner: `the CLI (npm run cli -- ${command})`,
    onEvent: (event) => {
      // The backend line matters for a training log; for list/eval/predict it is noise.
      if (event.type === 'ready' && command !== 'train' && command !== 'resume') return;
      output.event(event);
      if (event.type === 'finished' || event.type === 'stopped') finish?.(0);
      if (event.type === 'error' && (event.fatal || event.runId !== null)) finish?.(failed());
    },
  });

  try {
    switch (request.type) {
      case 'train':
      case 'resume': {
        const done = new Promise<number>((resolve) => (finish = resolve));
        // Ctrl-C reaches the worker too (the whole process group), which leaves it to us: the
        // first stops after the current batch (also before the run has started: the stop waits
        // for it), a second kills the worker. SIGTERM means the same.
        // The listeners stay until the process exits: a late echo of the signal (see
        // ECHO_WINDOW_MS) must not meet a default handler (Node's, or tsx's) and turn 0 into 130.
        onStopSignals({
          stop: (signal) => {
            if (process.stderr.isTTY)
              process.stderr.write(
                `\r\x1b[2K${signal}: stopping after the current batch (again to kill)\n`,
              );
            const why = signal === 'SIGINT' ? 'Ctrl-C (SIGINT)' : signal;
            void host.stopRun(`the CLI received ${why}`).catch(() => undefined);
          },
          kill: (signal) => {
            killedBy = signal;
            void host.kill();
          },
        });
        try {
          // Which checkpoint a resume continues from, and the damaged later ones it passed over.
          if (request.type === 'resume') output.resumed(await host.request(request));
          else await host.request(request);
        } catch (error) {
          if (killedBy) return failed();
          throw error;
        }
        return await done;
      }
      case 'evaluate': {
        output.evaluating(request.runId);
        const result = await host.request(request);
        // Test-set indices instead of images: a terminal has no use for base64 pixels.
        const mistakes = result.mistakes.map(({ pixels: _, ...rest }) => rest);
        output.evaluation({ ...result, mistakes });
        return 0;
      }
      case 'predict': {
        const result = await host.request(request);
        output.prediction(result);
        return 0;
      }
      case 'listRuns': {
        const { runs } = await host.request(request);
        output.runs(runs);
        return 0;
      }
      case 'deleteRun': {
        const result = await host.request(request);
        output.deleted(result);
        return 0;
      }
      case 'renameRun': {
        const result = await host.request(request);
        output.renamed(result);
        return 0;
      }
    }
    return 2;
  } finally {
    output.close();
    host.dispose();
  }
}

/** `main` with its errors turned into one stderr line and the exit status (2: usage). */
export async function runCli(argv: string[]): Promise<number> {
  try {
    return await main(argv);
  } catch (error) {
    const message =
      error instanceof z.ZodError
        ? describeZodError(error)
        : error instanceof Error
          ? error.message
          : String(error);
    process.stderr.write(`error: ${message}\n`);
    if (error instanceof UsageError) process.stderr.write(`run with --help for usage\n`);
    return error instanceof UsageError || error instanceof z.ZodError ? 2 : 1;
  }
}

const isEntry = process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]));
if (isEntry) void runCli(process.argv.slice(2)).then((code) => process.exit(code));
