import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { flushSync } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClientRequest } from '$contract/api';
import type { Prediction, RunInfo } from '$contract/messages';
import { CheckpointsState } from '../../../src-renderer/src/lib/checkpoints.svelte';
import DrawPanel from '../../../src-renderer/src/panels/DrawPanel.svelte';
import { fakeApi, metrics, run, status } from '../fixtures';

type PredictRequest = Extract<ClientRequest, { type: 'predict' }>;

// The in-window model: jsdom cannot run TensorFlow.js, so each test says what loading gives.
const localModel = vi.hoisted(() => ({ load: vi.fn() }));
vi.mock('../../../src-renderer/src/lib/local-model', () => ({
  loadLocalModel: (files: unknown) => localModel.load(files),
}));

// Animation frames run when the test says so.
let frames: (() => void)[] = [];
function runFrame() {
  const due = frames;
  frames = [];
  due.forEach((f) => f());
}

beforeEach(() => {
  frames = [];
  // By default the window cannot load it, and the engine answers (the fallback path).
  localModel.load.mockReset();
  localModel.load.mockRejectedValue(new Error('no TensorFlow.js in jsdom'));
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  vi.stubGlobal('requestAnimationFrame', (f: () => void) => frames.push(f));
  // jsdom has no 2-D canvas; the panel draws its ink into a buffer it owns and skips the display.
  vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockReturnValue(null);
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

interface Pending {
  request: PredictRequest;
  resolve: (digit: number) => void;
  reject: (error: Error) => void;
}

/** Predict requests stay open until the test answers them, so "in flight" is observable. */
async function setup(runs: RunInfo[], restored: { runId: string; epoch: number } | null = null) {
  const pending: Pending[] = [];
  const fake = fakeApi((r) => {
    if (r.type === 'listRuns') return { runs };
    if (r.type === 'status')
      return status(restored && { ...restored, model: 'cnn', metrics: metrics(restored.epoch) });
    if (r.type === 'modelFiles')
      return { runId: r.runId, epoch: r.epoch, topology: {}, weightSpecs: [], weights: '' };
    if (r.type === 'predict')
      return new Promise<Prediction>((resolve, reject) => {
        pending.push({
          request: r,
          reject,
          resolve: (digit) =>
            resolve({
              runId: r.runId,
              epoch: r.epoch!,
              digit,
              probabilities: Array.from({ length: 10 }, (_, d) => (d === digit ? 0.91 : 0.01)),
            }),
        });
      });
    return {};
  });
  const checkpoints = new CheckpointsState(fake.api);
  await checkpoints.sync();
  render(DrawPanel, { api: fake.api, checkpoints, visible: true });
  flushSync();
  const predicts = () => fake.requests.filter((r): r is PredictRequest => r.type === 'predict');
  return { ...fake, checkpoints, pending, predicts };
}

const pad = () => screen.getByTestId('draw-pad');
const pointer = (x: number, y: number) => ({
  pointerId: 1,
  pointerType: 'mouse',
  button: 0,
  clientX: x,
  clientY: y,
});
const down = (x: number, y: number) => fireEvent.pointerDown(pad(), pointer(x, y));
const move = (x: number, y: number) => fireEvent.pointerMove(pad(), pointer(x, y));
const up = (x: number, y: number) => fireEvent.pointerUp(pad(), pointer(x, y));
/**
 * Pen down 40 units above (x, y), a frame, then to it: the smallest mark the pad reads as a
 * digit (a dot alone is too small, and asks nothing).
 */
const start = async (x: number, y: number) => {
  await down(x, y - 40);
  runFrame();
  await move(x, y);
};
const ink = (r: PredictRequest) => r.pixels.reduce((s, v) => s + v, 0);
/** Lets the awaited request settle and the panel update. */
const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
  flushSync();
};

describe('DrawPanel', () => {
  it('keeps at most one request in flight and predicts the newest drawing once it returns', async () => {
    const { pending, predicts } = await setup([run('run-a', { epochs: 2 })]);
    await start(140, 40);
    expect(predicts()).toHaveLength(1);
    expect(predicts()[0]).toMatchObject({ runId: 'run-a', epoch: 2 });
    expect(predicts()[0]!.pixels).toHaveLength(784);

    // A whole stroke while the first answer is out: no second request, no backlog.
    for (let y = 50; y <= 240; y += 10) await move(140 + (y - 40) / 10, y);
    runFrame();
    expect(predicts()).toHaveLength(1);
    expect(screen.getByTestId('prediction').textContent).toBe('');

    pending[0]!.resolve(1);
    await settle();
    expect(screen.getByTestId('prediction').textContent).toBe('1');
    // The strokes that arrived meanwhile are predicted once, as they are now, in the next frame.
    runFrame();
    expect(predicts()).toHaveLength(2);
    expect(ink(predicts()[1]!)).not.toBe(ink(predicts()[0]!));

    pending[1]!.resolve(7);
    await settle();
    runFrame();
    expect(screen.getByTestId('prediction').textContent).toBe('7');
    expect(predicts()).toHaveLength(2);
    // Screen readers hear the answer once the stroke is done, not every frame while drawing.
    expect(screen.getByRole('status').textContent).toBe('');
    // Pen-up adds no ink: nothing new to ask.
    await up(160, 240);
    runFrame();
    expect(predicts()).toHaveLength(2);
    expect(screen.getByRole('status').textContent).toBe('Predicted 7');
  });

  it('predicts at most once per animation frame', async () => {
    const { pending, predicts } = await setup([run('run-a')]);
    await start(100, 60);
    pending[0]!.resolve(1);
    await settle();
    // The answer came back within the same frame: the next change waits for the next frame.
    await move(100, 120);
    expect(predicts()).toHaveLength(1);
    runFrame();
    expect(predicts()).toHaveLength(2);
  });

  it('shows ten bars with the top one highlighted', async () => {
    const { pending } = await setup([run('run-a')]);
    const bars = () => [...screen.getByTestId('probability-bars').querySelectorAll('[data-digit]')];
    expect(bars()).toHaveLength(10);
    expect(bars().every((b) => b.getAttribute('data-probability') === '0')).toBe(true);
    await start(100, 60);
    await move(100, 200);
    pending[0]!.resolve(4);
    await settle();
    expect(bars().map((b) => b.getAttribute('data-digit'))).toEqual(
      ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'].map(String),
    );
    expect(bars().map((b) => Number(b.getAttribute('data-probability')))).toEqual([
      0.01, 0.01, 0.01, 0.01, 0.91, 0.01, 0.01, 0.01, 0.01, 0.01,
    ]);
    expect(bars().filter((b) => b.classList.contains('top'))).toEqual([bars()[4]]);
    expect(screen.getByText('91.0 % sure')).toBeTruthy();
  });

  it('says which model it uses and why: the best finished checkpoint', async () => {
    await setup([run('run-new', { epochs: 2 }), run('run-old', { epochs: 3 })]);
    const label = screen.getByTestId('draw-model');
    expect(label.textContent).toContain(
      'Best finished checkpoint (nothing restored): run run-old epoch 3',
    );
    expect(label.getAttribute('data-source')).toBe('best');
  });

  it('predicts in the window once the model is loaded there, in the same call as the stroke', async () => {
    const loaded: unknown[] = [];
    localModel.load.mockImplementation(async (files: { runId: string; epoch: number }) => {
      loaded.push(files);
      return {
        runId: files.runId,
        epoch: files.epoch,
        backend: 'wasm',
        predict: () => Float32Array.from({ length: 10 }, (_, d) => (d === 6 ? 0.8 : 0.02)),
        dispose: () => undefined,
      };
    });
    const { predicts, requests } = await setup([run('run-new', { epochs: 3 })]);
    await settle();
    expect(requests).toContainEqual({ type: 'modelFiles', runId: 'run-new', epoch: 3 });
    expect(loaded).toHaveLength(1);
    const label = screen.getByTestId('draw-model');
    expect(label.getAttribute('data-predictor')).toBe('window');
    expect(label.textContent).toContain('runs in this window (WebAssembly)');
    await start(100, 60);
    // No await between the pointer event and the answer: it is in the DOM already.
    expect(screen.getByTestId('prediction').textContent).toBe('6');
    expect(predicts()).toHaveLength(0);
  });

  it('falls back to the engine when the window cannot load the model', async () => {
    const { predicts } = await setup([run('run-new', { epochs: 3 })]);
    await settle();
    const label = screen.getByTestId('draw-model');
    expect(label.getAttribute('data-predictor')).toBe('worker');
    expect(label.textContent).toContain('predicted by the engine');
    await start(100, 60);
    expect(predicts()).toHaveLength(1);
  });

  it('says which model it uses: the restored checkpoint', async () => {
    const { predicts } = await setup([run('run-new', { epochs: 3 }), run('run-old')], {
      runId: 'run-old',
      epoch: 2,
    });
    const label = screen.getByTestId('draw-model');
    expect(label.textContent).toContain('Restored: run run-old epoch 2');
    expect(label.getAttribute('data-source')).toBe('restored');
    await start(100, 60);
    expect(predicts()[0]).toMatchObject({ runId: 'run-old', epoch: 2 });
  });

  it('without a model says how to get one and asks nothing, but shows the input', async () => {
    const { predicts } = await setup([run('run-x', { status: 'stopped' })]);
    const label = screen.getByTestId('draw-model');
    expect(label.getAttribute('data-source')).toBe('none');
    expect(label.textContent).toMatch(/No model yet.*Train panel.*restore a checkpoint/s);
    await start(100, 60);
    await move(100, 200);
    runFrame();
    await settle();
    expect(predicts()).toHaveLength(0);
    expect(screen.getByTestId('prediction').textContent).toBe('');
    expect(screen.getByText('No model to ask yet')).toBeTruthy();
  });

  it('asks again about the current drawing when the model changes', async () => {
    const { pending, predicts, checkpoints } = await setup([
      run('run-new', { epochs: 3 }),
      run('run-old'),
    ]);
    await start(100, 60);
    await move(100, 200);
    await up(100, 200);
    pending[0]!.resolve(1);
    await settle();
    runFrame();
    pending[1]!.resolve(1);
    await settle();
    runFrame();
    expect(predicts()).toHaveLength(2);
    expect(predicts()[1]).toMatchObject({ runId: 'run-new', epoch: 3 });

    checkpoints.restored = { runId: 'run-old', epoch: 1, model: 'mlp', metrics: null };
    flushSync();
    runFrame();
    expect(predicts()).toHaveLength(3);
    expect(predicts()[2]).toMatchObject({ runId: 'run-old', epoch: 1 });
    expect(predicts()[2]!.pixels).toEqual(predicts()[1]!.pixels);
    expect(screen.getByTestId('draw-model').textContent).toContain('Restored: run run-old epoch 1');
  });

  it('Clear empties the pad, the prediction and the bars, and drops a late answer', async () => {
    const { pending, predicts } = await setup([run('run-a')]);
    await start(100, 60);
    await move(100, 200);
    pending[0]!.resolve(1);
    await settle();
    runFrame();
    await move(140, 200);
    runFrame();
    expect(predicts()).toHaveLength(2);
    expect(screen.getByTestId('prediction').textContent).toBe('1');

    const clear = screen.getByTestId('clear-button') as HTMLButtonElement;
    expect(clear.disabled).toBe(false);
    await fireEvent.click(clear);
    expect(screen.getByTestId('prediction').textContent).toBe('');
    expect(clear.disabled).toBe(true);
    // The answer about the drawing that was cleared arrives afterwards: it is not shown.
    pending[1]!.resolve(8);
    await settle();
    runFrame();
    expect(screen.getByTestId('prediction').textContent).toBe('');
    const bars = screen.getByTestId('probability-bars');
    expect(bars.querySelectorAll('.top')).toHaveLength(0);
    expect(
      [...bars.querySelectorAll('[data-digit]')].map((b) => b.getAttribute('data-probability')),
    ).toEqual(Array(10).fill('0'));
    expect(predicts()).toHaveLength(2);

    // A fresh drawing starts from an empty pad: the same mark, the same input as the first request.
    await start(50, 90);
    expect(predicts()).toHaveLength(3);
    expect(predicts()[2]!.pixels).toEqual(predicts()[0]!.pixels);
  });

  it('asks for a bigger digit instead of guessing at a dot or a tiny scribble', async () => {
    const { predicts } = await setup([run('run-a')]);
    await down(100, 100);
    await up(100, 100);
    runFrame();
    expect(predicts()).toHaveLength(0);
    expect(screen.getByTestId('too-small').textContent).toBe(
      'Too small to read: draw the digit bigger',
    );
    expect(screen.getByRole('status').textContent).toBe('Too small to read: draw the digit bigger');
    // Growing it past a fifth of the pad gets an answer.
    await down(100, 100);
    runFrame();
    await move(100, 140);
    runFrame();
    expect(predicts()).toHaveLength(1);
    expect(screen.queryByTestId('too-small')).toBeNull();
  });

  it('reports a failed prediction and recovers on the next stroke', async () => {
    const { pending, predicts } = await setup([run('run-a')]);
    await start(100, 60);
    pending[0]!.reject(new Error('checkpoint run-a epoch 3 is damaged: bad weights'));
    await settle();
    expect(screen.getByRole('alert').textContent).toBe(
      'Could not predict: checkpoint run-a epoch 3 is damaged: bad weights',
    );
    runFrame();
    await move(100, 200);
    expect(predicts()).toHaveLength(2);
    pending[1]!.resolve(1);
    await settle();
    expect(screen.queryByRole('alert')).toBeNull();
    expect(screen.getByTestId('prediction').textContent).toBe('1');
  });
});
