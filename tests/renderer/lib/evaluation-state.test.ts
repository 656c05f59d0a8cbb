import { describe, expect, it } from 'vitest';
import type { ClientRequest } from '$contract/api';
import type { Evaluation } from '$contract/messages';
import { EvaluationState } from '../../../src-renderer/src/lib/evaluation-state.svelte';
import { fakeApi } from '../fixtures';

const result = (runId: string, epoch: number, accuracy = 0.9): Evaluation => ({
  runId,
  epoch,
  accuracy,
  loss: 0.3,
  perClass: new Array<number>(10).fill(accuracy),
  confusion: Array.from({ length: 10 }, (_, a) =>
    Array.from({ length: 10 }, (_, p) => (a === p ? 9 : 0)),
  ),
  count: 90,
  mistakes: [],
});

function setup(answer: (r: ClientRequest) => unknown) {
  const fake = fakeApi(answer);
  const state = new EvaluationState(fake.api);
  fake.api.onEvent((e) => state.handle(e));
  return { ...fake, state };
}

describe('EvaluationState', () => {
  it('keeps the last result of each checkpoint, and a failure loses none of them', async () => {
    let fail = false;
    const { state } = setup((r) => {
      if (r.type !== 'evaluate') return {};
      if (fail) throw new Error('run a has no checkpoint epoch 1');
      return result(r.runId, r.epoch!, r.runId === 'a' ? 0.9 : 0.8);
    });
    await state.evaluate({ runId: 'a', epoch: 1 });
    await state.evaluate({ runId: 'b', epoch: 2 });
    expect(state.result({ runId: 'a', epoch: 1 })?.accuracy).toBe(0.9);
    expect(state.result({ runId: 'b', epoch: 2 })?.accuracy).toBe(0.8);
    expect(state.result({ runId: 'a', epoch: 2 })).toBeNull();
    fail = true;
    expect(await state.evaluate({ runId: 'a', epoch: 1 })).toBeNull();
    expect(state.error).toEqual({
      ref: { runId: 'a', epoch: 1 },
      message: 'run a has no checkpoint epoch 1',
    });
    expect(state.result({ runId: 'a', epoch: 1 })?.accuracy).toBe(0.9);
    expect(state.running).toBeNull();
  });

  it('follows the progress of its own evaluation only, one evaluation at a time', async () => {
    let finish: (r: Evaluation) => void = () => {};
    const { state, emit, requests } = setup((r) =>
      r.type === 'evaluate' ? new Promise<Evaluation>((resolve) => (finish = resolve)) : {},
    );
    const running = state.evaluate({ runId: 'a', epoch: 3 });
    expect(await state.evaluate({ runId: 'b', epoch: 1 })).toBeNull();
    expect(requests).toHaveLength(1);
    emit({ type: 'evaluateProgress', runId: 'b', done: 500, total: 10000 });
    expect(state.progress).toMatchObject({ done: 0, total: 0 });
    emit({ type: 'evaluateProgress', runId: 'a', done: 500, total: 10000 });
    expect(state.progress).toEqual({ ref: { runId: 'a', epoch: 3 }, done: 500, total: 10000 });
    finish(result('a', 3));
    await running;
    expect(state.progress).toEqual({ ref: { runId: 'a', epoch: 3 }, done: 90, total: 90 });
    // After it ends, stray progress changes nothing.
    emit({ type: 'evaluateProgress', runId: 'a', done: 10, total: 10000 });
    expect(state.progress?.done).toBe(90);
  });

  it('shows the cell clicked last, whatever order the answers arrive in', async () => {
    const answers: ((v: unknown) => void)[] = [];
    const { state } = setup((r) =>
      r.type === 'examples' ? new Promise((resolve) => answers.push(resolve)) : {},
    );
    const ref = { runId: 'a', epoch: 1 };
    const first = state.openCell(ref, 4, 9);
    const second = state.openCell(ref, 7, 2);
    answers[1]!({ examples: [], total: 5 });
    await second;
    answers[0]!({ examples: [], total: 12 });
    await first;
    expect(state.cell).toMatchObject({ actual: 7, predicted: 2, total: 5, loading: false });
    state.closeCell();
    expect(state.cell).toBeNull();
  });
});
