import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { BACKEND_CHOICES, MODEL_PRESETS, describeZodError } from '../contract/config';
import { RUN_ID_PATTERN } from '../contract/messages';
import {
  STRATEGIES,
  parseSweepSpec,
  trialConfig,
  type SweepEvent,
  type SweepSpec,
} from '../contract/sweep';
import { deleteSweep, listSweeps, type SweepSummary } from '../engine/sweeps/catalog';
import { resumeSweep, startSweep, type SweepSession } from '../engine/sweeps/runner';
import { forkWorker } from '../host/fork-worker';
import { onStopSignals, signalExitCode } from '../host/shutdown';
import { LocalTrialLauncher } from '../host/trial-launcher';
import { openQueueLauncher } from '../engine/sweeps/queue/launcher';
import { queueTargetArg } from './worker-command';
import { processStreams, wantsJson, type Streams } from './output';
import {
  sweepDeletedLine,
  sweepEventLines,
  sweepListLines,
  trialsTable,
  updateRows,
  type TrialRow,
} from './sweep-format';
import { UsageError } from './usage-error';

/**
 * `npm run cli -- sweep …`: a hyper-parameter sweep whose trials are ordinary runs, each in a
 * local worker process (engine/sweeps/runner.ts). The first Ctrl-C stops every trial after its
 * current batch and leaves the sweep resumable; a second kills the trials (still resumable, from
 * their last checkpoints). With --queue the trials are BullMQ jobs that `worker`s train, on this
 * machine or others (engine/sweeps/queue): a stop reaches them through Redis, and a kill leaves
 * them training for a `sweep resume --queue` to take up.
 */

export const SWEEP_USAGE = `  sweep    --model ${MODEL_PRESETS.join('|')} (--space JSON | --space-file FILE)
           [--strategy ${STRATEGIES.join('|')}] [--trials N] [--max-seconds X] [--parallel N|auto]
           [--asha MIN_EPOCHS[:ETA]] [--seed N] [--epochs N] [--limit N] [--validation-size N]
           [--threads N]          (a budget: --trials, --max-seconds or both)
           [--queue redis://HOST:PORT]   (trials go to \`worker\`s on any machine)
           --parallel auto: trials share this machine's cores; with --queue, as many jobs
           in the queue as the live workers' total --concurrency (1 until a worker is up)
           JSON space: {"learningRate":{"kind":"log-uniform","min":1e-4,"max":1e-2},
                        "batchSize":{"kind":"choice","values":[32,64,128]}}
  sweep resume --sweep ID [--queue redis://HOST:PORT]
  sweep list
  sweep delete --sweep ID [--runs]          (--runs: its trial runs too)`;

const OPTIONS = {
  model: { type: 'string' },
  space: { type: 'string' },
  'space-file': { type: 'string' },
  strategy: { type: 'string' },
  trials: { type: 'string' },
  'max-seconds': { type: 'string' },
  parallel: { type: 'string' },
  asha: { type: 'string' },
  seed: { type: 'string' },
  epochs: { type: 'string' },
  limit: { type: 'string' },
  'validation-size': { type: 'string' },
  threads: { type: 'string' },
  queue: { type: 'string' },
  sweep: { type: 'string' },
  runs: { type: 'boolean' },
  checkpoints: { type: 'string' },
  data: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;
type Values = ReturnType<typeof parse>['values'];
const parse = (argv: string[]) =>
  parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });

const COMMON = ['checkpoints', 'data', 'backend', 'json', 'help'] as const;
const ACTIONS = {
  run: [
    'model',
    'space',
    'space-file',
    'strategy',
    'trials',
    'max-seconds',
    'parallel',
    'asha',
    'seed',
    'epochs',
    'limit',
    'validation-size',
    'threads',
    'queue',
  ],
  resume: ['sweep', 'queue'],
  list: [],
  delete: ['sweep', 'runs'],
} as const satisfies Record<string, readonly (keyof typeof OPTIONS)[]>;
type Action = keyof typeof ACTIONS;

const DIGITS = /^\d+$/;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

function whole(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!DIGITS.test(value) || !Number.isSafeInteger(n))
    throw new UsageError(
      `--${option} must be a whole number in decimal digits, not ${JSON.stringify(value)}`,
    );
  return n;
}

function decimal(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (!DECIMAL.test(value))
    throw new UsageError(
      `--${option} must be a number like 60 or 1.5, not ${JSON.stringify(value)}`,
    );
  return Number(value);
}

/** The spec's fields, as the options that set them are spelled. */
const OPTION_OF_PATH: [prefix: string, option: string][] = [
  ['budget.maxTrials', '--trials'],
  ['budget.maxSeconds', '--max-seconds'],
  ['budget', '--trials/--max-seconds'],
  ['parallelism', '--parallel'],
  ['earlyStopping', '--asha'],
  ['strategy', '--strategy'],
  ['seed', '--seed'],
  ['preset', '--model'],
  ['base.epochs', '--epochs'],
  ['base.limit', '--limit'],
  ['base.validationSize', '--validation-size'],
  ['base.threads', '--threads'],
  ['base.backend', '--backend'],
  ['space', '--space'],
];

/** One problem per field, each named by its option: "--space: learningRate.min: …". */
export function describeSpecError(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const at = issue.path.map(String).join('.');
      const found = OPTION_OF_PATH.find(([p]) => at === p || at.startsWith(`${p}.`));
      if (!found) return describeZodError(new z.ZodError([issue]));
      const [prefix, option] = found;
      const rest = at.slice(prefix.length + 1);
      return `${option}: ${rest && prefix === 'space' ? `${rest}: ` : ''}${issue.message}`;
    })
    .join('; ');
}

function readSpace(values: Values): unknown {
  if (values.space !== undefined && values['space-file'] !== undefined)
    throw new UsageError('give --space or --space-file, not both');
  let text: string;
  let from: string;
  if (values.space !== undefined) {
    text = values.space;
    from = '--space';
  } else if (values['space-file'] !== undefined) {
    try {
      text = readFileSync(values['space-file'], 'utf8');
    } catch (error) {
      throw new UsageError(`--space-file: ${(error as Error).message}`);
    }
    from = '--space-file';
  } else throw new UsageError('sweep needs a search space: --space JSON or --space-file FILE');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${from} is not valid JSON: ${(error as Error).message}`);
  }
}

function ashaArg(value: string | undefined) {
  if (value === undefined) return { kind: 'none' as const };
  const match = /^(\d+)(?::(\d+))?$/.exec(value);
  if (!match)
    throw new UsageError(`--asha must be MIN_EPOCHS or MIN_EPOCHS:ETA (e.g. 1:3), not "${value}"`);
  return {
    kind: 'asha' as const,
    minEpochs: Number(match[1]),
    ...(match[2] === undefined ? {} : { reductionFactor: Number(match[2]) }),
  };
}

function parallelArg(value: string | undefined): number | 'auto' | undefined {
  if (value === undefined || value === 'auto') return value;
  return whole(value, 'parallel');
}

/** The spec a command line describes, checked as a whole (exit 2 with each field named). */
export function specFromArgs(values: Values): SweepSpec {
  const space = readSpace(values);
  const base = Object.fromEntries(
    Object.entries({
      epochs: whole(values.epochs, 'epochs'),
      limit: whole(values.limit, 'limit'),
      validationSize: whole(values['validation-size'], 'validation-size'),
      threads: whole(values.threads, 'threads'),
      backend: values.backend,
    }).filter(([, v]) => v !== undefined),
  );
  const maxTrials = whole(values.trials, 'trials');
  const maxSeconds = decimal(values['max-seconds'], 'max-seconds');
  const input = {
    preset: values.model ?? 'mlp',
    base,
    space,
    ...(values.strategy === undefined ? {} : { strategy: values.strategy }),
    budget: {
      ...(maxTrials === undefined ? {} : { maxTrials }),
      ...(maxSeconds === undefined ? {} : { maxSeconds }),
    },
    ...(values.parallel === undefined ? {} : { parallelism: parallelArg(values.parallel) }),
    earlyStopping: ashaArg(values.asha),
    ...(values.seed === undefined ? {} : { seed: whole(values.seed, 'seed') }),
  };
  let spec: SweepSpec;
  try {
    spec = parseSweepSpec(input);
  } catch (error) {
    if (error instanceof z.ZodError) throw new UsageError(describeSpecError(error));
    throw error;
  }
  if (trialConfig(spec, {}).validationSize === 0)
    throw new UsageError(
      '--validation-size: trials are scored on validation accuracy, so it must be above 0',
    );
  return spec;
}

function requireSweep(values: Values): string {
  if (values.sweep === undefined) throw new UsageError('--sweep ID is required');
  if (!RUN_ID_PATTERN.test(values.sweep))
    throw new UsageError(
      `--sweep must be a sweep id as \`sweep list\` prints it, not ${JSON.stringify(values.sweep)}`,
    );
  return values.sweep;
}

/** JSON lines for programs, readable lines and a closing table for a person. */
class SweepOutput {
  private readonly rows = new Map<number, TrialRow>();

  constructor(
    private readonly streams: Streams,
    private readonly json: boolean,
  ) {}

  private line(object: object): void {
    this.streams.out(JSON.stringify(object) + '\n');
  }

  event(event: SweepEvent): void {
    if (this.json) return this.line(event);
    updateRows(this.rows, event);
    if (event.type === 'sweep-finished') {
      const table = trialsTable([...this.rows.values()]);
      if (table.length > 0) for (const l of ['', ...table, '']) this.streams.out(l + '\n');
    }
    for (const l of sweepEventLines(event)) this.streams.out(l + '\n');
  }

  list(sweeps: readonly SweepSummary[], checkpointsDir: string): void {
    if (!this.json)
      for (const l of sweepListLines(sweeps, checkpointsDir)) this.streams.out(l + '\n');
    else for (const s of sweeps) this.line({ type: 'sweep', ...s });
  }

  deleted(result: { sweepId: string; runsDeleted: string[] }): void {
    if (this.json) this.line({ type: 'sweep-deleted', ...result });
    else this.streams.out(sweepDeletedLine(result) + '\n');
  }
}

export async function sweepMain(argv: string[]): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parse(argv));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    process.stderr.write(`usage: npm run cli -- sweep …\n${SWEEP_USAGE}\n`);
    return 0;
  }
  const name = positionals[0] ?? 'run';
  if (!Object.hasOwn(ACTIONS, name) || name === 'run')
    if (positionals.length > 0)
      throw new UsageError(`unknown sweep command "${name}" (resume, list or delete)`);
  if (positionals.length > 1) throw new UsageError(`unexpected argument: ${positionals[1]}`);
  const action = name as Action;
  const allowed: readonly string[] = [...COMMON, ...ACTIONS[action]];
  const stray = Object.keys(values).find((option) => !allowed.includes(option));
  const label = action === 'run' ? 'sweep' : `sweep ${action}`;
  if (stray) throw new UsageError(`${label} does not take --${stray}`);
  const backend = z.enum(BACKEND_CHOICES).safeParse(values.backend ?? 'auto');
  if (!backend.success)
    throw new UsageError(`--backend must be one of ${BACKEND_CHOICES.join(', ')}`);
  const root = path.resolve(values.checkpoints ?? 'checkpoints');
  const output = new SweepOutput(processStreams, wantsJson(values.json, process.stdout.isTTY));
  const owner = `the CLI (npm run cli -- ${label})`;

  switch (action) {
    case 'list':
      output.list(listSweeps(root), root);
      return 0;
    case 'delete':
      output.deleted(deleteSweep(root, requireSweep(values), { runs: values.runs, owner }));
      return 0;
    case 'run':
    case 'resume':
      break;
  }

  let spec: SweepSpec | null = null;
  let sweepId: string | null = null;
  if (action === 'run') spec = specFromArgs(values);
  else sweepId = requireSweep(values);

  // --queue: trials are BullMQ jobs for `worker`s (engine/sweeps/queue); else local processes.
  const queue = values.queue === undefined ? null : queueTargetArg(values.queue);
  const launcher =
    queue !== null
      ? await openQueueLauncher({
          target: queue,
          root,
          log: (line) => process.stderr.write(`queue: ${line}\n`),
        })
      : new LocalTrialLauncher({
          spawn: forkWorker(),
          checkpointsDir: root,
          dataDir: values.data ? path.resolve(values.data) : null,
          backend: backend.data,
          owner: `${owner}, a trial`,
        });
  const options = { root, launcher, owner, onEvent: (e: SweepEvent) => output.event(e) };
  const session: SweepSession =
    spec !== null ? startSweep(spec, options) : resumeSweep(sweepId!, options);

  let killedBy: NodeJS.Signals | null = null;
  // The listeners stay until the process exits, as for `train`: a late echo of the signal must
  // not meet a default handler (see ECHO_WINDOW_MS).
  onStopSignals({
    stop: (signal) => {
      if (process.stderr.isTTY)
        process.stderr.write(
          `${signal}: stopping every trial after its current batch (again to kill them)\n`,
        );
      const why = signal === 'SIGINT' ? 'Ctrl-C (SIGINT)' : signal;
      void session.stop(`the CLI received ${why}`);
    },
    kill: (signal) => {
      killedBy = signal;
      void session.kill();
    },
  });
  await session.done;
  return killedBy ? signalExitCode(killedBy) : 0;
}
