import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  PRESET_DEFAULTS,
  describeZodError,
  resolveTrainConfig,
} from '../../src-main/contract/config';

const errorOf = (input: unknown): string => {
  try {
    resolveTrainConfig(input);
  } catch (error) {
    return describeZodError(error as z.ZodError);
  }
  throw new Error('expected the config to be rejected');
};

describe('resolveTrainConfig', () => {
  it('fills in the preset defaults (the seed script for mlp, keras mnist_convnet for cnn)', () => {
    expect(resolveTrainConfig({})).toEqual(PRESET_DEFAULTS.mlp);
    const cnn = resolveTrainConfig({ model: 'cnn', epochs: 3 });
    expect(cnn).toMatchObject({ model: 'cnn', epochs: 3, batchSize: 128, dropout: 0.5 });
    expect(resolveTrainConfig({ model: 'cnn-strong' }).augment).toBe(true);
  });

  it.each([
    [{ epochs: 0 }, 'epochs must be between 1 and 500'],
    [{ epochs: 2.5 }, 'epochs must be a whole number'],
    [{ epochs: Number.NaN }, 'epochs must be a number'],
    [{ batchSize: 0 }, 'batchSize must be between 1 and 4096'],
    [{ learningRate: 0 }, 'learningRate must be greater than 0 and at most 1'],
    [{ learningRate: Infinity }, 'learningRate must be'],
    [{ dropout: 1 }, 'dropout must be at least 0 and at most 0.95'],
    [{ validationSize: -1 }, 'validationSize must be between 0 and 30000'],
    [{ limit: 0 }, 'limit must be between 1 and 60000'],
    [{ model: 'rnn' }, 'model must be one of mlp, cnn, cnn-fast, cnn-strong'],
    [{ schedule: 'cosine' }, 'schedule must be one of decay, one-cycle'],
    [{ labelSmoothing: 0.6 }, 'labelSmoothing must be at least 0 and at most 0.5'],
    [
      { backend: 'cuda' },
      'backend must be one of auto, tensorflow-gpu, tensorflow, webgpu, wasm, cpu',
    ],
    [{ epochs: '10' }, 'epochs must be a number'],
    [{ threads: 0 }, 'threads must be between 1 and 64'],
    [{ threads: 65 }, 'threads must be between 1 and 64'],
    [{ threads: 2.5 }, 'threads must be a whole number'],
    [{ evil: true }, 'unknown field(s): evil'],
  ])('rejects %j naming the field', (input, message) => {
    expect(errorOf(input)).toContain(message);
  });

  it('accepts threads from 1 to 64, or null for auto', () => {
    expect(resolveTrainConfig({ threads: 64 }).threads).toBe(64);
    expect(resolveTrainConfig({ threads: 1 }).threads).toBe(1);
    expect(resolveTrainConfig({ threads: null }).threads).toBeNull();
  });

  it('rejects a non-object payload', () => {
    expect(() => resolveTrainConfig('mlp')).toThrow();
    expect(() => resolveTrainConfig(null)).toThrow();
  });
});
