import { z } from 'zod';
import {
  PRESET_DEFAULTS,
  readsHiddenUnits,
  TrainConfigSchema,
  type ModelPreset,
  type Schedule,
  type TrainConfig,
} from '$contract/config';

/**
 * The Train form's fields as strings (what inputs hold), validated field by field against the
 * same schema the engine uses, so the form never accepts what the worker would reject.
 */

export type NumericField =
  | 'epochs'
  | 'batchSize'
  | 'learningRate'
  | 'learningRateDecay'
  | 'labelSmoothing'
  | 'hiddenUnits'
  | 'dropout'
  | 'validationSize'
  | 'limit'
  | 'seed'
  | 'threads';

/** The labels on screen: error messages name fields by these, never by the config's keys. */
export const FIELD_LABELS: Record<NumericField, string> = {
  epochs: 'Epochs',
  batchSize: 'Batch size',
  learningRate: 'Learning rate',
  learningRateDecay: 'LR decay / epoch',
  labelSmoothing: 'Label smoothing',
  hiddenUnits: 'Hidden units',
  dropout: 'Dropout',
  validationSize: 'Validation images',
  limit: 'Training images',
  seed: 'Seed',
  threads: 'Threads',
};

/** Inputs hold text; Svelte's bind:value on a number input hands back a number, or null when empty. */
export type FieldValue = string | number | null;

export type FormValues = Record<NumericField, FieldValue> & {
  model: ModelPreset;
  augment: boolean;
  backend: TrainConfig['backend'];
  schedule: Schedule;
};

export function formFromConfig(config: TrainConfig): FormValues {
  const s = (v: number | null) => (v === null ? '' : String(v));
  return {
    model: config.model,
    epochs: s(config.epochs),
    batchSize: s(config.batchSize),
    learningRate: s(config.learningRate),
    learningRateDecay: s(config.learningRateDecay),
    labelSmoothing: s(config.labelSmoothing ?? 0),
    schedule: config.schedule ?? 'decay',
    hiddenUnits: s(config.hiddenUnits),
    dropout: s(config.dropout),
    validationSize: s(config.validationSize),
    limit: s(config.limit),
    seed: s(config.seed),
    threads: s(config.threads ?? null),
    augment: config.augment,
    backend: config.backend,
  };
}

export const presetForm = (model: ModelPreset, backend: TrainConfig['backend']): FormValues => ({
  ...formFromConfig(PRESET_DEFAULTS[model]),
  backend,
});

/**
 * Whether a field changes anything for the form's model and schedule: hiddenUnits only where
 * readsHiddenUnits says (the cnn has no hidden Dense layer); every preset reads dropout. The
 * decay only applies to the `decay` schedule (engine/schedule.ts).
 */
export function fieldApplies(form: FormValues, field: NumericField): boolean {
  if (field === 'hiddenUnits') return readsHiddenUnits(form.model);
  if (field === 'learningRateDecay') return form.schedule !== 'one-cycle';
  return true;
}

type PresetField = NumericField | 'schedule' | 'augment';
const PRESET_FIELDS: PresetField[] = [
  'epochs',
  'batchSize',
  'learningRate',
  'learningRateDecay',
  'schedule',
  'labelSmoothing',
  'hiddenUnits',
  'dropout',
  'validationSize',
  'limit',
  'seed',
  'threads',
  'augment',
];

/** Same value as the form shows it: "2000", 2000 and "2e3" are one number; blank is blank. */
function sameValue(a: FieldValue | boolean | string, b: FieldValue | boolean | string): boolean {
  if (typeof a === 'boolean' || typeof b === 'boolean') return a === b;
  if (isBlank(a) || isBlank(b)) return isBlank(a) && isBlank(b);
  const [x, y] = [toNumber(a), toNumber(b)];
  return Number.isNaN(x) || Number.isNaN(y) ? String(a).trim() === String(b).trim() : x === y;
}

/**
 * The form after choosing another preset: what the user typed (a value that differs from the
 * old preset's default) stays, since every field means the same for every preset; the rest
 * takes the new preset's defaults.
 */
export function switchPreset(form: FormValues, model: ModelPreset): FormValues {
  const before = presetForm(form.model, form.backend);
  const next = presetForm(model, form.backend);
  for (const key of PRESET_FIELDS) {
    if (!sameValue(form[key], before[key])) (next as Record<PresetField, unknown>)[key] = form[key];
  }
  return next;
}

/** The form as it will train: a field the model ignores holds its preset's default. */
export function effectiveForm(form: FormValues): FormValues {
  const defaults = presetForm(form.model, form.backend);
  const effective = { ...form };
  for (const key of Object.keys(FIELD_LABELS) as NumericField[])
    if (!fieldApplies(form, key)) effective[key] = defaults[key];
  return effective;
}

const isBlank = (v: FieldValue): boolean =>
  v === null || (typeof v === 'string' && v.trim() === '');
const toNumber = (v: FieldValue): number =>
  typeof v === 'number' ? v : isBlank(v) ? Number.NaN : Number(v);

/** The candidate config; an empty "training-set size" means all images. */
export function configFromForm(form: FormValues): Record<string, unknown> {
  return {
    model: form.model,
    epochs: toNumber(form.epochs),
    batchSize: toNumber(form.batchSize),
    learningRate: toNumber(form.learningRate),
    learningRateDecay: toNumber(form.learningRateDecay),
    schedule: form.schedule,
    labelSmoothing: toNumber(form.labelSmoothing),
    hiddenUnits: toNumber(form.hiddenUnits),
    dropout: toNumber(form.dropout),
    validationSize: toNumber(form.validationSize),
    limit: isBlank(form.limit) ? null : toNumber(form.limit),
    seed: toNumber(form.seed),
    // Empty means "auto": the engine picks the thread count for the backend and model.
    threads: isBlank(form.threads) ? null : toNumber(form.threads),
    augment: form.augment,
    backend: form.backend,
  };
}

export type FieldErrors = Partial<Record<keyof FormValues, string>>;

export function validateForm(form: FormValues): {
  config: TrainConfig | null;
  errors: FieldErrors;
} {
  const parsed = TrainConfigSchema.safeParse(configFromForm(effectiveForm(form)));
  if (parsed.success) return { config: parsed.data, errors: {} };
  const errors: FieldErrors = {};
  for (const issue of (parsed.error as z.ZodError).issues) {
    const field = issue.path[0] as keyof FormValues | undefined;
    if (field && !errors[field]) errors[field] = labelled(field, issue.message);
  }
  return { config: null, errors };
}

/** "batchSize must be …" (the schema, which the CLI also prints) as "Batch size must be …". */
function labelled(field: keyof FormValues, message: string): string {
  const label = FIELD_LABELS[field as NumericField];
  return label && message.startsWith(field) ? label + message.slice(field.length) : message;
}

/** Fewer training images than this make a run's numbers mostly noise (a quick run uses 2,000). */
export const FEW_TRAINING_IMAGES = 500;
/** Fewer validation images than this give a validation accuracy in steps of over 1 %. */
export const FEW_VALIDATION_IMAGES = 100;

/**
 * What is wrong with a run's data size, in words, or null. The schema allows 1 training image and
 * no validation set (they are valid settings, and tests use them); a user gets told instead.
 */
export function smallDataWarning(
  config: Pick<TrainConfig, 'limit' | 'validationSize'>,
): string | null {
  const problems: string[] = [];
  if (config.limit !== null && config.limit < FEW_TRAINING_IMAGES)
    problems.push(
      `${config.limit.toLocaleString('en-US')} training image${config.limit === 1 ? '' : 's'} will teach the model little (a quick run uses 2,000)`,
    );
  if (config.validationSize === 0)
    problems.push('no validation images: no validation accuracy, and no best checkpoint to pick');
  else if (config.validationSize < FEW_VALIDATION_IMAGES)
    problems.push(
      `${config.validationSize} validation image${config.validationSize === 1 ? '' : 's'} make validation accuracy jump in steps of ${(100 / config.validationSize).toFixed(0)} %`,
    );
  if (problems.length === 0) return null;
  const text = problems.join('; ');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}
