import type { TrainConfig } from '../contract/config';

/**
 * What Keras' `model.summary()` prints, for the model a config builds (engine/models.ts): each
 * layer's class, output shape and parameter count, and the totals. Worked out from the config
 * alone, without TensorFlow.js, so the Train panel can show it for the settings being chosen
 * before anything is built; a test holds it to the built model's own shapes and counts.
 */

export interface SummaryRow {
  /** tfjs-layers' class name, as Keras prints it in parentheses. */
  layer: string;
  /** Without the batch dimension. */
  outputShape: number[];
  params: number;
}

export interface ModelSummary {
  rows: SummaryRow[];
  total: number;
  trainable: number;
  /** BatchNormalization's moving mean and variance. */
  nonTrainable: number;
}

type Spec = Pick<TrainConfig, 'model' | 'hiddenUnits' | 'dropout'>;

export function modelSummary(spec: Spec): ModelSummary {
  const rows: SummaryRow[] = [];
  let nonTrainable = 0;
  let shape: number[] = [28, 28, 1];
  const add = (layer: string, outputShape: number[], params = 0) => {
    rows.push({ layer, outputShape, params });
    shape = outputShape;
  };
  const conv = (filters: number, bias: boolean) => {
    const [h, w, c] = shape as [number, number, number];
    add('Conv2D', [h - 2, w - 2, filters], 9 * c * filters + (bias ? filters : 0));
  };
  const pool = () => {
    const [h, w, c] = shape as [number, number, number];
    add('MaxPooling2D', [Math.floor(h / 2), Math.floor(w / 2), c]);
  };
  const batchNorm = () => {
    const channels = shape[shape.length - 1]!;
    // gamma and beta train; the moving mean and variance do not.
    add('BatchNormalization', shape, 4 * channels);
    nonTrainable += 2 * channels;
  };
  const flatten = () => add('Flatten', [shape.reduce((a, b) => a * b, 1)]);
  const dense = (units: number, bias = true) =>
    add('Dense', [units], shape[0]! * units + (bias ? units : 0));
  const dropout = () => {
    if (spec.dropout > 0) add('Dropout', shape);
  };
  const convBatchNorm = (filters: number) => {
    conv(filters, false);
    batchNorm();
    add('ReLU', shape);
  };
  const denseHead = () => {
    dense(spec.hiddenUnits, false);
    batchNorm();
    add('ReLU', shape);
  };

  switch (spec.model) {
    case 'mlp':
      flatten();
      dense(spec.hiddenUnits);
      dropout();
      break;
    case 'cnn':
      conv(32, true);
      pool();
      conv(64, true);
      pool();
      flatten();
      dropout();
      break;
    case 'cnn-fast':
      conv(32, true);
      pool();
      batchNorm();
      conv(64, true);
      pool();
      batchNorm();
      conv(128, true);
      flatten();
      denseHead();
      dropout();
      break;
    case 'cnn-strong':
      for (const filters of [32, 64]) {
        convBatchNorm(filters);
        convBatchNorm(filters);
        pool();
      }
      flatten();
      denseHead();
      dropout();
      break;
    default: {
      const unknown: never = spec.model;
      throw new Error(`unknown model preset ${String(unknown)}`);
    }
  }
  dense(10);
  const total = rows.reduce((sum, r) => sum + r.params, 0);
  return { rows, total, trainable: total - nonTrainable, nonTrainable };
}
