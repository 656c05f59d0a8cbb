import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeZodError, TrainConfigSchema } from '../../src-main/contract/config';
import {
  MAX_GRID_SIZE,
  parseSweepSpec,
  SweepSpecSchema,
  trialConfig,
  type SweepSpecInput,
} from '../../src-main/contract/sweep';
import { createProposer, type Observation } from '../../src-main/engine/sweeps/strategies';

const valid: SweepSpecInput = {
  preset: 'mlp',
  space: {
    learningRate: { kind: 'log-uniform', min: 1e-4, max: 1e-2 },
    batchSize: { kind: 'choice', values: [32, 64, 128] },
    dropout: { kind: 'uniform', min: 0, max: 0.5 },
  },
  budget: { maxTrials: 20 },
};

const errorOf = (input: unknown): string => {
  const parsed = SweepSpecSchema.safeParse(input);
  if (parsed.success) throw new Error('expected the spec to be rejected');
  return describeZodError(parsed.error);
};

const withSpace = (space: Record<string, unknown>, rest: Record<string, unknown> = {}) => ({
  preset: 'mlp',
  space,
  budget: { maxTrials: 5 },
  ...rest,
});

describe('SweepSpecSchema', () => {
  it('fills in strategy, grid points, TPE settings, parallelism, early stopping and seed', () => {
    expect(parseSweepSpec(valid)).toMatchObject({
      preset: 'mlp',
      base: {},
      strategy: 'tpe',
      gridPoints: 5,
      tpe: { startupTrials: 10, candidates: 24 },
      parallelism: 'auto',
      earlyStopping: { kind: 'none' },
      seed: 0,
    });
    const asha = parseSweepSpec({ ...valid, earlyStopping: { kind: 'asha', minEpochs: 1 } });
    expect(asha.earlyStopping).toEqual({ kind: 'asha', minEpochs: 1, reductionFactor: 3 });
    expect(parseSweepSpec({ ...valid, budget: { maxSeconds: 600 } }).budget).toEqual({
      maxSeconds: 600,
    });
  });

  it.each([
    [
      withSpace({ lr: { kind: 'uniform', min: 0, max: 1 } }),
      'space.lr: unknown hyper-parameter lr',
    ],
    [
      withSpace({ seed: { kind: 'int', min: 1, max: 5 } }),
      'space.seed: seed is not a hyper-parameter',
    ],
    [
      withSpace({ backend: { kind: 'choice', values: ['cpu'] } }),
      'space.backend: backend changes speed',
    ],
    [
      withSpace({ model: { kind: 'choice', values: ['cnn'] } }),
      "space.model: model is the sweep's preset",
    ],
    [
      withSpace({ dropout: { kind: 'uniform', min: 0.4, max: 0.4 } }),
      "space.dropout.max: dropout's max (0.4) must be greater than its min (0.4)",
    ],
    [
      withSpace({ hiddenUnits: { kind: 'int', min: 256, max: 64 } }),
      "space.hiddenUnits.max: hiddenUnits's max (64) must be greater than its min (256)",
    ],
    [
      withSpace({ learningRate: { kind: 'log-uniform', min: 0, max: 0.1 } }),
      'space.learningRate.min: a log-uniform range for learningRate needs min > 0 (got 0)',
    ],
    [
      withSpace({ learningRate: { kind: 'log-uniform', min: -1, max: 0.1 } }),
      'space.learningRate.min: a log-uniform range for learningRate needs min > 0',
    ],
    [
      withSpace({ batchSize: { kind: 'choice', values: [] } }),
      'space.batchSize.values: choice needs at least one value',
    ],
    [
      withSpace({ batchSize: { kind: 'choice', values: [0, 32] } }),
      'space.batchSize.values.0: batchSize must be between 1 and 4096 (got 0)',
    ],
    [
      withSpace({ dropout: { kind: 'uniform', min: 0, max: 1.5 } }),
      'space.dropout.max: dropout must be at least 0 and at most 0.95 (got 1.5)',
    ],
    [
      withSpace({ learningRate: { kind: 'log-uniform', min: 1e-3, max: 2 } }),
      'space.learningRate.max: learningRate must be greater than 0 and at most 1 (got 2)',
    ],
    [
      // The last value of the step (4097) is what the trainer would see, not the max written.
      withSpace({ batchSize: { kind: 'int', min: 1, max: 4100, step: 64 } }),
      'space.batchSize.max: batchSize must be between 1 and 4096 (got 4097)',
    ],
    [
      // Checked by arithmetic: listing this range's values would exhaust memory.
      withSpace({ hiddenUnits: { kind: 'int', min: 1, max: 1e12 } }),
      'space.hiddenUnits.max: hiddenUnits must be between 1 and 4096 (got 1000000000000)',
    ],
    [
      withSpace({ schedule: { kind: 'choice', values: ['decay', 'cosine'] } }),
      'space.schedule.values.1: schedule must be one of decay, one-cycle (got "cosine")',
    ],
    [
      withSpace({ augment: { kind: 'choice', values: [true, 'yes'] } }),
      'space.augment.values.1: augment must be true or false (got "yes")',
    ],
    [
      withSpace({ batchSize: { kind: 'choice', values: [32, 64, 32] } }),
      "space.batchSize.values.2: 32 is listed twice in batchSize's choices",
    ],
    [
      withSpace({ batchSize: { kind: 'uniform', min: 16, max: 256 } }),
      'space.batchSize.kind: batchSize is a whole number: use kind "int" or "choice"',
    ],
    [
      withSpace({ dropout: { kind: 'int', min: 0, max: 1 } }),
      'space.dropout.kind: dropout is continuous',
    ],
    [
      withSpace({ schedule: { kind: 'uniform', min: 0, max: 1 } }),
      'space.schedule.kind: schedule takes set values: use kind "choice"',
    ],
    [
      withSpace({ hiddenUnits: { kind: 'int', min: 32, max: 64, step: 64 } }),
      "space.hiddenUnits.step: hiddenUnits's step (64) is wider than its range 32..64",
    ],
    [withSpace({ dropout: { kind: 'gaussian', mu: 0 } }), 'space.dropout.kind'],
    [withSpace({}), 'space needs at least one hyper-parameter'],
    [
      withSpace({ hiddenUnits: { kind: 'int', min: 32, max: 64 } }, { preset: 'cnn' }),
      'space.hiddenUnits: the cnn preset ignores hiddenUnits',
    ],
    [
      withSpace({ dropout: { kind: 'uniform', min: 0, max: 0.5 } }, { base: { dropout: 0.1 } }),
      'space.dropout: dropout is set in base and searched in space',
    ],
    [
      withSpace({ dropout: { kind: 'uniform', min: 0, max: 0.5 } }, { base: { epochs: 0 } }),
      'base.epochs: epochs must be between 1 and 500',
    ],
    [
      withSpace({ dropout: { kind: 'uniform', min: 0, max: 0.5 } }, { base: { model: 'cnn' } }),
      'unknown field(s): model',
    ],
    [
      withSpace(
        { epochs: { kind: 'int', min: 2, max: 8 } },
        { earlyStopping: { kind: 'asha', minEpochs: 1 } },
      ),
      'space.epochs: early stopping decides how many epochs a trial gets',
    ],
    [
      withSpace(
        { dropout: { kind: 'uniform', min: 0, max: 0.5 } },
        { earlyStopping: { kind: 'asha', minEpochs: 10 } },
      ),
      "earlyStopping.minEpochs: minEpochs must be below the trials' epochs (10)",
    ],
    [
      withSpace(
        { dropout: { kind: 'uniform', min: 0, max: 0.5 } },
        { earlyStopping: { kind: 'asha', minEpochs: 1, reductionFactor: 1 } },
      ),
      'earlyStopping.reductionFactor: reductionFactor must be between 2 and 10',
    ],
    [
      { preset: 'mlp', space: { dropout: { kind: 'uniform', min: 0, max: 0.5 } }, budget: {} },
      'budget needs maxTrials, maxSeconds or both',
    ],
    [
      withSpace({ dropout: { kind: 'uniform', min: 0, max: 0.5 } }, { budget: { maxTrials: 0 } }),
      'budget.maxTrials: maxTrials must be between 1 and 100000',
    ],
    [
      withSpace({ dropout: { kind: 'uniform', min: 0, max: 0.5 } }, { budget: { maxSeconds: -1 } }),
      'budget.maxSeconds: maxSeconds must be greater than 0',
    ],
    [
      withSpace({ dropout: { kind: 'uniform', min: 0, max: 0.5 } }, { parallelism: 0 }),
      'parallelism must be between 1 and 64',
    ],
    [
      withSpace({ dropout: { kind: 'uniform', min: 0, max: 0.5 } }, { strategy: 'bayes' }),
      'strategy must be one of grid, random, tpe',
    ],
    [
      withSpace({ dropout: { kind: 'uniform', min: 0, max: 0.5 } }, { preset: 'resnet' }),
      'preset must be one of mlp, cnn, cnn-fast, cnn-strong',
    ],
    [
      withSpace(
        {
          hiddenUnits: { kind: 'int', min: 1, max: 4096 },
          batchSize: { kind: 'int', min: 1, max: 4096 },
        },
        { strategy: 'grid' },
      ),
      `space: the grid has ${4096 * 4096} points; at most ${MAX_GRID_SIZE}`,
    ],
  ])('rejects %j naming the field', (input, message) => {
    expect(errorOf(input)).toContain(message);
  });

  it('checks choices against the preset and base the trials will have', () => {
    // cnn-strong's head reads hiddenUnits; labelSmoothing is checked against the full schema.
    const spec = withSpace(
      { labelSmoothing: { kind: 'choice', values: [0, 0.1, 0.6] } },
      { preset: 'cnn-strong' },
    );
    expect(errorOf(spec)).toContain(
      'space.labelSmoothing.values.2: labelSmoothing must be at least 0 and at most 0.5',
    );
  });
});

describe('trial configs', () => {
  const wide: SweepSpecInput = {
    preset: 'mlp',
    base: { epochs: 3, limit: 1000 },
    space: {
      learningRate: { kind: 'log-uniform', min: 1e-5, max: 1 },
      learningRateDecay: { kind: 'uniform', min: 0.5, max: 1 },
      labelSmoothing: { kind: 'uniform', min: 0, max: 0.5 },
      dropout: { kind: 'uniform', min: 0, max: 0.95 },
      batchSize: { kind: 'int', min: 1, max: 4096, step: 5 },
      hiddenUnits: { kind: 'choice', values: [1, 4096] },
      schedule: { kind: 'choice', values: ['decay', 'one-cycle'] },
      augment: { kind: 'choice', values: [true, false] },
    },
    budget: { maxTrials: 60 },
  };

  it.each(['grid', 'random', 'tpe'] as const)(
    'every %s proposal, edges included, passes TrainConfigSchema',
    (strategy) => {
      const spec = parseSweepSpec({ ...wide, strategy, gridPoints: 2, tpe: { startupTrials: 5 } });
      const proposer = createProposer(spec);
      const history: Observation[] = [];
      for (let trial = 1; trial <= 60; trial++) {
        const point = proposer.propose(trial, history);
        if (point === null) break;
        const config = trialConfig(spec, point);
        expect(() => TrainConfigSchema.parse(config)).not.toThrow();
        expect(config).toMatchObject({ model: 'mlp', epochs: 3, limit: 1000 });
        history.push({ trial, point, score: Math.random(), complete: true, epochs: 3 });
      }
      expect(history.length).toBeGreaterThan(30);
    },
  );

  it('puts the point over base over the preset defaults', () => {
    const spec = parseSweepSpec({ ...valid, base: { epochs: 4 } });
    expect(trialConfig(spec, { learningRate: 0.005, batchSize: 64, dropout: 0.1 })).toMatchObject({
      model: 'mlp',
      epochs: 4,
      learningRate: 0.005,
      batchSize: 64,
      dropout: 0.1,
      hiddenUnits: 128,
    });
  });

  it('words errors one field per problem', () => {
    const error = (() => {
      try {
        parseSweepSpec(withSpace({ dropout: { kind: 'uniform', min: 0, max: 2 } }));
      } catch (e) {
        return e as z.ZodError;
      }
      throw new Error('expected a rejection');
    })();
    expect(describeZodError(error)).toBe(
      'space.dropout.max: dropout must be at least 0 and at most 0.95 (got 2)',
    );
  });
});
