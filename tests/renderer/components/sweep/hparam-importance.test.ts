import { cleanup, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import { MIN_IMPORTANCE_TRIALS } from '$contract/sweep-view';
import HParamImportance from '../../../../src-renderer/src/components/sweep/HParamImportance.svelte';

afterEach(cleanup);

describe('HParamImportance', () => {
  it('ranks the hyper-parameters most important first, with bars and shares', () => {
    render(HParamImportance, {
      importance: [
        { param: 'dropout', importance: 0.1 },
        { param: 'learningRate', importance: 0.7 },
        { param: 'batchSize', importance: 0.2 },
      ],
      finished: 8,
    });
    const items = screen.getAllByTestId('importance-item');
    expect(items.map((i) => i.getAttribute('data-param'))).toEqual([
      'learningRate',
      'batchSize',
      'dropout',
    ]);
    expect(items[0]!.textContent).toMatch(/Learning rate.*70 %/);
    const bar = items[0]!.querySelector<HTMLElement>('.bar span')!;
    expect(bar.style.width).toBe('70%');
    expect(screen.queryByTestId('importance-waiting')).toBeNull();
  });

  it('says how many finished trials it needs until there is a ranking', () => {
    render(HParamImportance, { importance: null, finished: 2 });
    expect(screen.getByTestId('importance-waiting').textContent).toMatch(
      new RegExp(`Needs ${MIN_IMPORTANCE_TRIALS} finished trials \\(2 so far\\)`),
    );
    expect(screen.queryAllByTestId('importance-item')).toEqual([]);
  });
});
