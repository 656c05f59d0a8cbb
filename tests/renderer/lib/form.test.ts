import { describe, expect, it } from 'vitest';
import { PRESET_DEFAULTS } from '../../../src-main/contract/config';
import {
  fieldApplies,
  presetForm,
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
  it('are hidden units for the CNNs without a dense head, and LR decay for one-cycle', () => {
    expect(fieldApplies(presetForm('mlp', 'auto'), 'hiddenUnits')).toBe(true);
    expect(fieldApplies(presetForm('cnn-strong', 'auto'), 'hiddenUnits')).toBe(true);
    expect(fieldApplies(presetForm('cnn', 'auto'), 'hiddenUnits')).toBe(false);
    expect(fieldApplies(presetForm('cnn-fast', 'auto'), 'hiddenUnits')).toBe(false);
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
