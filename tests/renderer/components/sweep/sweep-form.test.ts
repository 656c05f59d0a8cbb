import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseSweepSpec } from '$contract/sweep';
import SweepForm from '../../../../src-renderer/src/components/sweep/SweepForm.svelte';

afterEach(cleanup);

const startButton = () => screen.getByTestId('sweep-start-button') as HTMLButtonElement;
const input = (id: string) => screen.getByTestId(id) as HTMLInputElement;
const type = (id: string, value: string) => fireEvent.input(input(id), { target: { value } });
const choose = (id: string, value: string) => fireEvent.change(input(id), { target: { value } });

describe('SweepForm', () => {
  it('starts with a valid sweep and emits exactly the spec parseSweepSpec accepts', async () => {
    const onStart = vi.fn();
    render(SweepForm, { onStart });
    expect(startButton().disabled).toBe(false);
    await fireEvent.click(startButton());
    expect(onStart).toHaveBeenCalledTimes(1);
    expect(onStart.mock.calls[0]![0]).toEqual(
      parseSweepSpec({
        preset: 'mlp',
        base: {},
        space: {
          batchSize: { kind: 'choice', values: [32, 64, 128] },
          learningRate: { kind: 'log-uniform', min: 0.0001, max: 0.01 },
          dropout: { kind: 'uniform', min: 0, max: 0.5 },
        },
        strategy: 'tpe',
        budget: { maxTrials: 20 },
        parallelism: 'auto',
        earlyStopping: { kind: 'asha', minEpochs: 1, reductionFactor: 3 },
        seed: 0,
      }),
    );
  });

  it('assembles fixed values, int ranges, choices, the budget and settings into the spec', async () => {
    const onStart = vi.fn();
    render(SweepForm, { onStart });
    await choose('sweep-preset-select', 'cnn-strong');
    await choose('sweep-mode-learningRate', 'fixed');
    await type('sweep-learningRate-fixed', '0.003');
    await choose('sweep-mode-dropout', 'off');
    await choose('sweep-mode-batchSize', 'range');
    await type('sweep-batchSize-min', '32');
    await type('sweep-batchSize-max', '256');
    await type('sweep-batchSize-step', '32');
    await choose('sweep-mode-augment', 'choices');
    await type('sweep-augment-choices', 'on, off');
    await choose('sweep-mode-labelSmoothing', 'range');
    await type('sweep-labelSmoothing-max', '0.1');
    await choose('sweep-strategy-select', 'random');
    await type('sweep-trials-input', '');
    await type('sweep-minutes-input', '30');
    await type('sweep-parallelism-input', '2');
    await fireEvent.click(input('sweep-asha-toggle'));
    await type('sweep-seed-input', '7');
    await fireEvent.click(startButton());
    expect(onStart).toHaveBeenCalledWith(
      parseSweepSpec({
        preset: 'cnn-strong',
        base: { learningRate: 0.003 },
        space: {
          batchSize: { kind: 'int', min: 32, max: 256, step: 32 },
          labelSmoothing: { kind: 'uniform', min: 0, max: 0.1 },
          augment: { kind: 'choice', values: [true, false] },
        },
        strategy: 'random',
        budget: { maxSeconds: 1800 },
        parallelism: 2,
        earlyStopping: { kind: 'none' },
        seed: 7,
      }),
    );
  });

  it('blocks Start on a bad range with the field’s message, in the Train form’s words', async () => {
    const onStart = vi.fn();
    render(SweepForm, { onStart });
    await type('sweep-dropout-max', '0.99');
    // The schema checks each end against TrainConfig, as Train does: same limits, same words.
    expect(screen.getByTestId('sweep-dropout-message').textContent).toBe(
      'Dropout must be at least 0 and at most 0.95 (got 0.99)',
    );
    expect(input('sweep-dropout-max').getAttribute('aria-invalid')).toBe('true');
    expect(startButton().disabled).toBe(true);
    await fireEvent.click(startButton());
    expect(onStart).not.toHaveBeenCalled();

    await type('sweep-dropout-max', '0.5');
    await type('sweep-dropout-min', '0.6');
    expect(screen.getByTestId('sweep-dropout-message').textContent).toBe(
      "Dropout's max (0.5) must be greater than its min (0.6)",
    );
    expect(input('sweep-dropout-max').getAttribute('aria-invalid')).toBe('true');
    expect(startButton().disabled).toBe(true);

    await type('sweep-dropout-min', '0');
    expect(startButton().disabled).toBe(false);
    // Log ranges need a positive start.
    await type('sweep-learningRate-min', '0');
    expect(screen.getByTestId('sweep-learningRate-message').textContent).toMatch(
      /log-uniform range for learningRate needs min > 0/,
    );
    expect(startButton().disabled).toBe(true);
  });

  it('shows choice, budget and early-stopping errors under their fields', async () => {
    render(SweepForm, { onStart: vi.fn() });
    await type('sweep-batchSize-choices', '32, 32');
    expect(screen.getByTestId('sweep-batchSize-message').textContent).toBe(
      "32 is listed twice in batchSize's choices",
    );
    await type('sweep-batchSize-choices', '32, 5000');
    expect(screen.getByTestId('sweep-batchSize-message').textContent).toBe(
      'Batch size must be between 1 and 4096 (got 5000)',
    );
    await type('sweep-batchSize-choices', '32, 64');
    await type('sweep-min-epochs-input', '10');
    expect(screen.getByText(/^Min epochs must be below the trials' epochs \(10\)/)).toBeTruthy();
    await type('sweep-min-epochs-input', '1');
    await type('sweep-trials-input', '');
    expect(screen.getByText('budget needs maxTrials, maxSeconds or both')).toBeTruthy();
    expect(startButton().disabled).toBe(true);
  });

  it('names a searched epochs under ASHA on its row, and hides hidden units for the cnn', async () => {
    render(SweepForm, { onStart: vi.fn() });
    await choose('sweep-mode-epochs', 'range');
    expect(screen.getByTestId('sweep-epochs-message').textContent).toBe(
      'early stopping decides how many epochs a trial gets: set epochs in base',
    );
    expect(startButton().disabled).toBe(true);
    expect(screen.queryByTestId('sweep-row-hiddenUnits')).not.toBeNull();
    await choose('sweep-preset-select', 'cnn');
    expect(screen.queryByTestId('sweep-row-hiddenUnits')).toBeNull();
  });

  it('starts on Ctrl+Enter in any field, never on a plain Enter', async () => {
    const onStart = vi.fn();
    render(SweepForm, { onStart });
    await fireEvent.keyDown(input('sweep-seed-input'), { key: 'Enter' });
    await fireEvent.submit(screen.getByTestId('sweep-form'));
    expect(onStart).not.toHaveBeenCalled();
    await fireEvent.keyDown(input('sweep-seed-input'), { key: 'Enter', ctrlKey: true });
    expect(onStart).toHaveBeenCalledTimes(1);
    // Not while the form is invalid.
    await type('sweep-dropout-max', '2');
    await fireEvent.keyDown(input('sweep-seed-input'), { key: 'Enter', ctrlKey: true });
    expect(onStart).toHaveBeenCalledTimes(1);
  });

  it('keeps Start disabled and the fields read-only while a sweep runs or starts', async () => {
    const view = render(SweepForm, { onStart: vi.fn(), running: true });
    expect(startButton().disabled).toBe(true);
    expect((input('sweep-dropout-max').closest('fieldset') as HTMLFieldSetElement).disabled).toBe(
      true,
    );
    await view.rerender({ onStart: vi.fn(), running: false, busy: true });
    expect(startButton().disabled).toBe(true);
    await view.rerender({ onStart: vi.fn(), running: false, busy: false });
    expect(startButton().disabled).toBe(false);
  });
});
