import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { flushSync } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ClientEvent, ClientRequest, StudioApi } from '$contract/api';
import { PRESET_DEFAULTS } from '$contract/config';
import { CheckpointsState } from '../../../src-renderer/src/lib/checkpoints.svelte';
import { TrainingState } from '../../../src-renderer/src/lib/training.svelte';
import { metrics } from '../fixtures';
import TrainPanel from '../../../src-renderer/src/panels/TrainPanel.svelte';

/** A fake transport: records requests, lets the test push events. */
function fakeApi(activeRun: ClientEvent | null = null, activeRunBatches: ClientEvent[] = []) {
  const listeners = new Set<(e: ClientEvent) => void>();
  const requests: ClientRequest[] = [];
  const api: StudioApi = {
    request: vi.fn(async (request: ClientRequest) => {
      // The Checkpoints state refreshes its listing on its own; what the tests follow is the rest.
      if (request.type !== 'listRuns') requests.push(request);
      if (request.type === 'train') return { runId: 'run-1' };
      if (request.type === 'stop') return { stopping: true };
      if (request.type === 'listRuns') return { runs: [] };
      if (request.type === 'status') return { backend: null, activeRun, activeRunBatches };
      return {};
    }) as StudioApi['request'],
    onEvent: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  return { api, requests, emit: (e: ClientEvent) => listeners.forEach((l) => l(e)) };
}

/** A `started` event of run-1 training the mlp preset for `epochs`. */
function startedEvent(epochs: number, notices: string[] = []): ClientEvent {
  return {
    type: 'started',
    runId: 'run-1',
    config: { ...PRESET_DEFAULTS.mlp, epochs },
    backend: { name: 'wasm', reason: 'x', unavailable: [] },
    startEpoch: 1,
    trainSize: 1000,
    validationSize: 100,
    batchesPerEpoch: 10,
    threads: 1,
    notices,
  };
}

// jsdom has no canvas: charts are replaced by recorders of what the panel appends to them.
const charts: {
  label: string;
  batches: [number, number][];
  epochs: [number, number, number | null][];
}[] = [];
vi.mock('../../../src-renderer/src/lib/charts', () => ({
  createMetricChart: (_canvas: unknown, options: { label: string }) => {
    const rec = {
      label: options.label,
      batches: [] as [number, number][],
      epochs: [] as [number, number, number | null][],
    };
    charts.push(rec);
    return {
      addBatch: (x: number, y: number) => rec.batches.push([x, y]),
      addEpoch: (e: number, t: number, v: number | null) => rec.epochs.push([e, t, v]),
      setSmoothing: () => {},
      setOverlays: () => {},
      reset: () => {
        rec.batches.length = 0;
        rec.epochs.length = 0;
      },
      counts: () => ({
        batch: rec.batches.length,
        epoch: rec.epochs.length,
        validation: rec.epochs.filter((p) => p[2] !== null).length,
      }),
      destroy: () => {},
    };
  },
}));

afterEach(cleanup);

function setup(activeRun: ClientEvent | null = null, activeRunBatches: ClientEvent[] = []) {
  charts.length = 0;
  const fake = fakeApi(activeRun, activeRunBatches);
  const training = new TrainingState(fake.api);
  fake.api.onEvent((e) => training.handle(e));
  render(TrainPanel, { training, checkpoints: new CheckpointsState(fake.api) });
  return { ...fake, training };
}

describe('TrainPanel', () => {
  it('starts a run with the validated config of the chosen preset', async () => {
    const { requests } = setup();
    await fireEvent.change(screen.getByTestId('model-select'), { target: { value: 'cnn' } });
    await fireEvent.input(screen.getByTestId('epochs-input'), { target: { value: '4' } });
    await fireEvent.click(screen.getByTestId('start-button'));
    expect(requests).toEqual([{ type: 'train', config: { ...PRESET_DEFAULTS.cnn, epochs: 4 } }]);
  });

  it('starts cnn-fast with its one-cycle schedule and label smoothing, both editable', async () => {
    const { requests } = setup();
    await fireEvent.change(screen.getByTestId('model-select'), { target: { value: 'cnn-fast' } });
    expect((screen.getByTestId('schedule-select') as HTMLSelectElement).value).toBe('one-cycle');
    const smoothing = screen.getByLabelText(/^Label smoothing/) as HTMLInputElement;
    expect(smoothing.value).toBe('0.1');
    await fireEvent.input(smoothing, { target: { value: '0.05' } });
    await fireEvent.change(screen.getByTestId('schedule-select'), { target: { value: 'decay' } });
    await fireEvent.click(screen.getByTestId('start-button'));
    expect(requests).toEqual([
      {
        type: 'train',
        config: { ...PRESET_DEFAULTS['cnn-fast'], labelSmoothing: 0.05, schedule: 'decay' },
      },
    ]);
  });

  it('rejects label smoothing above 0.5 next to the field', async () => {
    setup();
    await fireEvent.input(screen.getByLabelText(/^Label smoothing/), { target: { value: '0.7' } });
    expect(screen.getByText('Label smoothing must be at least 0 and at most 0.5')).toBeTruthy();
    expect((screen.getByTestId('start-button') as HTMLButtonElement).disabled).toBe(true);
  });

  it('shows a bad value next to its field and disables Start', async () => {
    setup();
    await fireEvent.input(screen.getByTestId('limit-input'), { target: { value: '0' } });
    expect(screen.getByText('Training images must be between 1 and 60000')).toBeTruthy();
    expect((screen.getByTestId('start-button') as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByTestId('limit-input').getAttribute('aria-invalid')).toBe('true');
  });

  it('names a bad field by its label, in place of its hint', async () => {
    setup();
    const batch = screen.getByLabelText(/^Batch size/);
    const help = document.getElementById(batch.getAttribute('aria-describedby')!)!;
    expect(help.textContent).toBe('1–4096');
    await fireEvent.input(batch, { target: { value: '5000' } });
    expect(help.textContent).toBe('Batch size must be between 1 and 4096');
  });

  it('keeps typed values across presets and hides what a preset ignores', async () => {
    const { requests } = setup();
    await fireEvent.input(screen.getByTestId('limit-input'), { target: { value: '2000' } });
    await fireEvent.input(screen.getByTestId('epochs-input'), { target: { value: '2' } });
    expect(screen.getByLabelText(/^Hidden units/)).toBeTruthy();
    await fireEvent.change(screen.getByTestId('model-select'), { target: { value: 'cnn' } });
    expect((screen.getByTestId('limit-input') as HTMLInputElement).value).toBe('2000');
    expect((screen.getByTestId('epochs-input') as HTMLInputElement).value).toBe('2');
    expect((screen.getByLabelText(/^Batch size/) as HTMLInputElement).value).toBe('128');
    expect(screen.queryByLabelText(/^Hidden units/)).toBeNull();
    await fireEvent.change(screen.getByTestId('model-select'), { target: { value: 'cnn-fast' } });
    const decay = screen.getByLabelText(/^LR decay/) as HTMLInputElement;
    expect(decay.disabled).toBe(true);
    expect(document.getElementById(decay.getAttribute('aria-describedby')!)!.textContent).toMatch(
      /only with the “Decay per epoch” schedule/,
    );
    await fireEvent.change(screen.getByTestId('schedule-select'), { target: { value: 'decay' } });
    expect((screen.getByLabelText(/^LR decay/) as HTMLInputElement).disabled).toBe(false);
    await fireEvent.click(screen.getByTestId('start-button'));
    expect(requests).toEqual([
      {
        type: 'train',
        config: { ...PRESET_DEFAULTS['cnn-fast'], schedule: 'decay', epochs: 2, limit: 2000 },
      },
    ]);
  });

  it('starts on Ctrl+Enter, never on a plain Enter in a field', async () => {
    const { requests } = setup();
    const epochs = screen.getByTestId('epochs-input');
    await fireEvent.keyDown(epochs, { key: 'Enter' });
    await fireEvent.submit(screen.getByTestId('train-form'));
    expect(requests).toEqual([]);
    const start = screen.getByTestId('start-button');
    expect(start.getAttribute('aria-keyshortcuts')).toBe('Control+Enter');
    expect(document.getElementById(start.getAttribute('aria-describedby')!)!.textContent).toMatch(
      /Ctrl\+Enter/,
    );
    epochs.focus();
    await fireEvent.keyDown(epochs, { key: 'Enter', ctrlKey: true });
    expect(requests).toEqual([{ type: 'train', config: PRESET_DEFAULTS.mlp }]);
    // The field is disabled under the focus: it moves to Stop, which acts next.
    await vi.waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('stop-button')));
  });

  it('moves focus to Stop after Start and back to Start after Stop', async () => {
    const { emit, requests } = setup();
    const start = screen.getByTestId('start-button');
    const stop = screen.getByTestId('stop-button');
    start.focus();
    await fireEvent.click(start);
    await vi.waitFor(() => expect(document.activeElement).toBe(stop));
    emit(startedEvent(2));
    await fireEvent.click(stop);
    // Stopping (a batch or so): Stop keeps the focus, inert, and a second press asks nothing.
    flushSync();
    expect(stop.getAttribute('aria-disabled')).toBe('true');
    expect(document.activeElement).toBe(stop);
    await fireEvent.click(stop);
    expect(requests.filter((r) => r.type === 'stop')).toHaveLength(1);
    emit({ type: 'stopped', runId: 'run-1', epoch: 0, batch: 3 });
    flushSync();
    await vi.waitFor(() => expect(document.activeElement).toBe(start));
  });

  it('follows events: progress, status, Stop enabled while training', async () => {
    const { emit, requests } = setup();
    await fireEvent.click(screen.getByTestId('start-button'));
    emit(
      startedEvent(2, [
        'took over run run-1: the CLI (pid 7 on box, since 2026-11-30 01:02:03 UTC) is no longer running',
      ]),
    );
    flushSync();
    // A stale lock taken over is said, not done silently.
    expect(screen.getByTestId('status').textContent).toMatch(
      /Took over run run-1: the CLI \(pid 7/,
    );
    emit({
      type: 'batch',
      runId: 'run-1',
      epoch: 1,
      batch: 5,
      batches: 10,
      loss: 0.5,
      accuracy: 0.8,
      recentLoss: 0.42,
      recentAccuracy: 0.86,
    });
    flushSync();
    expect(screen.getByTestId('epoch-progress').getAttribute('value')).toBe('0.5');
    expect(screen.getByTestId('run-progress').getAttribute('value')).toBe('0.25');
    expect((screen.getByTestId('stop-button') as HTMLButtonElement).disabled).toBe(false);
    expect((screen.getByTestId('start-button') as HTMLButtonElement).disabled).toBe(true);

    // The status numbers are the epoch's running means; the charts plot the batches since the
    // last event, which the running mean would flatten.
    expect(screen.getByText('0.5000')).toBeTruthy();
    expect(screen.getByText('80.00 %')).toBeTruthy();
    // Points are appended to both charts as events arrive: the batch at x = 0.5 epochs, then the epoch.
    emit({
      type: 'epoch',
      runId: 'run-1',
      epoch: 1,
      loss: 0.4,
      accuracy: 0.85,
      valLoss: 0.3,
      valAccuracy: 0.9,
      seconds: 1,
      backend: 'wasm',
    });
    const [loss, accuracy] = charts;
    expect(loss).toMatchObject({ label: 'Loss', batches: [[0.5, 0.42]], epochs: [[1, 0.4, 0.3]] });
    expect(accuracy).toMatchObject({
      label: 'Accuracy',
      batches: [[0.5, 0.86]],
      epochs: [[1, 0.85, 0.9]],
    });
    expect(screen.getByTestId('loss-chart').dataset.epochPoints).toBe('1');
    // Events of another run (e.g. a second window's) are not drawn.
    emit({
      type: 'batch',
      runId: 'other',
      epoch: 1,
      batch: 9,
      batches: 10,
      loss: 9,
      accuracy: 0,
      recentLoss: 9,
      recentAccuracy: 0,
    });
    expect(loss!.batches).toHaveLength(1);

    await fireEvent.click(screen.getByTestId('stop-button'));
    expect(requests.at(-1)).toEqual({ type: 'stop' });
    expect(screen.getByTestId('status').textContent).toBe('Stopping after the current batch…');
    emit({ type: 'stopped', runId: 'run-1', epoch: 0, batch: 6 });
    flushSync();
    expect(screen.getByTestId('status').getAttribute('data-phase')).toBe('stopped');
    expect((screen.getByTestId('start-button') as HTMLButtonElement).disabled).toBe(false);
  });

  it('says the engine is starting until its backend is known', () => {
    const { emit } = setup();
    expect(screen.getByTestId('status').textContent?.trim()).toBe('Starting the engine…');
    emit({ type: 'ready', backend: { name: 'wasm', reason: 'x', unavailable: [] }, pid: 1 });
    flushSync();
    expect(screen.getByTestId('status').textContent?.trim()).toBe('Ready.');
  });

  it('clears the previous run at Start, and says "1 epoch"', async () => {
    const { emit } = setup();
    emit(startedEvent(1));
    emit({
      type: 'batch',
      runId: 'run-1',
      epoch: 1,
      batch: 10,
      batches: 10,
      loss: 0.25,
      accuracy: 0.93,
      recentLoss: 0.2,
      recentAccuracy: 0.95,
    });
    emit({ type: 'epoch', runId: 'run-1', ...metrics(1) });
    emit({ type: 'finished', runId: 'run-1', epochs: 1 });
    flushSync();
    expect(screen.getByTestId('status').textContent?.trim()).toBe(
      'Finished 1 epoch. Checkpoints saved in run run-1.',
    );
    const numbers = () => [...document.querySelectorAll('.numbers dd')].map((d) => d.textContent);
    expect(numbers()).toEqual(['0.2500', '93.00 %', '91.00 %']);

    await fireEvent.click(screen.getByTestId('start-button'));
    expect(numbers()).toEqual(['–', '–', '–']);
    expect(screen.getByTestId('epoch-progress').getAttribute('value')).toBe('0');
    expect(screen.getByTestId('run-progress').getAttribute('value')).toBe('0');
    expect(screen.getByText(/Epoch – of 10 · batch 0\/–/)).toBeTruthy();
  });

  it('summarises the model the settings build, as Keras’ model.summary() would', async () => {
    setup();
    const total = () => screen.getByTestId('model-summary-total').textContent;
    const rows = () =>
      Array.from(screen.getByTestId('model-summary').querySelectorAll('tbody tr'), (tr) =>
        Array.from(tr.querySelectorAll('td'), (td) => td.textContent?.trim()),
      );
    // The mlp: Flatten → Dense(128) → Dropout → Dense(10), the Keras script's 101,770.
    expect(total()).toBe('101,770');
    expect(rows()).toEqual([
      ['Flatten', '(None, 784)', '0'],
      ['Dense', '(None, 128)', '100,480'],
      ['Dropout', '(None, 128)', '0'],
      ['Dense', '(None, 10)', '1,290'],
    ]);
    await fireEvent.input(screen.getByTestId('hiddenUnits-input'), { target: { value: '64' } });
    expect(total()).toBe((784 * 64 + 64 + 64 * 10 + 10).toLocaleString('en-US'));
    await fireEvent.change(screen.getByTestId('model-select'), { target: { value: 'cnn' } });
    expect(rows()[0]).toEqual(['Conv2D', '(None, 26, 26, 32)', '320']);
    // An invalid setting builds nothing: the last valid settings' summary stays in place.
    await fireEvent.input(screen.getByTestId('epochs-input'), { target: { value: '0' } });
    await fireEvent.change(screen.getByTestId('model-select'), { target: { value: 'mlp' } });
    expect(rows()[0]).toEqual(['Conv2D', '(None, 26, 26, 32)', '320']);
    await fireEvent.input(screen.getByTestId('epochs-input'), { target: { value: '2' } });
    expect(total()).toBe((784 * 64 + 64 + 64 * 10 + 10).toLocaleString('en-US'));
  });

  it('estimates the run before Start, then at the run’s own pace', async () => {
    const { emit } = setup();
    const estimate = () => screen.getByTestId('estimate').textContent?.trim();
    // The backend is not known yet on auto: no figure rather than a wrong one.
    expect(estimate()).toBe('');
    emit({ type: 'ready', backend: { name: 'wasm', reason: 'x', unavailable: [] }, pid: 1 });
    flushSync();
    // The mlp's fused step: 1.95 s per 54,000 images, plus validation.
    expect(estimate()).toBe('≈ 2 s per epoch, ≈ 25 s for 10 epochs');
    await fireEvent.change(screen.getByTestId('model-select'), { target: { value: 'cnn-strong' } });
    await fireEvent.input(screen.getByTestId('epochs-input'), { target: { value: '1' } });
    expect(estimate()).toBe('≈ 75 s per epoch, ≈ 75 s for 1 epoch');

    await fireEvent.click(screen.getByTestId('start-button'));
    emit(startedEvent(3));
    emit({ type: 'epoch', runId: 'run-1', ...metrics(1), seconds: 31 });
    flushSync();
    expect(estimate()).toMatch(/^≈ 30 s per epoch at this run's pace/);
  });

  it('shows a run already training (after a reload) with its settings, read-only', async () => {
    const running = startedEvent(3);
    if (running.type !== 'started') throw new Error('not a started event');
    running.config = { ...running.config, model: 'cnn-strong', limit: 2000, hiddenUnits: 64 };
    running.at = Date.now() - 65_000;
    const { training } = setup(running);
    await training.sync();
    flushSync();
    const epochs = screen.getByTestId('epochs-input') as HTMLInputElement;
    expect(epochs.value).toBe('3');
    expect(epochs.disabled).toBe(true);
    expect((screen.getByTestId('limit-input') as HTMLInputElement).value).toBe('2000');
    expect((screen.getByLabelText(/^Hidden units/) as HTMLInputElement).value).toBe('64');
    expect((screen.getByTestId('model-select') as HTMLSelectElement).value).toBe('cnn-strong');
    expect((screen.getByTestId('model-select') as HTMLSelectElement).disabled).toBe(true);
    // Elapsed counts from the run's start, not from this page's.
    expect(screen.getByText(/elapsed 1 min 0[5-7] s/)).toBeTruthy();
  });

  it('warns before Start when the data is too small to mean anything, without blocking it', async () => {
    const { requests } = setup();
    expect(screen.queryByTestId('data-warning')).toBeNull();
    await fireEvent.input(screen.getByTestId('limit-input'), { target: { value: '5' } });
    await fireEvent.input(screen.getByLabelText(/^Validation images/), { target: { value: '0' } });
    expect(screen.getByTestId('data-warning').textContent).toMatch(
      /^5 training images will teach the model little.*no validation images/,
    );
    await fireEvent.click(screen.getByTestId('start-button'));
    expect(requests.at(-1)).toMatchObject({
      type: 'train',
      config: { limit: 5, validationSize: 0 },
    });
  });

  it('draws the per-batch curves a reloaded page missed, then goes on live', async () => {
    const batch = (n: number, runId = 'run-1'): ClientEvent => ({
      type: 'batch',
      runId,
      epoch: 1,
      batch: n,
      batches: 10,
      loss: 1 / n,
      accuracy: n / 10,
      recentLoss: 1 / n,
      recentAccuracy: n / 10,
    });
    const { training, emit } = setup(startedEvent(3), [batch(2), batch(4), batch(6, 'other')]);
    await training.sync();
    flushSync();
    const loss = charts.find((c) => c.label === 'Loss')!;
    expect(loss.batches).toEqual([
      [0.2, 0.5],
      [0.4, 0.25],
    ]);
    // The status shows where the run is, from the last batch it had.
    expect(screen.getByText(/batch\s*4\/10/)).toBeTruthy();
    emit(batch(5));
    flushSync();
    expect(loss.batches.at(-1)).toEqual([0.5, 0.2]);
    expect(loss.batches).toHaveLength(3);
  });

  it('says why a run failed and which checkpoint it kept', () => {
    const { emit, training } = setup();
    emit(startedEvent(4));
    emit({
      type: 'epoch',
      runId: 'run-1',
      epoch: 1,
      loss: 0.5,
      accuracy: 0.8,
      valLoss: 0.4,
      valAccuracy: 0.85,
      seconds: 1,
      backend: 'wasm',
    });
    emit({
      type: 'error',
      message:
        'disk full (ENOSPC) while saving the checkpoint of epoch 2; free some space and resume',
      runId: 'run-1',
      fatal: false,
    });
    flushSync();
    expect(training.phase).toBe('error');
    expect(screen.getByTestId('status').textContent?.trim()).toBe(
      'Training failed: disk full (ENOSPC) while saving the checkpoint of epoch 2; free some space and resume. The last checkpoint is epoch 1.',
    );
  });

  it('shows a crashed worker as an error', () => {
    const { emit, training } = setup();
    training.phase = 'training';
    training.runId = 'run-1';
    emit({
      type: 'error',
      message: 'the training worker was killed (SIGKILL)',
      runId: 'run-1',
      fatal: true,
    });
    flushSync();
    expect(screen.getByTestId('status').textContent).toBe(
      'The training worker was killed (SIGKILL). The next action starts a fresh worker.',
    );
    expect(screen.getByTestId('status').getAttribute('data-phase')).toBe('error');
  });
});
