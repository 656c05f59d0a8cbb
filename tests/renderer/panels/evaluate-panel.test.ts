import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { flushSync, tick } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ClientRequest } from '$contract/api';
import type { Evaluation, RunInfo, TestExample } from '$contract/messages';
import { CheckpointsState } from '../../../src-renderer/src/lib/checkpoints.svelte';
import { EvaluationState } from '../../../src-renderer/src/lib/evaluation-state.svelte';
import EvaluatePanel from '../../../src-renderer/src/panels/EvaluatePanel.svelte';
import { fakeApi, run, status } from '../fixtures';

// jsdom has no 2D canvas: a recorder stands in, so the test sees which images were drawn.
const drawn: number[][] = [];
beforeEach(() => {
  drawn.length = 0;
  vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockImplementation(function () {
    return {
      createImageData: (w: number, h: number) => ({ data: new Uint8ClampedArray(w * h * 4) }),
      putImageData: (image: { data: Uint8ClampedArray }) => drawn.push(Array.from(image.data)),
    } as unknown as CanvasRenderingContext2D;
  } as unknown as typeof HTMLCanvasElement.prototype.getContext);
});
afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

function example(index: number, label: number, predicted: number, confidence = 0.9): TestExample {
  const probabilities = new Array<number>(10).fill((1 - confidence) / 9);
  probabilities[predicted] = confidence;
  const bytes = new Uint8Array(784);
  bytes[index % 784] = 255;
  return {
    index,
    label,
    predicted,
    probabilities,
    pixels: btoa(String.fromCharCode(...bytes)),
  };
}

/** An evaluation whose matrix has 980 on the diagonal, 12 × "4 as 9", 5 × "7 as 2". */
function evaluation(runId: string, epoch: number): Evaluation {
  const confusion: number[][] = Array.from({ length: 10 }, (_, a) =>
    Array.from({ length: 10 }, (_, p) => (a === p ? 980 : 0)),
  );
  confusion[4]![9] = 12;
  confusion[7]![2] = 5;
  const perClass = confusion.map((row, a) => row[a]! / row.reduce((s, n) => s + n, 0));
  const count = confusion.flat().reduce((s, n) => s + n, 0);
  return {
    runId,
    epoch,
    accuracy: 9800 / count,
    loss: 0.0712,
    perClass,
    confusion,
    count,
    mistakes: [example(11, 4, 9, 0.97), example(12, 7, 2, 0.8), example(13, 4, 9, 0.6)],
  };
}

interface Deferred {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

async function setup(runs: RunInfo[], answer: (r: ClientRequest) => unknown = () => ({})) {
  let current = runs;
  const pending: Deferred[] = [];
  const fake = fakeApi((r) => {
    if (r.type === 'listRuns') return { runs: current };
    if (r.type === 'status') return status();
    if (r.type === 'evaluate')
      return new Promise((resolve, reject) => pending.push({ resolve, reject }));
    return answer(r);
  });
  const checkpoints = new CheckpointsState(fake.api, 5);
  await checkpoints.sync();
  const evaluation = new EvaluationState(fake.api);
  fake.api.onEvent((event) => evaluation.handle(event));
  render(EvaluatePanel, { checkpoints, evaluation });
  flushSync();
  return {
    ...fake,
    checkpoints,
    setRuns: (r: RunInfo[]) => (current = r),
    /** Settles the oldest evaluate request. */
    settle: async (value: Evaluation | Error) => {
      const p = pending.shift()!;
      if (value instanceof Error) p.reject(value);
      else p.resolve(value);
      await tick();
      await tick();
    },
  };
}

const button = () => screen.getByTestId('evaluate-button') as HTMLButtonElement;
const cells = () => within(screen.getByTestId('confusion-matrix')).getAllByTestId('confusion-cell');
const cell = (actual: number, predicted: number) =>
  cells().find(
    (c) => c.dataset.actual === String(actual) && c.dataset.predicted === String(predicted),
  )!;

describe('EvaluatePanel', () => {
  it('explains how to get a model when there is none', async () => {
    await setup([]);
    expect(screen.getByTestId('evaluate-empty').textContent).toMatch(
      /No checkpoint to evaluate yet.*Train.*Checkpoints/s,
    );
    expect(button().disabled).toBe(true);
  });

  it('evaluates the model in use, following its progress, then shows every result', async () => {
    const { requests, emit, settle } = await setup([run('run-a', { epochs: 2 })]);
    expect(screen.getByTestId('checkpoint-select').textContent).toMatch(
      /Model in use: run-a, epoch 2 \(best finished\)/,
    );
    await fireEvent.click(button());
    expect(requests.at(-1)).toEqual({ type: 'evaluate', runId: 'run-a', epoch: 2 });
    expect(button().disabled).toBe(true);
    expect(button().textContent).toBe('Evaluating…');

    emit({ type: 'evaluateProgress', runId: 'run-a', done: 2500, total: 10000 });
    flushSync();
    const progress = screen.getByTestId('evaluate-progress');
    expect(progress.getAttribute('value')).toBe('0.25');
    expect(screen.getByTestId('evaluate-status').textContent).toMatch(/2,500 \/\s*10,000/);
    // Another run's progress (another window's evaluation) is not ours.
    emit({ type: 'evaluateProgress', runId: 'other', done: 9000, total: 10000 });
    flushSync();
    expect(progress.getAttribute('value')).toBe('0.25');

    await settle(evaluation('run-a', 2));
    expect(button().disabled).toBe(false);
    expect(screen.getByTestId('evaluate-progress').getAttribute('value')).toBe('1');
    expect(screen.getByTestId('evaluate-accuracy').textContent!.trim()).toBe('99.83 %');
    expect(screen.getByTestId('evaluate-loss').textContent).toBe('0.0712');
    expect(screen.getByTestId('evaluate-count').textContent!.trim()).toBe('9,817');

    const perClass = screen.getAllByTestId('class-accuracy');
    expect(perClass).toHaveLength(10);
    expect(perClass.map((li) => li.querySelector('.value')!.textContent)).toEqual([
      '100.0 %',
      '100.0 %',
      '100.0 %',
      '100.0 %',
      '98.8 %',
      '100.0 %',
      '100.0 %',
      '99.5 %',
      '100.0 %',
      '100.0 %',
    ]);
    expect(
      perClass.filter((li) => li.classList.contains('worst')).map((li) => li.dataset.digit),
    ).toEqual(['4']);

    expect(cells()).toHaveLength(100);
    expect(cells().reduce((s, c) => s + Number(c.dataset.count), 0)).toBe(9817);
    expect(cell(4, 9).textContent).toBe('12');
    expect(cell(4, 9).getAttribute('aria-label')).toBe('4 predicted as 9: 12 images');
    // Colours come through the CSSOM (the CSP forbids style attributes in markup).
    expect(cell(4, 9).style.getPropertyValue('--cell-bg')).toBe('rgb(255, 92, 92)');
    expect(cell(3, 3).style.getPropertyValue('--cell-bg')).toBe('rgb(79, 140, 255)');
    // The most frequent error is the cell the keyboard lands on.
    expect(cells().filter((c) => c.tabIndex === 0)).toEqual([cell(4, 9)]);

    const gallery = screen.getByTestId('misclassified-gallery');
    const cards = within(gallery).getAllByTestId('example-card');
    expect(cards.map((c) => c.dataset.index)).toEqual(['11', '12', '13']);
    expect(cards[0]!.textContent).toMatch(/true 4 → predicted 9 \(97 %\)/);
    expect(drawn).toHaveLength(3);
    // The drawn image is the decoded one: pixel 11 is ink (white), its neighbour black.
    expect(drawn[0]!.slice(44, 48)).toEqual([255, 255, 255, 255]);
    expect(drawn[0]!.slice(40, 44)).toEqual([0, 0, 0, 255]);
  });

  it('opens a cell: asks for its test images and shows them with their probabilities', async () => {
    const { requests, settle } = await setup([run('run-a', { epochs: 2 })], (r) =>
      r.type === 'examples'
        ? { examples: [example(21, 4, 9), example(22, 4, 9, 0.7)], total: 12 }
        : {},
    );
    await fireEvent.click(button());
    await settle(evaluation('run-a', 2));
    // jsdom does no layout; the panel asks for the opened images to be brought into view.
    const scrolled: Element[] = [];
    Element.prototype.scrollIntoView = function (this: Element) {
      scrolled.push(this);
    };
    await fireEvent.click(cell(4, 9));
    expect(requests.at(-1)).toEqual({
      type: 'examples',
      runId: 'run-a',
      epoch: 2,
      actual: 4,
      predicted: 9,
      limit: 100,
    });
    await tick();
    const box = screen.getByTestId('cell-examples');
    expect(scrolled).toEqual([box]);
    expect(box.textContent).toMatch(/4 predicted as 9/);
    expect(screen.getByTestId('cell-examples-count').textContent).toMatch(/showing 2 of 12 images/);
    const cards = within(box).getAllByTestId('example-card');
    expect(cards.map((c) => [c.dataset.label, c.dataset.predicted])).toEqual([
      ['4', '9'],
      ['4', '9'],
    ]);
    expect(within(box).getAllByRole('img', { name: /Test image 2[12], labelled 4/ })).toHaveLength(
      2,
    );
    expect(within(cards[0]!).getByRole('img', { name: /^Probabilities 9: 90 %/ })).toBeTruthy();
    expect(cell(4, 9).getAttribute('aria-pressed')).toBe('true');

    // More of a big cell on request, up to the contract's limit.
    await fireEvent.click(within(box).getByRole('button', { name: 'Show up to 500' }));
    expect(requests.at(-1)).toMatchObject({
      type: 'examples',
      actual: 4,
      predicted: 9,
      limit: 500,
    });

    await fireEvent.click(within(box).getByRole('button', { name: 'Close' }));
    expect(screen.queryByTestId('cell-examples')).toBeNull();
  });

  it('moves between cells with the arrow keys', async () => {
    const { settle } = await setup([run('run-a', { epochs: 1 })]);
    await fireEvent.click(button());
    await settle(evaluation('run-a', 1));
    cell(4, 9).focus();
    await fireEvent.keyDown(cell(4, 9), { key: 'ArrowUp' });
    expect(document.activeElement).toBe(cell(3, 9));
    await fireEvent.keyDown(cell(3, 9), { key: 'Home' });
    expect(document.activeElement).toBe(cell(3, 0));
    expect(cell(3, 0).tabIndex).toBe(0);
  });

  it('reports a failed evaluation, keeps the earlier result and enables Evaluate again', async () => {
    const { settle, requests } = await setup([run('run-a', { epochs: 2 })]);
    await fireEvent.click(button());
    await settle(evaluation('run-a', 2));
    await fireEvent.click(button());
    const listings = requests.filter((r) => r.type === 'listRuns').length;
    await settle(new Error('checkpoint epoch 2 of run run-a is damaged: weights.bin is truncated'));
    expect(screen.getByTestId('evaluate-error').textContent).toMatch(
      /Could not evaluate run-a, epoch 2: checkpoint epoch 2 of run run-a is damaged: weights.bin is truncated\.\s*Its earlier result is still shown/,
    );
    expect(button().disabled).toBe(false);
    expect(screen.getByTestId('evaluate-accuracy').textContent!.trim()).toBe('99.83 %');
    // The listing is refreshed, so the damaged checkpoint shows as such.
    await tick();
    expect(requests.filter((r) => r.type === 'listRuns').length).toBe(listings + 1);
  });

  it('offers every valid checkpoint of every run, never a damaged one', async () => {
    const { requests, settle } = await setup([
      run('run-a', { epochs: 2 }),
      run('run-b', { epochs: 3, status: 'stopped', damaged: { 2: 'bad JSON' } }),
    ]);
    const select = screen.getByTestId('checkpoint-select') as HTMLSelectElement;
    const groups = Array.from(select.querySelectorAll('optgroup'));
    expect(groups.map((g) => g.label)).toEqual([
      expect.stringMatching(/run-a$/),
      expect.stringMatching(/run-b \(stopped\)$/),
    ]);
    expect(Array.from(groups[1]!.querySelectorAll('option')).map((o) => o.value)).toEqual([
      'run-b:1',
      'run-b:3',
    ]);
    await fireEvent.change(select, { target: { value: 'run-b:3' } });
    expect(screen.getByTestId('evaluate-target').textContent).toMatch(/Evaluates run-b, epoch 3/);
    await fireEvent.click(button());
    expect(requests.at(-1)).toEqual({ type: 'evaluate', runId: 'run-b', epoch: 3 });
    await settle(evaluation('run-b', 3));
    expect(screen.getByTestId('evaluate-accuracy')).toBeTruthy();

    // The model in use has no result yet; run-b's comes back when chosen again.
    await fireEvent.change(select, { target: { value: '' } });
    expect(screen.queryByTestId('evaluate-accuracy')).toBeNull();
    expect(screen.getByTestId('evaluate-hint').textContent).toMatch(/Not evaluated yet/);
    await fireEvent.change(select, { target: { value: 'run-b:3' } });
    expect(screen.getByTestId('evaluate-accuracy')).toBeTruthy();
  });

  it('names the checkpoint whose results are shown, not the last one evaluated', async () => {
    const { settle } = await setup([run('run-a', { epochs: 2 }), run('run-b', { epochs: 3 })]);
    const select = screen.getByTestId('checkpoint-select') as HTMLSelectElement;
    const status = () => screen.getByTestId('evaluate-status').textContent!.replace(/\s+/g, ' ');
    await fireEvent.change(select, { target: { value: 'run-a:2' } });
    await fireEvent.click(button());
    await settle(evaluation('run-a', 2));
    expect(status()).toMatch(/Evaluated run-a, epoch 2 on/);
    await fireEvent.change(select, { target: { value: 'run-b:3' } });
    await fireEvent.click(button());
    await settle(evaluation('run-b', 3));
    expect(status()).toMatch(/Evaluated run-b, epoch 3 on/);
    // Back to run-a: its own results, under its own name.
    await fireEvent.change(select, { target: { value: 'run-a:2' } });
    expect(screen.getByTestId('evaluate-accuracy')).toBeTruthy();
    expect(status()).toMatch(/Evaluated run-a, epoch 2 on/);
    // A checkpoint never evaluated: no claim at all.
    await fireEvent.change(select, { target: { value: 'run-b:1' } });
    expect(screen.queryByTestId('evaluate-status')).toBeNull();
  });

  it('says when the engine no longer holds the evaluation a cell needs, and re-evaluates', async () => {
    let expired = true;
    const { settle, requests } = await setup([run('run-a', { epochs: 2 })], (r) => {
      if (r.type !== 'examples') return {};
      if (expired)
        throw new Error(
          'evaluate epoch 2 of run run-a first; its examples come from that evaluation',
        );
      return { examples: [example(5, 7, 2)], total: 5 };
    });
    await fireEvent.click(button());
    await settle(evaluation('run-a', 2));
    await fireEvent.click(cell(7, 2));
    await tick();
    const message = screen.getByTestId('cell-examples-error');
    expect(message.textContent).toMatch(/latest evaluation only.*Evaluate run-a, epoch 2 again/s);
    expired = false;
    await fireEvent.click(within(message).getByRole('button', { name: 'Evaluate again' }));
    expect(requests.at(-1)).toEqual({ type: 'evaluate', runId: 'run-a', epoch: 2 });
    await settle(evaluation('run-a', 2));
    await tick();
    // The cell asks again (the listing is refreshed too: the run now keeps its test result).
    const asked = requests.filter((r) => r.type === 'examples');
    expect(asked).toHaveLength(2);
    expect(asked.at(-1)).toMatchObject({ type: 'examples', actual: 7, predicted: 2 });
    expect(screen.queryByTestId('cell-examples-error')).toBeNull();
    expect(within(screen.getByTestId('cell-examples')).getAllByTestId('example-card')).toHaveLength(
      1,
    );
  });

  it('marks a result whose checkpoint was deleted since', async () => {
    const { settle, setRuns, checkpoints } = await setup([
      run('run-a', { epochs: 2 }),
      run('run-b', { epochs: 1 }),
    ]);
    await fireEvent.change(screen.getByTestId('checkpoint-select'), {
      target: { value: 'run-b:1' },
    });
    await fireEvent.click(button());
    await settle(evaluation('run-b', 1));
    setRuns([run('run-a', { epochs: 2 })]);
    await checkpoints.refresh();
    flushSync();
    expect(screen.getByTestId('evaluation-stale').textContent).toMatch(
      /results are for run-b, epoch 1, which has been deleted or damaged/,
    );
    expect(screen.getByTestId('evaluate-accuracy')).toBeTruthy();
    expect(button().disabled).toBe(true);
  });
});

describe('EvaluatePanel: the model in use disappears', () => {
  it('stays on its result, marked as deleted, until the user goes back to the model in use', async () => {
    const { settle, setRuns, checkpoints } = await setup([
      run('run-a', { epochs: 2, createdAt: '2026-11-25T09:00:00.000Z' }),
      run('run-b', { epochs: 1, createdAt: '2026-11-25T10:00:00.000Z' }),
    ]);
    const select = screen.getByTestId('checkpoint-select') as HTMLSelectElement;
    expect(checkpoints.model).toMatchObject({ runId: 'run-a', epoch: 2 });
    await fireEvent.click(button());
    await settle(evaluation('run-a', 2));
    setRuns([run('run-b', { epochs: 1 })]);
    await checkpoints.refresh();
    flushSync();
    expect(checkpoints.model).toMatchObject({ runId: 'run-b', epoch: 1 });
    expect(select.value).toBe('run-a:2');
    expect(select.selectedOptions[0]!.textContent).toMatch(
      /run-a, epoch 2 \(no longer available\)/,
    );
    expect(screen.getByTestId('evaluation-stale').textContent).toMatch(/run-a, epoch 2/);
    expect(screen.getByTestId('evaluate-accuracy')).toBeTruthy();

    await fireEvent.change(select, { target: { value: '' } });
    expect(select.value).toBe('');
    expect(screen.queryByTestId('evaluation-stale')).toBeNull();
    expect(screen.getByTestId('evaluate-hint').textContent).toMatch(/run-b, epoch 1/);
  });
});
