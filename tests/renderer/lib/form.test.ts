import { describe, expect, it } from 'vitest';
import { PRESET_DEFAULTS } from '$contract/config';
import {
  fieldApplies,
  presetForm,
  smallDataWarning,
  switchPreset,
  validateForm,
} from '../../../src-renderer/src/lib/form';

describe('switching the preset', () => {
  it('keeps what the user typed and takes the new defaults for the rest', () => {
    // Inputs hand back numbers (bind:value) or text; both count as typed when they differ.
    const typed = { ...presetForm('mlp', 'wasm'), limit: 2000, epochs: '2', batchSize: 32 };
    const cnn = switchPreset(typed, 'cnn');
    expect(cnn).toMatchObject({
      model: 'cnn',
      limit: 2000,
      epochs: '2',
      backend: 'wasm',
      // Left at the mlp's defaults (32 typed back over "32" is not a change): the cnn's.
      batchSize: '128',
      dropout: '0.5',
      validationSize: '6000',
      learningRate: '0.001',
    });
    const fast = switchPreset(cnn, 'cnn-fast');
    expect(fast).toMatchObject({ limit: 2000, epochs: '2', schedule: 'one-cycle', augment: true });
    expect(validateForm(fast).config).toEqual({
      ...PRESET_DEFAULTS['cnn-fast'],
      limit: 2000,
      epochs: 2,
      backend: 'wasm',
    });
  });

  it('keeps a schedule or augmentation the user chose', () => {
    const typed = { ...presetForm('mlp', 'auto'), schedule: 'one-cycle' as const, augment: true };
    expect(switchPreset(typed, 'cnn')).toMatchObject({ schedule: 'one-cycle', augment: true });
  });
});

describe('fields a preset ignores', () => {
  it('are hidden units for the CNN without a dense head, and LR decay for one-cycle', () => {
    expect(fieldApplies(presetForm('mlp', 'auto'), 'hiddenUnits')).toBe(true);
    expect(fieldApplies(presetForm('cnn-strong', 'auto'), 'hiddenUnits')).toBe(true);
    expect(fieldApplies(presetForm('cnn', 'auto'), 'hiddenUnits')).toBe(false);
    expect(fieldApplies(presetForm('cnn-fast', 'auto'), 'hiddenUnits')).toBe(true);
    expect(fieldApplies(presetForm('cnn-fast', 'auto'), 'learningRateDecay')).toBe(false);
    expect(fieldApplies(presetForm('cnn', 'auto'), 'dropout')).toBe(true);
  });

  it('never block Start with a value the user cannot see', () => {
    const form = { ...presetForm('cnn', 'auto'), hiddenUnits: '0' };
    expect(validateForm(form).config).toEqual(PRESET_DEFAULTS.cnn);
    expect(validateForm({ ...form, model: 'mlp' }).errors).toEqual({
      hiddenUnits: 'Hidden units must be between 1 and 4096',
    });
  });
});

describe('smallDataWarning', () => {
  it('says when the data is too small to mean anything, and nothing otherwise', () => {
    expect(smallDataWarning({ limit: null, validationSize: 6000 })).toBeNull();
    expect(smallDataWarning({ limit: 2000, validationSize: 1000 })).toBeNull();
    expect(smallDataWarning({ limit: 5, validationSize: 0 })).toBe(
      '5 training images will teach the model little (a quick run uses 2,000); no validation images: no validation accuracy, and no best checkpoint to pick.',
    );
    expect(smallDataWarning({ limit: 1, validationSize: 6000 })).toMatch(/^1 training image will/);
    expect(smallDataWarning({ limit: null, validationSize: 20 })).toBe(
      '20 validation images make validation accuracy jump in steps of 5 %.',
    );
  });
});
