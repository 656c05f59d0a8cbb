import { readsHiddenUnits, type TrainConfig } from '$contract/config';
import type { RunInfo } from '$contract/messages';
import { BACKEND_LABELS } from './backend-badge';
import { percent, runLabel } from './format';

/**
 * A run's settings as the Checkpoints panel shows them: a short line on its row, every setting
 * when expanded, and the columns of the runs table (TensorBoard's HParams view), plus the sorting
 * and filtering of the list. After eight runs of one model, the settings are what tells them
 * apart.
 */

/** One setting, labelled as the Train form labels it. */
export interface Setting {
  key: string;
  label: string;
  value: string;
}

const num = (n: number) => String(Number(n.toPrecision(6)));
const images = (n: number) =>
  n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : n.toLocaleString('en-US');

/** Every setting of a run's config, in the Train form's order. */
export function settings(config: TrainConfig): Setting[] {
  const schedule = config.schedule ?? 'decay';
  const rows: Setting[] = [
    { key: 'model', label: 'Model', value: config.model },
    { key: 'epochs', label: 'Epochs', value: String(config.epochs) },
    { key: 'batchSize', label: 'Batch size', value: String(config.batchSize) },
    { key: 'learningRate', label: 'Learning rate', value: num(config.learningRate) },
    { key: 'schedule', label: 'LR schedule', value: schedule },
    ...(schedule === 'decay'
      ? [
          {
            key: 'learningRateDecay',
            label: 'LR decay / epoch',
            value: num(config.learningRateDecay),
          },
        ]
      : []),
    { key: 'labelSmoothing', label: 'Label smoothing', value: num(config.labelSmoothing ?? 0) },
    { key: 'dropout', label: 'Dropout', value: num(config.dropout) },
    ...(readsHiddenUnits(config.model)
      ? [{ key: 'hiddenUnits', label: 'Hidden units', value: String(config.hiddenUnits) }]
      : []),
    { key: 'augment', label: 'Augment', value: config.augment ? '±2 px shifts' : 'off' },
    {
      key: 'limit',
      label: 'Training images',
      value: config.limit === null ? 'all' : config.limit.toLocaleString('en-US'),
    },
    {
      key: 'validationSize',
      label: 'Validation images',
      value: config.validationSize.toLocaleString('en-US'),
    },
    { key: 'seed', label: 'Seed', value: String(config.seed) },
    {
      key: 'threads',
      label: 'Threads',
      value: config.threads === null ? 'auto' : String(config.threads),
    },
    { key: 'backend', label: 'Backend asked for', value: config.backend },
  ];
  return rows;
}

/** The row's one-line summary: "3 ep · batch 128 · lr 0.01 one-cycle · aug · all/6k · seed 42". */
export function settingsSummary(run: RunInfo): string {
  const c = run.config;
  if (!c) return 'settings unknown (no run.json)';
  const schedule =
    c.schedule === 'one-cycle'
      ? ' one-cycle'
      : c.learningRateDecay !== 1
        ? ` ×${num(c.learningRateDecay)}/ep`
        : '';
  return [
    `${c.epochs} ep`,
    `batch ${c.batchSize}`,
    `lr ${num(c.learningRate)}${schedule}`,
    ...(c.dropout > 0 ? [`dropout ${num(c.dropout)}`] : []),
    ...(readsHiddenUnits(c.model) ? [`${c.hiddenUnits} units`] : []),
    ...((c.labelSmoothing ?? 0) > 0 ? [`smoothing ${num(c.labelSmoothing ?? 0)}`] : []),
    ...(c.augment ? ['aug'] : []),
    `${c.limit === null ? 'all' : images(c.limit)}/${images(c.validationSize)} img`,
    `seed ${c.seed}`,
    ...(c.threads !== null ? [`${c.threads} thr`] : []),
  ].join(' · ');
}

/** Columns of the runs table: what differs between runs, and how they did. */
export interface Column {
  key: string;
  label: string;
  /** Sort key: numbers sort numerically, null last. */
  sortValue: (run: RunInfo) => number | string | null;
  text: (run: RunInfo) => string;
  numeric: boolean;
}

const fromConfig = (
  key: keyof TrainConfig,
  label: string,
  format: (v: NonNullable<TrainConfig[keyof TrainConfig]>) => string = String,
): Column => ({
  key,
  label,
  numeric: true,
  sortValue: (run) => {
    const v = run.config?.[key];
    return typeof v === 'number'
      ? v
      : typeof v === 'string'
        ? v
        : typeof v === 'boolean'
          ? Number(v)
          : null;
  },
  text: (run) => {
    const v = run.config?.[key];
    return v === undefined || v === null ? '–' : format(v);
  },
});

export const COLUMNS: Column[] = [
  {
    key: 'run',
    label: 'Run',
    numeric: false,
    sortValue: (run) => run.createdAt ?? run.runId,
    text: (run) => runLabel(run),
  },
  {
    key: 'status',
    label: 'Status',
    numeric: false,
    sortValue: (r) => r.status,
    text: (r) => r.status,
  },
  { ...fromConfig('model', 'Model'), numeric: false },
  fromConfig('epochs', 'Epochs'),
  fromConfig('batchSize', 'Batch'),
  fromConfig('learningRate', 'LR', (v) => num(v as number)),
  { ...fromConfig('schedule', 'Schedule'), numeric: false },
  fromConfig('dropout', 'Dropout', (v) => num(v as number)),
  fromConfig('hiddenUnits', 'Units'),
  fromConfig('labelSmoothing', 'Smoothing', (v) => num(v as number)),
  { ...fromConfig('augment', 'Augment', (v) => (v ? 'yes' : 'no')), numeric: false },
  fromConfig('limit', 'Train img', (v) => (v as number).toLocaleString('en-US')),
  fromConfig('validationSize', 'Val img', (v) => (v as number).toLocaleString('en-US')),
  fromConfig('seed', 'Seed'),
  fromConfig('threads', 'Threads'),
  {
    key: 'backend',
    label: 'Backend',
    numeric: false,
    sortValue: (r) => r.backend,
    text: (r) => (r.backend ? BACKEND_LABELS[r.backend] : '–'),
  },
  {
    key: 'epochsDone',
    label: 'Done',
    numeric: true,
    sortValue: (r) => r.epochsDone,
    text: (r) => String(r.epochsDone),
  },
  {
    key: 'bestValAccuracy',
    label: 'Best val',
    numeric: true,
    sortValue: (r) => r.bestValAccuracy,
    text: (r) => percent(r.bestValAccuracy),
  },
  {
    key: 'testAccuracy',
    label: 'Test',
    numeric: true,
    sortValue: (r) => bestTest(r)?.accuracy ?? null,
    text: (r) => {
      const t = bestTest(r);
      return t ? `${percent(t.accuracy)} (ep ${t.epoch})` : '–';
    },
  },
];

/** The run's best test-set result among its evaluated checkpoints, or null. */
export function bestTest(run: RunInfo): RunInfo['evaluations'][number] | null {
  return run.evaluations.reduce<RunInfo['evaluations'][number] | null>(
    (best, e) => (best === null || e.accuracy > best.accuracy ? e : best),
    null,
  );
}

export type SortKey = (typeof COLUMNS)[number]['key'];
export interface Sort {
  key: SortKey;
  descending: boolean;
}

/** The default: newest first, as the list has always been. */
export const NEWEST_FIRST: Sort = { key: 'run', descending: true };

/** A sorted copy; runs without a value for the key go last either way, ties keep their order. */
export function sortRuns(runs: readonly RunInfo[], sort: Sort): RunInfo[] {
  const column = COLUMNS.find((c) => c.key === sort.key) ?? COLUMNS[0]!;
  const sign = sort.descending ? -1 : 1;
  return runs
    .map((run, i) => ({ run, i, v: column.sortValue(run) }))
    .sort((a, b) => {
      if (a.v === null || b.v === null) return a.v === b.v ? a.i - b.i : a.v === null ? 1 : -1;
      const cmp =
        typeof a.v === 'number' && typeof b.v === 'number'
          ? a.v - b.v
          : String(a.v).localeCompare(String(b.v));
      return cmp === 0 ? a.i - b.i : sign * cmp;
    })
    .map((x) => x.run);
}

/**
 * Runs matching every word of the query, in any of: the run's label and id, its status, and its
 * settings ("cnn one-cycle", "aug 0.01", "failed").
 */
export function filterRuns(runs: readonly RunInfo[], query: string): RunInfo[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...runs];
  return runs.filter((run) => {
    const haystack = [
      run.runId,
      run.name ?? '',
      runLabel(run),
      run.status,
      run.sweep ? `sweep ${run.sweep.id} trial ${run.sweep.trial}` : '',
      settingsSummary(run),
      ...(run.config ? settings(run.config).map((s) => `${s.label} ${s.value}`) : []),
    ]
      .join(' ')
      .toLowerCase();
    return words.every((w) => haystack.includes(w));
  });
}
