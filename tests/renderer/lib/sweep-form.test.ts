import { describe, expect, it } from 'vitest';
import { parseSweepSpec, type SweepSpecInput } from '$contract/sweep';
import {
  formFromSpec,
  initialSweepForm,
  parseChoices,
  paramsFor,
  switchSweepPreset,
  validateSweepForm,
} from '../../../src-renderer/src/lib/sweep-form';

describe('sweep form', () => {
  it.each<SweepSpecInput>([
    {
      preset: 'cnn-strong',
      base: { learningRate: 0.003, augment: false, hiddenUnits: 256 },
      space: {
        batchSize: { kind: 'int', min: 32, max: 256, step: 32 },
        dropout: { kind: 'log-uniform', min: 0.01, max: 0.5 },
        schedule: { kind: 'choice', values: ['decay', 'one-cycle'] },
        limit: { kind: 'choice', values: [2000, null] },
      },
      strategy: 'grid',
      gridPoints: 3,
      budget: { maxTrials: 12, maxSeconds: 900 },
      parallelism: 3,
      earlyStopping: { kind: 'none' },
      seed: 9,
    },
    {
      preset: 'mlp',
      base: { epochs: 6 },
      space: { augment: { kind: 'choice', values: [true, false] } },
      budget: { maxSeconds: 60 },
      earlyStopping: { kind: 'asha', minEpochs: 2, reductionFactor: 2 },
    },
  ])('shows a spec so that it reads back as the same spec (%#)', (input) => {
    const spec = parseSweepSpec(input);
    expect(validateSweepForm(formFromSpec(spec))).toEqual({ spec, errors: {} });
  });

  it('keeps what was typed across presets and takes the new preset’s defaults for the rest', () => {
    let form = initialSweepForm('mlp');
    form.rows.epochs = { ...form.rows.epochs, mode: 'fixed' };
    form.rows.batchSize = { ...form.rows.batchSize, mode: 'fixed', fixed: 256 };
    form = switchSweepPreset(form, 'cnn');
    expect(form.rows.epochs.fixed).toBe(15);
    expect(form.rows.batchSize.fixed).toBe(256);
    expect(paramsFor('cnn')).not.toContain('hiddenUnits');
    expect(paramsFor('mlp')).toContain('hiddenUnits');
  });

  it('reads a choice list by the parameter’s type, passing on what does not parse', () => {
    expect(parseChoices('batchSize', ' 32, 64 ,,128 ')).toEqual([32, 64, 128]);
    expect(parseChoices('augment', 'on, no, maybe')).toEqual([true, false, 'maybe']);
    expect(parseChoices('limit', '2000, all')).toEqual([2000, null]);
    expect(parseChoices('learningRate', '1e-3, x')).toEqual([0.001, 'x']);
    const form = initialSweepForm();
    form.rows.batchSize.choices = '32, x';
    expect(validateSweepForm(form).errors['space.batchSize.values']).toBe(
      'Batch size must be a number (got "x")',
    );
  });

  it('needs at least one searched parameter', () => {
    const form = initialSweepForm();
    for (const p of paramsFor('mlp')) form.rows[p].mode = 'off';
    expect(validateSweepForm(form)).toEqual({
      spec: null,
      errors: { space: 'space needs at least one hyper-parameter' },
    });
  });
});
