import { describe, expect, it } from 'vitest';
import { compareOverlays } from '../../../src-renderer/src/lib/compare';
import { RUN_COLORS, runColor } from '../../../src-renderer/src/lib/run-color';
import { run } from '../fixtures';

describe('runColor', () => {
  it('gives a run one colour from its id alone, spread over the palette', () => {
    const ids = Array.from(
      { length: 240 },
      (_, i) => `20261130-0${i}-cnn-${(i * 7919).toString(16)}`,
    );
    const colours = ids.map(runColor);
    expect(new Set(colours.filter((c) => !RUN_COLORS.includes(c as never)))).toEqual(new Set());
    expect(ids.map(runColor)).toEqual(colours);
    // Every colour used, none by more than twice its fair share.
    const counts = RUN_COLORS.map((c) => colours.filter((x) => x === c).length);
    expect(Math.min(...counts)).toBeGreaterThan(0);
    expect(Math.max(...counts)).toBeLessThan((2 * ids.length) / RUN_COLORS.length);
  });

  it('is the same on every chart, whatever else is compared', () => {
    const runs = [run('a'), run('b'), run('c')];
    const onCharts = (compared: string[]) =>
      Object.fromEntries(
        compareOverlays(runs, compared, 'loss').map((o, i) => [compared[i], o.color]),
      );
    // The Train charts leave the live run out of the compared list; colours must not shift.
    expect(onCharts(['a', 'b', 'c'])['c']).toBe(onCharts(['b', 'c'])['c']);
    expect(onCharts(['c'])['c']).toBe(runColor('c'));
  });
});
