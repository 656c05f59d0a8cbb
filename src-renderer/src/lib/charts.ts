import {
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
  type ChartDataset,
} from 'chart.js';
import { EmaSmoother } from './smoothing';

Chart.register(LineController, LineElement, PointElement, LinearScale, Legend, Tooltip);

/**
 * A live metric chart: per-epoch training and validation points, plus the per-batch training
 * curve (raw, and smoothed like TensorBoard). Points are appended and drawn without
 * animation; history is never rebuilt except when the user changes the smoothing.
 */

export type Point = { x: number; y: number };

/** Another run's per-epoch curve drawn over the live one, to compare runs. */
export interface Overlay {
  label: string;
  color: string;
  train: Point[];
  validation: Point[];
}

export interface MetricChart {
  addBatch(x: number, value: number): void;
  /** Replaces the compared runs' curves; the live run's points are untouched. */
  setOverlays(overlays: Overlay[]): void;
  addEpoch(epoch: number, train: number, validation: number | null): void;
  setSmoothing(weight: number): void;
  reset(): void;
  counts(): { batch: number; epoch: number; validation: number };
  destroy(): void;
}

/**
 * The raw per-batch line is the truth the smoothed one summarises: visible, but thinner and
 * lighter, and drawn under it (Chart.js draws higher `order` first).
 */
export const COLORS = {
  train: '#4f8cff',
  validation: '#ff8a3d',
  raw: 'rgba(79, 140, 255, 0.45)',
};
const LIVE_DATASETS = 4;

/** "epoch 1.26": where a point falls in the run, as the x axis counts it. */
export const epochTitle = (x: number): string => `epoch ${Number.isInteger(x) ? x : x.toFixed(2)}`;

/**
 * A fraction's axis never leaves 0–100 %, whatever Chart.js pads around the data (a run whose
 * accuracy is flat at 0 was drawn from −100 % to 100 %); inside that it still zooms to the data.
 */
export function clampFractionLimits(scale: { min: number; max: number }): void {
  scale.min = Math.min(1, Math.max(0, scale.min));
  scale.max = Math.max(scale.min, Math.min(1, scale.max));
}

const line = (label: string, data: Point[], extra: Partial<ChartDataset<'line', Point[]>>) =>
  ({
    label,
    data,
    parsing: false,
    borderWidth: 2,
    pointRadius: 0,
    tension: 0,
    ...extra,
  }) as ChartDataset<'line', Point[]>;

/** The chart's datasets and options, apart from Chart.js so they can be checked without a canvas. */
export function chartConfig(
  options: { label: string; percent?: boolean },
  series: { raw: Point[]; smoothed: Point[]; epochTrain: Point[]; epochVal: Point[] },
): ChartConfiguration<'line', Point[]> {
  return {
    type: 'line',
    data: {
      datasets: [
        line('train (per batch)', series.raw, {
          borderColor: COLORS.raw,
          borderWidth: 1,
          order: 1,
        }),
        line('train (smoothed)', series.smoothed, { borderColor: COLORS.train }),
        line('train (epoch)', series.epochTrain, {
          borderColor: COLORS.train,
          pointRadius: 4,
          showLine: false,
          pointBackgroundColor: COLORS.train,
        }),
        line('validation (epoch)', series.epochVal, {
          borderColor: COLORS.validation,
          pointRadius: 4,
          pointBackgroundColor: COLORS.validation,
        }),
      ],
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      normalized: true,
      interaction: { mode: 'nearest', intersect: false },
      scales: {
        x: {
          type: 'linear',
          min: 0,
          title: { display: true, text: 'epoch' },
          ticks: { precision: 0 },
        },
        y: {
          type: 'linear',
          title: { display: true, text: options.label },
          ...(options.percent
            ? {
                ticks: { callback: (v) => `${(Number(v) * 100).toFixed(1)} %` },
                afterDataLimits: clampFractionLimits,
              }
            : { min: 0 }),
        },
      },
      plugins: {
        legend: {
          position: 'bottom',
          labels: {
            boxWidth: 12,
            color: '#c9d1d9',
            // In the datasets' order, not the drawing order that puts the raw line underneath.
            sort: (a, b) => a.datasetIndex! - b.datasetIndex!,
            // A chart that only compares runs has no live points: keep their entries out.
            filter: (item, data) => (data.datasets[item.datasetIndex!]?.data.length ?? 0) > 0,
          },
        },
        tooltip: {
          callbacks: {
            title: (items) => (items[0] ? epochTitle(items[0].parsed.x!) : ''),
            label: (item) =>
              `${item.dataset.label}: ${options.percent ? `${(item.parsed.y! * 100).toFixed(2)} %` : item.parsed.y!.toFixed(4)}`,
          },
        },
      },
    },
  };
}

export function createMetricChart(
  canvas: HTMLCanvasElement,
  options: { label: string; percent?: boolean; smoothing: number },
): MetricChart {
  const raw: Point[] = [];
  const smoothed: Point[] = [];
  const epochTrain: Point[] = [];
  const epochVal: Point[] = [];
  let weight = options.smoothing;
  let ema = new EmaSmoother(weight);
  const chart = new Chart(canvas, chartConfig(options, { raw, smoothed, epochTrain, epochVal }));

  const draw = () => chart.update('none');
  return {
    addBatch(x, value) {
      raw.push({ x, y: value });
      smoothed.push({ x, y: ema.push(value) });
      draw();
    },
    addEpoch(epoch, train, validation) {
      // In epoch order, whenever they arrive: earlier epochs of a resumed run come from the
      // listing and may land after the live ones.
      insertByX(epochTrain, { x: epoch, y: train });
      if (validation !== null) insertByX(epochVal, { x: epoch, y: validation });
      draw();
    },
    setOverlays(overlays) {
      const extra = overlays.flatMap((o) => [
        line(`${o.label} train`, o.train, {
          borderColor: o.color,
          borderDash: [5, 4],
          borderWidth: 1.5,
          pointRadius: 2,
          pointBackgroundColor: o.color,
        }),
        line(`${o.label} validation`, o.validation, {
          borderColor: o.color,
          pointRadius: 3,
          pointBackgroundColor: o.color,
        }),
      ]);
      chart.data.datasets.splice(LIVE_DATASETS, chart.data.datasets.length, ...extra);
      draw();
    },
    setSmoothing(w) {
      weight = w;
      // Recompute the curve, and leave the running EMA where the curve ends so new points continue it.
      ema = new EmaSmoother(weight);
      smoothed.length = 0;
      for (const p of raw) smoothed.push({ x: p.x, y: ema.push(p.y) });
      draw();
    },
    reset() {
      raw.length = smoothed.length = epochTrain.length = epochVal.length = 0;
      ema = new EmaSmoother(weight);
      draw();
    },
    counts: () => ({ batch: raw.length, epoch: epochTrain.length, validation: epochVal.length }),
    destroy: () => chart.destroy(),
  };
}

function insertByX(points: Point[], point: Point): void {
  let i = points.length;
  while (i > 0 && points[i - 1]!.x > point.x) i--;
  points.splice(i, 0, point);
}
