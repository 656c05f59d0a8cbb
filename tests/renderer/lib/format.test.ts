import { describe, expect, it } from 'vitest';
import { describeBackendBadge } from '../../../src-renderer/src/lib/backend-badge';
import {
  estimateRemaining,
  formatBytes,
  formatDate,
  formatDuration,
  formatSeconds,
  percent,
  runLabel,
} from '../../../src-renderer/src/lib/format';
import { configFromForm, presetForm, validateForm } from '../../../src-renderer/src/lib/form';

describe('formatting', () => {
  it.each([
    [0, '0 s'],
    [42.4, '42 s'],
    [185, '3 min 05 s'],
    [3720, '1 h 02 min'],
    [Number.NaN, '–'],
    [-1, '–'],
  ])('formatDuration(%d) = %s', (s, text) => expect(formatDuration(s)).toBe(text));

  it.each([
    [0.4234, '0.42 s'],
    [7.26, '7.3 s'],
    [65, '1 min 05 s'],
    [Number.NaN, '–'],
  ])('formatSeconds(%d) = %s', (s, text) => expect(formatSeconds(s)).toBe(text));

  it.each([
    [512, '512 B'],
    [410_000, '400 KB'],
    [5_500_000, '5.2 MB'],
    [-3, '–'],
  ])('formatBytes(%d) = %s', (b, text) => expect(formatBytes(b)).toBe(text));

  it('names runs by model, start time and id tail, so same-minute runs differ', () => {
    const at = '2026-11-25T21:08:05.000Z';
    const a = runLabel({ runId: '20261125-210805-mlp-c67b', model: 'mlp', createdAt: at });
    const b = runLabel({ runId: '20261125-210805-mlp-0a1f', model: 'mlp', createdAt: at });
    expect(a).toMatch(/^mlp · .+ · c67b$/);
    expect(a).not.toBe(b);
    expect(a).toContain(formatDate(at));
    // A damaged run has no start time: its id is all there is.
    expect(runLabel({ runId: 'broken', model: null, createdAt: null })).toBe('broken');
    expect(formatDate('not a date')).toBe('–');
  });

  it('estimates the remaining time from progress', () => {
    expect(estimateRemaining(0.25, 60)).toBe(180);
    expect(estimateRemaining(0, 60)).toBeNull();
    expect(estimateRemaining(0.5, 0.2)).toBeNull();
  });

  it('formats percentages', () => {
    expect(percent(0.98765)).toBe('98.77 %');
    expect(percent(null)).toBe('–');
  });
});

describe('the backend badge', () => {
  it('says which backend and why, from the failure codes, not the messages', () => {
    const info = {
      name: 'wasm' as const,
      reason: 'x',
      unavailable: [
        {
          name: 'tensorflow-gpu' as const,
          code: 'not-installed' as const,
          error: '@tensorflow/tfjs-node-gpu is not installed',
        },
        { name: 'tensorflow' as const, code: 'not-installed' as const, error: 'any words' },
      ],
    };
    expect(describeBackendBadge(info).text).toBe('WASM — native TensorFlow not installed');
    expect(
      describeBackendBadge({
        ...info,
        // A message that happens to say "not installed" is not the code that means it.
        unavailable: [{ name: 'tensorflow', code: 'failed', error: 'a DLL is not installed' }],
      }).text,
    ).toBe('WASM — native TensorFlow failed to load');
    expect(
      describeBackendBadge({ name: 'cpu', reason: 'chosen by the user', unavailable: [] }).text,
    ).toBe('JavaScript CPU — chosen by you');
    expect(describeBackendBadge(null).text).toBe('Backend: starting…');
  });
});

describe('the Train form', () => {
  it('accepts the presets as they are', () => {
    for (const model of ['mlp', 'cnn', 'cnn-strong'] as const)
      expect(validateForm(presetForm(model, 'auto')).config).not.toBeNull();
  });

  it('reads an empty training-set size as "all images"', () => {
    expect(configFromForm({ ...presetForm('mlp', 'auto'), limit: '' }).limit).toBeNull();
    expect(configFromForm({ ...presetForm('mlp', 'auto'), limit: null }).limit).toBeNull();
    expect(configFromForm({ ...presetForm('mlp', 'auto'), limit: 2000 }).limit).toBe(2000);
  });

  it('names each bad field by its label on screen, with its range', () => {
    const { config, errors } = validateForm({
      ...presetForm('mlp', 'auto'),
      epochs: '0',
      learningRate: 'abc',
      dropout: 2,
    });
    expect(config).toBeNull();
    expect(errors).toEqual({
      epochs: 'Epochs must be between 1 and 500',
      learningRate: 'Learning rate must be a number',
      dropout: 'Dropout must be at least 0 and at most 0.95',
    });
  });
});
