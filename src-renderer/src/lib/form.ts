import { z } from 'zod';
import {
  PRESET_DEFAULTS,
  TrainConfigSchema,
  type ModelPreset,
  type Schedule,
  type TrainConfig,
} from '../../../src-main/contract/config';

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
  const parsed = TrainConfigSchema.safeParse(configFromForm(form));
  if (parsed.success) return { config: parsed.data, errors: {} };
  const errors: FieldErrors = {};
  for (const issue of (parsed.error as z.ZodError).issues) {
    const field = issue.path[0] as keyof FormValues | undefined;
    if (field && !errors[field]) errors[field] = issue.message;
  }
  return { config: null, errors };
}
