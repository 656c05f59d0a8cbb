import { describe, expect, it } from 'vitest';
import {
  chartConfig,
  clampFractionLimits,
  COLORS,
  epochTitle,
  type Point,
} from '../../../src-renderer/src/lib/charts';

const series = () => ({
  raw: [] as Point[],
  smoothed: [] as Point[],
  epochTrain: [] as Point[],
  epochVal: [] as Point[],
});

describe('metric chart configuration', () => {
  it('draws the raw per-batch line visibly, under the smoothed one', () => {
    const [raw, smoothed] = chartConfig({ label: 'Loss' }, series()).data.datasets;
    expect(raw!.label).toBe('train (per batch)');
    // Chart.js draws datasets of higher `order` first, i.e. underneath.
    expect(raw!.order ?? 0).toBeGreaterThan(smoothed!.order ?? 0);
    const alpha = Number(/rgba\([^)]*,\s*([\d.]+)\)/.exec(COLORS.raw)?.[1]);
    expect(alpha).toBeGreaterThanOrEqual(0.4);
  });

  it('titles tooltips with the epoch, not a bare number', () => {
    expect(epochTitle(1.2600000001)).toBe('epoch 1.26');
    expect(epochTitle(3)).toBe('epoch 3');
    const title = chartConfig({ label: 'Loss' }, series()).options!.plugins!.tooltip!.callbacks!
      .title as unknown as (items: { parsed: { x: number } }[]) => string;
    expect(title([{ parsed: { x: 0.5 } }])).toBe('epoch 0.50');
  });

  it('keeps the accuracy axis within 0–100 % and still zooms in to the data', () => {
    const flatZero = { min: -1, max: 1 }; // Chart.js pads a flat 0 % series to ±100 %.
    clampFractionLimits(flatZero);
    expect(flatZero).toEqual({ min: 0, max: 1 });
    const high = { min: 0.955, max: 1.04 };
    clampFractionLimits(high);
    expect(high).toEqual({ min: 0.955, max: 1 });
    const y = chartConfig({ label: 'Accuracy', percent: true }, series()).options!.scales!.y!;
    expect(y.afterDataLimits).toBe(clampFractionLimits);
    expect(y.min).toBeUndefined();
    // Loss has no upper bound, only 0 below.
    expect(chartConfig({ label: 'Loss' }, series()).options!.scales!.y!.min).toBe(0);
  });
});
