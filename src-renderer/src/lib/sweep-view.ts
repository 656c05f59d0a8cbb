import type { ChoiceValue, Dimension, SearchableParam, SearchSpace } from '$contract/sweep';
import type { TrialStatus } from '$contract/sweep';
import type { TrialView } from '$contract/sweep-view';
import { PARAM_LABELS, PARAM_ORDER } from './sweep-form';

/**
 * What the Sweep panel's table and plots share: the searched hyper-parameters in the Train
 * form's order, their values as text, axes that place a value (log, linear or by category),
 * and the colour of a score.
 */

/** Searched hyper-parameters, in the Train form's order (unknown names last, sorted). */
export function searchedParams(space: SearchSpace): string[] {
  const known = PARAM_ORDER.filter((p) => Object.hasOwn(space, p));
  const rest = Object.keys(space)
    .filter((p) => !(PARAM_ORDER as string[]).includes(p))
    .sort();
  return [...known, ...rest];
}

export const paramLabel = (param: string): string =>
  PARAM_LABELS[param as SearchableParam] ?? param;

/** "0.00123", "64", "all", "yes": short, and enough digits to tell trials apart. */
export function formatValue(param: string, value: ChoiceValue | undefined): string {
  if (value === undefined) return '–';
  if (value === null) return param === 'limit' ? 'all' : '–';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number') return String(Number(value.toPrecision(3)));
  return value;
}

/** A vertical or horizontal scale: where a value sits, 0 (low) to 1 (high), and its ticks. */
export interface Axis {
  kind: 'log' | 'linear' | 'category';
  /** null: the value has no place on the axis (another type, or missing). */
  position(value: ChoiceValue | undefined): number | null;
  ticks: { at: number; label: string }[];
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

export function paramAxis(param: string, dim: Dimension): Axis {
  if (dim.kind === 'choice') {
    const keys = dim.values.map((v) => JSON.stringify(v));
    // One value sits mid-axis; several spread from bottom to top in the order listed.
    const at = (i: number) => (keys.length === 1 ? 0.5 : i / (keys.length - 1));
    return {
      kind: 'category',
      position: (v) => {
        const i = v === undefined ? -1 : keys.indexOf(JSON.stringify(v));
        return i < 0 ? null : at(i);
      },
      ticks: dim.values.map((v, i) => ({ at: at(i), label: formatValue(param, v) })),
    };
  }
  if (dim.kind === 'log-uniform' && dim.min > 0 && dim.max > dim.min) {
    const [lo, hi] = [Math.log10(dim.min), Math.log10(dim.max)];
    const at = (v: number) => clamp01((Math.log10(v) - lo) / (hi - lo));
    // Decades read best on a log axis; ranges within one decade show their ends.
    const decades: number[] = [];
    for (let e = Math.ceil(lo); e <= Math.floor(hi); e++) decades.push(10 ** e);
    const values = decades.length >= 2 ? decades : [dim.min, dim.max];
    return {
      kind: 'log',
      position: (v) => (typeof v === 'number' && v > 0 ? at(v) : null),
      ticks: values.map((v) => ({ at: at(v), label: formatValue(param, v) })),
    };
  }
  return linearAxis(param, dim.min, dim.max);
}

function linearAxis(param: string, min: number, max: number): Axis {
  const span = max - min;
  const at = (v: number) => (span > 0 ? clamp01((v - min) / span) : 0.5);
  return {
    kind: 'linear',
    position: (v) => (typeof v === 'number' && Number.isFinite(v) ? at(v) : null),
    ticks: (span > 0 ? [min, min + span / 2, max] : [min]).map((v) => ({
      at: at(v),
      label: formatValue(param, v),
    })),
  };
}

/**
 * The accuracy axis: the trials' own spread, so 97.1 % and 97.9 % do not sit on one pixel of a
 * 0–100 % axis; 0–100 % before there is a score.
 */
export function scoreAxis(trials: readonly TrialView[]): Axis {
  const scores = trials.map((t) => t.valAccuracy).filter((s): s is number => s !== null);
  if (scores.length === 0) return percentAxis(0, 1);
  let [lo, hi] = [Math.min(...scores), Math.max(...scores)];
  const pad = Math.max((hi - lo) * 0.05, 0.005);
  [lo, hi] = [Math.max(0, lo - pad), Math.min(1, hi + pad)];
  return percentAxis(lo, hi);
}

function percentAxis(lo: number, hi: number): Axis {
  const axis = linearAxis('valAccuracy', lo, hi);
  const digits = hi - lo < 0.05 ? 1 : 0;
  return {
    ...axis,
    ticks: axis.ticks.map((t) => ({
      at: t.at,
      label: `${((lo + t.at * (hi - lo)) * 100).toFixed(digits)} %`,
    })),
  };
}

/** Low scores purple, middling teal, the best yellow (viridis' ends, readable on the dark panel). */
export function scoreColor(position: number | null): string {
  if (position === null) return '#6b7280';
  const stops = [
    [94, 60, 153],
    [42, 157, 143],
    [233, 196, 106],
  ] as const;
  const x = clamp01(position) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [stops[i]!, stops[i + 1]!];
  const mix = (k: 0 | 1 | 2) => Math.round(a[k] + (b[k] - a[k]) * f);
  return `rgb(${mix(0)}, ${mix(1)}, ${mix(2)})`;
}

/** Statuses in the order a person scans them: what is going on, then how trials ended. */
const STATUS_ORDER: Record<TrialStatus, number> = {
  running: 0,
  interrupted: 1,
  pending: 2,
  finished: 3,
  pruned: 4,
  failed: 5,
};

export interface TrialColumn {
  key: string;
  label: string;
  numeric: boolean;
  sortValue(t: TrialView): number | string | null;
}

export function trialColumns(params: readonly string[]): TrialColumn[] {
  return [
    { key: 'trial', label: '#', numeric: true, sortValue: (t) => t.trial },
    ...params.map((p) => ({
      key: `param:${p}`,
      label: paramLabel(p),
      numeric: true,
      sortValue: (t: TrialView) => {
        const v = t.point[p];
        return typeof v === 'boolean' ? Number(v) : (v ?? null);
      },
    })),
    { key: 'status', label: 'Status', numeric: false, sortValue: (t) => STATUS_ORDER[t.status] },
    { key: 'epochs', label: 'Epochs', numeric: true, sortValue: (t) => t.epochsDone },
    { key: 'valAccuracy', label: 'Val accuracy', numeric: true, sortValue: (t) => t.valAccuracy },
    { key: 'seconds', label: 'Time', numeric: true, sortValue: (t) => t.seconds },
  ];
}

export interface TrialSort {
  key: string;
  descending: boolean;
}

/** A sorted copy; trials without a value go last either way, ties keep trial order. */
export function sortTrials(
  trials: readonly TrialView[],
  columns: readonly TrialColumn[],
  sort: TrialSort,
): TrialView[] {
  const column = columns.find((c) => c.key === sort.key) ?? columns[0]!;
  const sign = sort.descending ? -1 : 1;
  return trials
    .map((t, i) => ({ t, i, v: column.sortValue(t) }))
    .sort((a, b) => {
      if (a.v === null || b.v === null) return a.v === b.v ? a.i - b.i : a.v === null ? 1 : -1;
      const cmp =
        typeof a.v === 'number' && typeof b.v === 'number'
          ? a.v - b.v
          : String(a.v).localeCompare(String(b.v));
      return cmp === 0 ? a.i - b.i : sign * cmp;
    })
    .map((x) => x.t);
}
