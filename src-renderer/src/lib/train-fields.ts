import type { BackendChoice, ModelPreset, Schedule } from '$contract/config';
import { BACKEND_LABELS } from './backend-badge';
import type { NumericField } from './form';

/** The Train form's words for the contract's choices. */
export const MODEL_LABELS: Record<ModelPreset, string> = {
  mlp: 'MLP — the seed model (Dense 128)',
  cnn: 'CNN — keras mnist_convnet',
  'cnn-fast': 'CNN fast — ~99.5 % in 4 epochs (BatchNorm, one-cycle)',
  'cnn-strong': 'CNN strong — BatchNorm + shifts',
};
export const SCHEDULE_LABELS: Record<Schedule, string> = {
  decay: 'Decay per epoch',
  'one-cycle': 'One-cycle',
};
export const BACKEND_CHOICE_LABELS: Record<BackendChoice, string> = {
  auto: 'Automatic (fastest available)',
  ...BACKEND_LABELS,
};

/** The form's number fields in screen order, with the hint shown under each. */
export const FIELDS: {
  key: NumericField;
  testid?: string;
  step: string;
  hint: string;
}[] = [
  { key: 'epochs', testid: 'epochs-input', step: '1', hint: '1–500' },
  { key: 'batchSize', step: '1', hint: '1–4096' },
  { key: 'learningRate', step: 'any', hint: 'Adam, e.g. 0.001' },
  { key: 'learningRateDecay', step: 'any', hint: '0.5–1 (1 = constant)' },
  { key: 'labelSmoothing', step: 'any', hint: '0–0.5 (0 = off)' },
  { key: 'hiddenUnits', step: '1', hint: 'dense layer width' },
  { key: 'dropout', step: 'any', hint: '0–0.95' },
  { key: 'validationSize', step: '1', hint: 'held back from training' },
  { key: 'limit', testid: 'limit-input', step: '1', hint: 'empty = all (quick runs: 2000)' },
  { key: 'seed', step: '1', hint: 'same seed, same run' },
  { key: 'threads', step: '1', hint: 'empty = auto (WASM: one per core for CNNs)' },
];
