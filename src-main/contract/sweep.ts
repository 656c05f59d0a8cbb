import { z } from 'zod';
import {
  MAX_THREADS,
  MODEL_PRESETS,
  PartialTrainConfigSchema,
  TrainConfigSchema,
  readsHiddenUnits,
  resolveTrainConfig,
  type TrainConfig,
} from './config';
import { RUN_ID_PATTERN } from './messages';

/**
 * A hyper-parameter sweep: a model preset, settings every trial shares, a search space, a
 * strategy and a budget. Every value the space can produce is checked here against
 * TrainConfigSchema, so a sweep that parses never proposes a trial the trainer would refuse.
 */

/** What a hyper-parameter's values are, which decides the kinds of range it accepts. */
const SEARCHABLE = {
  epochs: 'int',
  batchSize: 'int',
  hiddenUnits: 'int',
  limit: 'int',
  learningRate: 'real',
  learningRateDecay: 'real',
  labelSmoothing: 'real',
  dropout: 'real',
  schedule: 'categorical',
  augment: 'categorical',
} as const satisfies Partial<Record<keyof TrainConfig, 'int' | 'real' | 'categorical'>>;
export type SearchableParam = keyof typeof SEARCHABLE;
export const SEARCHABLE_PARAMS = Object.keys(SEARCHABLE) as SearchableParam[];

/** TrainConfig fields that are not hyper-parameters, with the reason a user is told. */
const NOT_SEARCHABLE: Record<Exclude<keyof TrainConfig, SearchableParam>, string> = {
  model: "model is the sweep's preset; sweep one preset at a time",
  seed: 'seed is not a hyper-parameter; set it in base so trials differ only in the space',
  validationSize:
    'validationSize changes the set trials are scored on, so scores would not compare',
  backend: 'backend changes speed, not the model; set it in base',
  threads: 'threads changes speed, not the model; set it in base',
};

const finite = (field: string) =>
  z
    .number({ error: `${field} must be a number` })
    .refine(Number.isFinite, { error: `${field} must be a finite number` });

export const LogUniformSchema = z
  .object({ kind: z.literal('log-uniform'), min: finite('min'), max: finite('max') })
  .strict();
export const UniformSchema = z
  .object({ kind: z.literal('uniform'), min: finite('min'), max: finite('max') })
  .strict();
export const IntRangeSchema = z
  .object({
    kind: z.literal('int'),
    min: z.number({ error: 'min must be a number' }).int({ error: 'min must be a whole number' }),
    max: z.number({ error: 'max must be a number' }).int({ error: 'max must be a whole number' }),
    step: z
      .number({ error: 'step must be a number' })
      .int({ error: 'step must be a whole number' })
      .min(1, { error: 'step must be at least 1' })
      .default(1),
  })
  .strict();
export const ChoiceValueSchema = z.union([z.number(), z.string(), z.boolean(), z.null()], {
  error: 'choices must be numbers, strings, true/false or null',
});
export type ChoiceValue = z.infer<typeof ChoiceValueSchema>;
export const ChoiceSchema = z
  .object({
    kind: z.literal('choice'),
    values: z.array(ChoiceValueSchema).min(1, { error: 'choice needs at least one value' }),
  })
  .strict();

export const DimensionSchema = z.discriminatedUnion('kind', [
  LogUniformSchema,
  UniformSchema,
  IntRangeSchema,
  ChoiceSchema,
]);
export type Dimension = z.infer<typeof DimensionSchema>;
export type SearchSpace = Record<string, Dimension>;

export const STRATEGIES = ['grid', 'random', 'tpe'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** A grid cuts each continuous range into this many points unless the spec says otherwise. */
export const DEFAULT_GRID_POINTS = 5;
/** Grid order is a seeded shuffle of every index, held in memory: this bounds it. */
export const MAX_GRID_SIZE = 1_000_000;

export const AshaSchema = z
  .object({
    kind: z.literal('asha'),
    /** First rung: every trial trains at least this many epochs before it can be pruned. */
    minEpochs: z
      .number({ error: 'minEpochs must be a number' })
      .int({ error: 'minEpochs must be a whole number' })
      .min(1, { error: 'minEpochs must be at least 1' }),
    /** η: each rung keeps the top 1/η and sits η times further out than the one before. */
    reductionFactor: z
      .number({ error: 'reductionFactor must be a number' })
      .int({ error: 'reductionFactor must be a whole number' })
      .min(2, { error: 'reductionFactor must be between 2 and 10' })
      .max(10, { error: 'reductionFactor must be between 2 and 10' })
      .default(3),
  })
  .strict();
export type AshaSettings = z.infer<typeof AshaSchema>;
export const EarlyStoppingSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none') }).strict(),
  AshaSchema,
]);
export type EarlyStopping = z.infer<typeof EarlyStoppingSchema>;

export const BudgetSchema = z
  .object({
    maxTrials: z
      .number({ error: 'maxTrials must be a number' })
      .int({ error: 'maxTrials must be a whole number' })
      .min(1, { error: 'maxTrials must be between 1 and 100000' })
      .max(100_000, { error: 'maxTrials must be between 1 and 100000' })
      .optional(),
    maxSeconds: finite('maxSeconds')
      .refine((v) => v > 0, { error: 'maxSeconds must be greater than 0' })
      .optional(),
  })
  .strict()
  .refine((b) => b.maxTrials !== undefined || b.maxSeconds !== undefined, {
    error: 'budget needs maxTrials, maxSeconds or both',
  });
export type Budget = z.infer<typeof BudgetSchema>;

const count = (field: string, min: number, max: number) =>
  z
    .number({ error: `${field} must be a number` })
    .int({ error: `${field} must be a whole number` })
    .min(min, { error: `${field} must be between ${min} and ${max}` })
    .max(max, { error: `${field} must be between ${min} and ${max}` });

export const TpeSettingsSchema = z
  .object({
    /** Random trials before the model takes over (Optuna's n_startup_trials). */
    startupTrials: count('startupTrials', 1, 1000).default(10),
    /** Samples drawn from l(x) per proposal, the best l/g kept (Optuna's n_ei_candidates). */
    candidates: count('candidates', 1, 1000).default(24),
  })
  .strict();
export type TpeSettings = z.infer<typeof TpeSettingsSchema>;

const BaseOverridesSchema = PartialTrainConfigSchema.omit({ model: true }).strict();

const SweepSpecObject = z
  .object({
    preset: z.enum(MODEL_PRESETS, { error: `preset must be one of ${MODEL_PRESETS.join(', ')}` }),
    /** Settings every trial shares, over the preset's defaults. */
    base: BaseOverridesSchema.default({}),
    space: z.record(z.string(), DimensionSchema),
    strategy: z
      .enum(STRATEGIES, { error: `strategy must be one of ${STRATEGIES.join(', ')}` })
      .default('tpe'),
    /** Points per continuous range under the grid strategy (log-spaced for log ranges). */
    gridPoints: count('gridPoints', 2, 100).default(DEFAULT_GRID_POINTS),
    tpe: TpeSettingsSchema.default({ startupTrials: 10, candidates: 24 }),
    budget: BudgetSchema,
    parallelism: z
      .union([z.literal('auto'), count('parallelism', 1, MAX_THREADS)], {
        error: `parallelism must be "auto" or a whole number between 1 and ${MAX_THREADS}`,
      })
      .default('auto'),
    earlyStopping: EarlyStoppingSchema.default({ kind: 'none' }),
    seed: count('seed', 0, 2 ** 31 - 1).default(0),
  })
  .strict();

export const SweepSpecSchema = SweepSpecObject.superRefine((spec, ctx) => {
  const issue = (path: (string | number)[], message: string) =>
    ctx.addIssue({ code: 'custom', path, message });

  let base: TrainConfig;
  try {
    base = resolveTrainConfig({ ...spec.base, model: spec.preset });
  } catch (error) {
    for (const i of (error as z.ZodError).issues) issue(['base', ...pathOf(i)], i.message);
    return;
  }

  const names = Object.keys(spec.space);
  if (names.length === 0) issue(['space'], 'space needs at least one hyper-parameter');
  for (const name of names) {
    const dim = spec.space[name]!;
    const at = (...rest: (string | number)[]) => ['space', name, ...rest];
    if (!isSearchable(name)) {
      const why = (NOT_SEARCHABLE as Record<string, string>)[name];
      issue(
        at(),
        why ?? `unknown hyper-parameter ${name}; searchable: ${SEARCHABLE_PARAMS.join(', ')}`,
      );
      continue;
    }
    if (name in spec.base)
      issue(at(), `${name} is set in base and searched in space; keep it in one of them`);
    if (name === 'hiddenUnits' && !readsHiddenUnits(spec.preset))
      issue(at(), `the ${spec.preset} preset ignores hiddenUnits, so searching it is wasted`);
    if (name === 'epochs' && spec.earlyStopping.kind === 'asha')
      issue(at(), 'early stopping decides how many epochs a trial gets: set epochs in base');
    const problems = dimensionProblems(name, dim);
    for (const [where, message] of problems) issue(at(...where), message);
    if (problems.length > 0) continue;
    // Every value the space can produce, checked by the trainer's own schema.
    for (const [where, value] of extremeValues(dim)) {
      const parsed = TrainConfigSchema.safeParse({ ...base, [name]: value });
      if (!parsed.success)
        for (const i of parsed.error.issues)
          issue(at(...where), `${i.message} (got ${show(value)})`);
    }
  }

  if (spec.earlyStopping.kind === 'asha' && spec.earlyStopping.minEpochs >= base.epochs)
    issue(
      ['earlyStopping', 'minEpochs'],
      `minEpochs must be below the trials' epochs (${base.epochs}), or no trial could be pruned`,
    );
  if (spec.strategy === 'grid') {
    const size = gridSize(spec.space, spec.gridPoints);
    if (size > MAX_GRID_SIZE)
      issue(['space'], `the grid has ${size} points; at most ${MAX_GRID_SIZE} (narrow the space)`);
  }
});
export type SweepSpec = z.infer<typeof SweepSpecSchema>;
export type SweepSpecInput = z.input<typeof SweepSpecSchema>;

/** Parses a sweep spec (throws a ZodError; describeZodError words it one problem per field). */
export function parseSweepSpec(input: unknown): SweepSpec {
  return SweepSpecSchema.parse(input);
}

export function isSearchable(name: string): name is SearchableParam {
  return Object.hasOwn(SEARCHABLE, name);
}

/** Whether a hyper-parameter takes whole numbers, reals or set values: the ranges it accepts. */
export function searchableType(name: SearchableParam): 'int' | 'real' | 'categorical' {
  return SEARCHABLE[name];
}

/** The values of an int range: min, min+step, … up to the last one not above max. */
export function intValues(dim: z.infer<typeof IntRangeSchema>): number[] {
  const n = Math.floor((dim.max - dim.min) / dim.step) + 1;
  return Array.from({ length: n }, (_, k) => dim.min + k * dim.step);
}

/** The largest value of an int range: max itself when the step lands on it. */
export function lastIntValue(dim: z.infer<typeof IntRangeSchema>): number {
  return dim.min + Math.floor((dim.max - dim.min) / dim.step) * dim.step;
}

/** How many values a dimension contributes to a grid. */
export function gridCount(dim: Dimension, gridPoints: number): number {
  switch (dim.kind) {
    case 'choice':
      return dim.values.length;
    case 'int':
      return Math.floor((dim.max - dim.min) / dim.step) + 1;
    default:
      return gridPoints;
  }
}

export function gridSize(space: SearchSpace, gridPoints: number): number {
  return Object.values(space).reduce((n, dim) => n * gridCount(dim, gridPoints), 1);
}

/** The trial config for a point of the space: preset defaults, then base, then the point. */
export function trialConfig(
  spec: Pick<SweepSpec, 'preset' | 'base'>,
  point: Record<string, ChoiceValue>,
): TrainConfig {
  return resolveTrainConfig({ ...spec.base, ...point, model: spec.preset });
}

function dimensionProblems(name: SearchableParam, dim: Dimension): [(string | number)[], string][] {
  const problems: [(string | number)[], string][] = [];
  const type = SEARCHABLE[name];
  if (dim.kind === 'choice') {
    const seen = new Set<string>();
    dim.values.forEach((v, i) => {
      const key = JSON.stringify(v);
      if (seen.has(key))
        problems.push([['values', i], `${key} is listed twice in ${name}'s choices`]);
      seen.add(key);
    });
    return problems;
  }
  if (type === 'categorical') {
    problems.push([['kind'], `${name} takes set values: use kind "choice"`]);
    return problems;
  }
  if (type === 'int' && dim.kind !== 'int')
    problems.push([['kind'], `${name} is a whole number: use kind "int" or "choice"`]);
  if (type === 'real' && dim.kind === 'int')
    problems.push([['kind'], `${name} is continuous: use "uniform", "log-uniform" or "choice"`]);
  if (dim.min >= dim.max)
    problems.push([
      ['max'],
      `${name}'s max (${dim.max}) must be greater than its min (${dim.min})`,
    ]);
  if (dim.kind === 'log-uniform' && dim.min <= 0)
    problems.push([['min'], `a log-uniform range for ${name} needs min > 0 (got ${dim.min})`]);
  if (dim.kind === 'int' && dim.min < dim.max && dim.step > dim.max - dim.min)
    problems.push([
      ['step'],
      `${name}'s step (${dim.step}) is wider than its range ${dim.min}..${dim.max}`,
    ]);
  return problems;
}

/**
 * The values that bound what a dimension can produce. TrainConfig's numeric limits are
 * intervals, so a range whose ends pass passes everywhere in between; choices are all checked.
 */
function extremeValues(dim: Dimension): [(string | number)[], ChoiceValue][] {
  switch (dim.kind) {
    case 'choice':
      return dim.values.map((v, i) => [['values', i], v]);
    case 'int': {
      if (dim.min >= dim.max) return [[['min'], dim.min]];
      return [
        [['min'], dim.min],
        [['max'], lastIntValue(dim)],
      ];
    }
    default:
      return [
        [['min'], dim.min],
        [['max'], dim.max],
      ];
  }
}

function pathOf(issue: z.core.$ZodIssue): (string | number)[] {
  return issue.path.filter((p): p is string | number => typeof p !== 'symbol');
}

const show = (v: ChoiceValue): string => JSON.stringify(v);

/**
 * A trial's life: proposed (`pending`), `running`, then `finished`, `pruned` by early stopping
 * or `failed`; `interrupted` when the sweep's process died while it ran (resumed or rerun).
 */
export const TRIAL_STATUSES = [
  'pending',
  'running',
  'interrupted',
  'finished',
  'pruned',
  'failed',
] as const;
export type TrialStatus = (typeof TRIAL_STATUSES)[number];
export const SWEEP_STATUSES = ['running', 'finished', 'stopped'] as const;
export type SweepStatus = (typeof SWEEP_STATUSES)[number];

// ---------------------------------------------------------------- a running sweep's events

const sweepId = z.string().regex(RUN_ID_PATTERN);
const trialNumber = z.number().int().min(1);
const runId = z.string().regex(RUN_ID_PATTERN);

export const SweepTrialCountsSchema = z.object({
  pending: z.number().int().min(0),
  running: z.number().int().min(0),
  interrupted: z.number().int().min(0),
  finished: z.number().int().min(0),
  pruned: z.number().int().min(0),
  failed: z.number().int().min(0),
});
export type SweepTrialCounts = z.infer<typeof SweepTrialCountsSchema>;

export const SweepBestSchema = z.object({
  trial: trialNumber,
  runId: runId.nullable(),
  valAccuracy: z.number(),
  epoch: z.number().int().min(1),
  point: z.record(z.string(), ChoiceValueSchema),
});
export type SweepBest = z.infer<typeof SweepBestSchema>;

/**
 * What a running sweep reports (engine/sweeps/runner.ts): the CLI prints these as JSON lines,
 * and a Sweep panel can draw its live table from them.
 */
export const SweepEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('sweep-started'),
    sweepId,
    preset: z.enum(MODEL_PRESETS),
    strategy: z.enum(STRATEGIES),
    budget: z.object({ maxTrials: z.number().optional(), maxSeconds: z.number().optional() }),
    parallelism: z.union([z.literal('auto'), z.number().int().min(1)]),
    /** Cores the 'auto' rule divides among trials. */
    cores: z.number().int().min(1),
    /** The ASHA rungs, one line each (empty without early stopping). */
    rungs: z.array(z.string()),
    resumed: z.boolean(),
    /** Trials proposed in earlier sessions (0 for a new sweep). */
    trialsBefore: z.number().int().min(0),
  }),
  z.object({
    type: z.literal('trial-started'),
    sweepId,
    trial: trialNumber,
    runId,
    point: z.record(z.string(), ChoiceValueSchema),
    epochs: z.number().int().min(1),
    attempt: z.number().int().min(1),
    /** The checkpoint a resumed trial continues from; 0 when it starts from scratch. */
    fromEpoch: z.number().int().min(0),
  }),
  z.object({
    type: z.literal('trial-epoch'),
    sweepId,
    trial: trialNumber,
    runId,
    epoch: z.number().int().min(1),
    epochs: z.number().int().min(1),
    valAccuracy: z.number(),
    seconds: z.number(),
  }),
  z.object({
    type: z.literal('trial-pruned'),
    sweepId,
    trial: trialNumber,
    runId,
    /** The last epoch it trained (its checkpoints up to here stay). */
    epoch: z.number().int().min(0),
    reason: z.string(),
  }),
  z.object({
    type: z.literal('trial-finished'),
    sweepId,
    trial: trialNumber,
    runId,
    epochs: z.number().int().min(0),
    bestValAccuracy: z.number().nullable(),
  }),
  z.object({
    type: z.literal('trial-failed'),
    sweepId,
    trial: trialNumber,
    runId: runId.nullable(),
    reason: z.string(),
  }),
  z.object({
    type: z.literal('trial-interrupted'),
    sweepId,
    trial: trialNumber,
    runId: runId.nullable(),
    /** The last epoch with a checkpoint: where `sweep resume` continues. */
    epoch: z.number().int().min(0),
  }),
  z.object({
    type: z.literal('sweep-finished'),
    sweepId,
    /** finished: the budget or the space is used up; stopped: resumable with `sweep resume`. */
    status: z.enum(['finished', 'stopped']),
    trials: SweepTrialCountsSchema,
    best: SweepBestSchema.nullable(),
    /** Wall time of every session so far. */
    seconds: z.number().min(0),
  }),
]);
export type SweepEvent = z.infer<typeof SweepEventSchema>;
export type SweepEventOfType<T extends SweepEvent['type']> = Extract<SweepEvent, { type: T }>;
