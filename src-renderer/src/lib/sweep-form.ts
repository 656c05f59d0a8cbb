import { z } from 'zod';
import { PRESET_DEFAULTS, readsHiddenUnits, type ModelPreset } from '$contract/config';
import {
  SEARCHABLE_PARAMS,
  searchableType,
  SweepSpecSchema,
  type ChoiceValue,
  type SearchableParam,
  type Strategy,
  type SweepSpec,
} from '$contract/sweep';
import { FIELD_LABELS, type FieldValue } from './form';
import { SCHEDULE_LABELS } from './train-fields';

/**
 * The Sweep form as the inputs hold it, assembled into a sweep spec and validated by the
 * contract's own SweepSpecSchema, so the form accepts exactly the sweeps the engine runs and says
 * what is wrong in the schema's words, under the field that is wrong.
 */

/** Off: the preset's default; fixed: one value for every trial; range or choices: searched. */
export type RowMode = 'off' | 'fixed' | 'range' | 'choices';

export interface ParamRow {
  mode: RowMode;
  /** Schedule and augment hold their text ('decay', 'true'); numbers what the input gives. */
  fixed: FieldValue;
  min: FieldValue;
  max: FieldValue;
  /** Real ranges only: log-uniform rather than uniform. */
  log: boolean;
  /** Int ranges only. */
  step: FieldValue;
  /** Comma-separated. */
  choices: string;
}

export interface SweepFormValues {
  preset: ModelPreset;
  rows: Record<SearchableParam, ParamRow>;
  strategy: Strategy;
  gridPoints: FieldValue;
  maxTrials: FieldValue;
  maxMinutes: FieldValue;
  /** Blank: auto. */
  parallelism: FieldValue;
  asha: boolean;
  minEpochs: FieldValue;
  reductionFactor: FieldValue;
  seed: FieldValue;
}

export const PARAM_LABELS: Record<SearchableParam, string> = {
  epochs: FIELD_LABELS.epochs,
  batchSize: FIELD_LABELS.batchSize,
  hiddenUnits: FIELD_LABELS.hiddenUnits,
  limit: FIELD_LABELS.limit,
  learningRate: FIELD_LABELS.learningRate,
  learningRateDecay: FIELD_LABELS.learningRateDecay,
  labelSmoothing: FIELD_LABELS.labelSmoothing,
  dropout: FIELD_LABELS.dropout,
  schedule: 'LR schedule',
  augment: 'Augment',
};

/** The form's other fields, as its messages name them instead of the spec's keys. */
const SPEC_LABELS: Record<string, string> = {
  maxTrials: 'Trials',
  maxSeconds: 'Time budget',
  parallelism: 'Parallel trials',
  minEpochs: 'Min epochs',
  reductionFactor: 'η',
  gridPoints: 'Grid points',
  seed: 'Seed',
};

export const STRATEGY_LABELS: Record<Strategy, string> = {
  tpe: 'TPE (model-based)',
  random: 'Random',
  grid: 'Grid',
};

/** The rows in the Train form's order: the ones users already know, where they know them. */
export const PARAM_ORDER: SearchableParam[] = [
  'epochs',
  'batchSize',
  'learningRate',
  'schedule',
  'learningRateDecay',
  'labelSmoothing',
  'hiddenUnits',
  'dropout',
  'limit',
  'augment',
];

/** The modes a hyper-parameter can take: set values have no range. */
export function modesOf(param: SearchableParam): RowMode[] {
  return searchableType(param) === 'categorical'
    ? ['off', 'fixed', 'choices']
    : ['off', 'fixed', 'range', 'choices'];
}

/** Searchable hyper-parameters the preset reads: the cnn has no hidden layer to size. */
export function paramsFor(preset: ModelPreset): SearchableParam[] {
  return PARAM_ORDER.filter((p) => p !== 'hiddenUnits' || readsHiddenUnits(preset));
}

/** Ranges a first sweep over the parameter would reasonably try. */
const STARTING_RANGES: Record<
  SearchableParam,
  Pick<ParamRow, 'min' | 'max' | 'log' | 'choices'>
> = {
  epochs: { min: 1, max: 20, log: false, choices: '5, 10, 15' },
  batchSize: { min: 16, max: 256, log: false, choices: '32, 64, 128' },
  learningRate: { min: 0.0001, max: 0.01, log: true, choices: '0.0005, 0.001, 0.002' },
  learningRateDecay: { min: 0.5, max: 1, log: false, choices: '0.7, 0.85, 1' },
  labelSmoothing: { min: 0, max: 0.2, log: false, choices: '0, 0.1' },
  hiddenUnits: { min: 32, max: 512, log: false, choices: '64, 128, 256' },
  dropout: { min: 0, max: 0.5, log: false, choices: '0, 0.2, 0.4' },
  limit: { min: 2000, max: 54000, log: false, choices: '2000, 10000, all' },
  schedule: { min: null, max: null, log: false, choices: 'decay, one-cycle' },
  augment: { min: null, max: null, log: false, choices: 'false, true' },
};

/** The preset's default, as the fixed input shows it. */
function defaultValue(preset: ModelPreset, param: SearchableParam): FieldValue {
  const v = PRESET_DEFAULTS[preset][param];
  if (v === undefined || v === null) return param === 'limit' ? '' : null;
  return typeof v === 'number' ? v : String(v);
}

/** The issue's example sweep: learning rate on a log scale, batch size from a list, dropout. */
export function initialSweepForm(preset: ModelPreset = 'mlp'): SweepFormValues {
  const searched: Partial<Record<SearchableParam, RowMode>> = {
    learningRate: 'range',
    batchSize: 'choices',
    dropout: 'range',
  };
  const rows = Object.fromEntries(
    SEARCHABLE_PARAMS.map((p) => [
      p,
      {
        mode: searched[p] ?? 'off',
        fixed: defaultValue(preset, p),
        step: 1,
        ...STARTING_RANGES[p],
      },
    ]),
  ) as Record<SearchableParam, ParamRow>;
  return {
    preset,
    rows,
    strategy: 'tpe',
    gridPoints: 5,
    maxTrials: 20,
    maxMinutes: '',
    parallelism: '',
    asha: true,
    minEpochs: 1,
    reductionFactor: 3,
    seed: 0,
  };
}

/** Another preset: fixed values left at the old preset's default take the new one's. */
export function switchSweepPreset(form: SweepFormValues, preset: ModelPreset): SweepFormValues {
  const rows = { ...form.rows };
  for (const p of SEARCHABLE_PARAMS) {
    const row = rows[p];
    if (sameText(row.fixed, defaultValue(form.preset, p)))
      rows[p] = { ...row, fixed: defaultValue(preset, p) };
  }
  return { ...form, preset, rows };
}

/**
 * The form that describes a spec: how a running sweep's settings are shown. Base settings the
 * form has no row for (seed, validation images, backend, threads) are not shown.
 */
export function formFromSpec(spec: SweepSpec): SweepFormValues {
  const form = initialSweepForm(spec.preset);
  const base = spec.base as Partial<Record<SearchableParam, ChoiceValue>>;
  const rows = { ...form.rows };
  for (const p of SEARCHABLE_PARAMS) {
    const row: ParamRow = { ...rows[p], mode: 'off' };
    const dim = spec.space[p];
    const fixed = base[p];
    if (dim?.kind === 'choice') {
      row.mode = 'choices';
      row.choices = dim.values.map((v) => choiceText(p, v)).join(', ');
    } else if (dim) {
      Object.assign(row, { mode: 'range', min: dim.min, max: dim.max });
      if (dim.kind === 'int') row.step = dim.step;
      else row.log = dim.kind === 'log-uniform';
    } else if (fixed !== undefined) {
      row.mode = 'fixed';
      row.fixed = typeof fixed === 'number' ? fixed : fixed === null ? '' : String(fixed);
    }
    rows[p] = row;
  }
  const { budget, earlyStopping } = spec;
  return {
    ...form,
    rows,
    strategy: spec.strategy,
    gridPoints: spec.gridPoints,
    maxTrials: budget.maxTrials ?? '',
    maxMinutes: budget.maxSeconds === undefined ? '' : budget.maxSeconds / 60,
    parallelism: spec.parallelism === 'auto' ? '' : spec.parallelism,
    asha: earlyStopping.kind === 'asha',
    ...(earlyStopping.kind === 'asha'
      ? { minEpochs: earlyStopping.minEpochs, reductionFactor: earlyStopping.reductionFactor }
      : {}),
    seed: spec.seed,
  };
}

/** A choice as typed in the list: parseValue reads it back as the same value. */
function choiceText(param: SearchableParam, value: ChoiceValue): string {
  if (value === null) return param === 'limit' ? 'all' : '';
  return String(value);
}

const isBlank = (v: FieldValue): boolean =>
  v === null || (typeof v === 'string' && v.trim() === '');
const sameText = (a: FieldValue, b: FieldValue) =>
  isBlank(a) ? isBlank(b) : !isBlank(b) && String(a).trim() === String(b).trim();
/** A blank input is no number: the schema then says the field "must be a number". */
const toNumber = (v: FieldValue): number | undefined =>
  isBlank(v) ? undefined : typeof v === 'number' ? v : Number(v);

/**
 * One typed value as the hyper-parameter takes it. What does not read as its type is passed on
 * as typed, so the schema names the field and quotes the value ("batchSize must be a number").
 */
export function parseValue(param: SearchableParam, text: FieldValue): ChoiceValue {
  if (typeof text === 'number') return text;
  const t = (text ?? '').trim();
  const type = searchableType(param);
  if (param === 'limit' && (t === '' || t.toLowerCase() === 'all')) return null;
  if (param === 'augment') {
    if (/^(true|yes|on)$/i.test(t)) return true;
    if (/^(false|no|off)$/i.test(t)) return false;
    return t;
  }
  if (type === 'categorical') return t;
  const n = t === '' ? Number.NaN : Number(t);
  return Number.isNaN(n) ? t : n;
}

export function parseChoices(param: SearchableParam, text: string): ChoiceValue[] {
  return text
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '')
    .map((t) => parseValue(param, t));
}

/** The spec the form describes, before validation: what parseSweepSpec is given. */
export function specInput(form: SweepFormValues): Record<string, unknown> {
  const base: Record<string, unknown> = {};
  const space: Record<string, unknown> = {};
  for (const p of paramsFor(form.preset)) {
    const row = form.rows[p];
    if (row.mode === 'fixed') base[p] = parseValue(p, row.fixed);
    else if (row.mode === 'choices')
      space[p] = { kind: 'choice', values: parseChoices(p, row.choices) };
    else if (row.mode === 'range')
      space[p] =
        searchableType(p) === 'int'
          ? {
              kind: 'int',
              min: toNumber(row.min),
              max: toNumber(row.max),
              step: toNumber(row.step),
            }
          : {
              kind: row.log ? 'log-uniform' : 'uniform',
              min: toNumber(row.min),
              max: toNumber(row.max),
            };
  }
  const budget: Record<string, unknown> = {};
  if (!isBlank(form.maxTrials)) budget.maxTrials = toNumber(form.maxTrials);
  const minutes = toNumber(form.maxMinutes);
  if (minutes !== undefined) budget.maxSeconds = minutes * 60;
  return {
    preset: form.preset,
    base,
    space,
    strategy: form.strategy,
    ...(form.strategy === 'grid' ? { gridPoints: toNumber(form.gridPoints) } : {}),
    budget,
    parallelism: isBlank(form.parallelism) ? 'auto' : toNumber(form.parallelism),
    earlyStopping: form.asha
      ? {
          kind: 'asha',
          minEpochs: toNumber(form.minEpochs),
          reductionFactor: toNumber(form.reductionFactor),
        }
      : { kind: 'none' },
    seed: toNumber(form.seed),
  };
}

/**
 * Errors keyed by where they show: "space.dropout.max", "base.batchSize", "budget.maxTrials",
 * "earlyStopping.minEpochs"; a choice's problem at values.2 shows on its list, "space.x.values".
 */
export type SweepErrors = Record<string, string>;

export function validateSweepForm(form: SweepFormValues): {
  spec: SweepSpec | null;
  errors: SweepErrors;
} {
  const parsed = SweepSpecSchema.safeParse(specInput(form));
  if (parsed.success) return { spec: parsed.data, errors: {} };
  const errors: SweepErrors = {};
  for (const issue of (parsed.error as z.ZodError).issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    const key = errorKey(path);
    errors[key] ??= labelled(issue.message);
  }
  return { spec: null, errors };
}

function errorKey(path: (string | number)[]): string {
  const [head, name, where] = path;
  if (head === 'space' && name !== undefined)
    return where === undefined ? `space.${name}` : `space.${name}.${where}`;
  if (head === 'base' && name !== undefined) return `base.${name}`;
  return path.slice(0, 2).join('.');
}

/** "batchSize must be …" as the Train form words it: "Batch size must be …". */
function labelled(message: string): string {
  const labels: Record<string, string> = { ...PARAM_LABELS, ...SPEC_LABELS };
  const match = /^([A-Za-z]+)\b/.exec(message);
  const label = match ? labels[match[1]!] : undefined;
  return label ? label + message.slice(match![1]!.length) : message;
}

/** The errors a parameter's row shows, first the row's own, then its inputs'. */
export function rowError(errors: SweepErrors, param: SearchableParam): string | null {
  const keys = ['', '.kind', '.min', '.max', '.step', '.values'].map((k) => `space.${param}${k}`);
  for (const key of [...keys, `base.${param}`]) if (errors[key]) return errors[key];
  return null;
}

/** A hint under the row: the Train form's limits for the parameter. */
export function paramHint(param: SearchableParam): string {
  if (param === 'schedule') return Object.keys(SCHEDULE_LABELS).join(', ');
  if (param === 'augment') return 'true, false';
  return HINTS[param as Exclude<SearchableParam, 'schedule' | 'augment'>];
}

const HINTS: Record<Exclude<SearchableParam, 'schedule' | 'augment'>, string> = {
  epochs: '1–500',
  batchSize: '1–4096',
  learningRate: 'above 0, at most 1',
  learningRateDecay: '0.5–1 (1 = constant)',
  labelSmoothing: '0–0.5',
  hiddenUnits: '1–4096',
  dropout: '0–0.95',
  limit: '1–60000, “all” for every image',
};
