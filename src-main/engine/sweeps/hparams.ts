import { readdirSync } from 'node:fs';
import path from 'node:path';
import {
  lastIntValue,
  type ChoiceValue,
  type Dimension,
  type SweepSpec,
  type TrialStatus,
} from '../../contract/sweep';
import { writing } from '../storage';
import {
  EPOCH_ACCURACY_TAG,
  EPOCH_LOSS_TAG,
  EventFileError,
  EventWriter,
  TRAIN_RUN,
  VALIDATION_RUN,
  readPluginSummaries,
} from '../tensorboard';
import {
  HParamsDataError,
  HPARAMS_PLUGIN,
  HPARAMS_DATA_VERSION,
  EXPERIMENT_TAG,
  SESSION_START_TAG,
  SESSION_END_TAG,
  encodeHParamsPluginData,
  decodeHParamsPluginData,
  type HParamValue,
  type HParamType,
  type HParamInfo,
  type MetricInfo,
  type Experiment,
  type SessionStart,
  type SessionStatus,
  type SessionEnd,
  type HParamsPluginData,
} from './hparams-proto';

/**
 * TensorBoard's HParams plugin data for a sweep, so `tensorboard --logdir <checkpoints>` shows
 * the HParams dashboard (table, parallel coordinates, scatter plots) with the sweep's trials.
 *
 * What TensorBoard reads (tensorboard/plugins/hparams: plugin_data.proto, api.proto,
 * backend_context.py, list_session_groups.py, metrics.py):
 * - an experiment summary (tag `_hparams_/experiment`) in any one run: the hyper-parameters with
 *   their domains and the metrics to show;
 * - a session-start summary (`_hparams_/session_start_info`) in each trial's run: the trial's
 *   values. The run's name is the session's name, and a metric {group, tag} of that session is
 *   read from the run `<session>/<group>`, tag `<tag>`: our `<runId>/validation`, `epoch_accuracy`;
 * - a session-end summary (`_hparams_/session_end_info`) in the same run: its status.
 * Each is a Summary.Value whose metadata.plugin_data is { plugin_name: 'hparams', content: a
 * serialized HParamsPluginData }, with an empty float tensor as its value.
 *
 * Layout: the experiment goes in the sweep's own folder, `<checkpoints>/.sweeps/<id>/`, sessions
 * in `<checkpoints>/<runId>/` beside the run's train/ and validation/ sub-runs. Both of
 * TensorBoard's loaders (the Python multiplexer's os.walk and the Rust data server's walkdir)
 * take every folder holding an event file as a run, dot-folders included, so the experiment is
 * found as the run `.sweeps/<id>`; the app's own run listing skips dot-folders, so it never takes
 * the sweep folder for a run. (A `<checkpoints>/<sweepId>/` folder would be listed as a run, and
 * the logdir root holds no sweep in particular.) TensorBoard's run list shows `.sweeps/<id>` too,
 * with no scalars in it. bench/check-hparams.py proves the layout against TensorBoard itself,
 * with both loaders.
 *
 * TensorBoard keeps the first summary of a tag in a run and ignores later ones (the first
 * metadata wins, plugin_event_accumulator.py and the Rust data server alike), so each of these is
 * written once: the write functions do nothing when the folder already has one and say so. With
 * several sweeps under one logdir, TensorBoard uses the first experiment it finds for the columns
 * (backend_context.py: "arbitrarily pick the first one"); every sweep's trials are still listed.
 */

// ---------------------------------------------------------------------------------------------
// From a sweep

const TYPE_OF: Record<'number' | 'string' | 'boolean', HParamType> = {
  number: 'float64',
  string: 'string',
  boolean: 'bool',
};

/**
 * The type TensorBoard gets for a choice. It filters and colours a column by one type, so a
 * choice mixing kinds (or holding null, which has no type) is shown as strings, as TensorBoard
 * itself types an hparam whose values disagree.
 */
function choiceType(values: readonly ChoiceValue[]): HParamType {
  const kinds = new Set(values.map((v) => (v === null ? 'null' : typeof v)));
  const only = kinds.size === 1 ? [...kinds][0] : undefined;
  return only === 'number' || only === 'string' || only === 'boolean' ? TYPE_OF[only] : 'string';
}

function asType(type: HParamType, value: ChoiceValue): HParamValue {
  return type === 'string' && typeof value !== 'string' ? JSON.stringify(value) : value;
}

/**
 * One hyper-parameter of the space. TensorBoard has no integer type or log scale (its summary
 * API maps IntInterval to FLOAT64 too), so ranges are float intervals and the description says
 * how they are sampled.
 */
export function hparamInfoOf(name: string, dim: Dimension): HParamInfo {
  switch (dim.kind) {
    case 'choice': {
      const type = choiceType(dim.values);
      return {
        name,
        description: 'choice',
        type,
        domain: { kind: 'discrete', values: dim.values.map((v) => asType(type, v)) },
      };
    }
    case 'int': {
      const max = lastIntValue(dim);
      const step = dim.step === 1 ? '' : ` step ${dim.step}`;
      return {
        name,
        description: `whole numbers ${dim.min}..${max}${step}`,
        type: 'float64',
        domain: { kind: 'interval', min: dim.min, max },
      };
    }
    case 'uniform':
    case 'log-uniform':
      return {
        name,
        description: `${dim.kind} ${dim.min}..${dim.max}`,
        type: 'float64',
        domain: { kind: 'interval', min: dim.min, max: dim.max },
      };
  }
}

/** What every trial logs (tensorboard.ts writeEpochScalars): validation first, the score. */
export const SWEEP_METRICS: readonly MetricInfo[] = [
  {
    group: VALIDATION_RUN,
    tag: EPOCH_ACCURACY_TAG,
    displayName: 'validation accuracy',
    datasetType: 'validation',
  },
  {
    group: VALIDATION_RUN,
    tag: EPOCH_LOSS_TAG,
    displayName: 'validation loss',
    datasetType: 'validation',
  },
  {
    group: TRAIN_RUN,
    tag: EPOCH_ACCURACY_TAG,
    displayName: 'train accuracy',
    datasetType: 'training',
  },
  { group: TRAIN_RUN, tag: EPOCH_LOSS_TAG, displayName: 'train loss', datasetType: 'training' },
];

export interface ExperimentOptions {
  /** Shown by TensorBoard as the experiment's description. */
  description?: string;
  timeCreatedSecs?: number;
}

export function experimentOf(spec: SweepSpec, opts: ExperimentOptions = {}): Experiment {
  return {
    description:
      opts.description ?? `MNIST Studio sweep: ${spec.preset} preset, ${spec.strategy} search`,
    timeCreatedSecs: opts.timeCreatedSecs ?? Date.now() / 1000,
    hparamInfos: Object.entries(spec.space).map(([name, dim]) => hparamInfoOf(name, dim)),
    metricInfos: [...SWEEP_METRICS],
  };
}

/**
 * A trial's values as the experiment declares them: a choice shown as strings gets its value as
 * the same string, so the dashboard's filters match it. Only the space's hyper-parameters are
 * kept: the base settings are the same for every trial and would only add constant columns.
 */
export function sessionHParams(
  spec: Pick<SweepSpec, 'space'>,
  point: Record<string, ChoiceValue>,
): Record<string, HParamValue> {
  const out: Record<string, HParamValue> = {};
  for (const [name, dim] of Object.entries(spec.space)) {
    const value = point[name];
    if (value === undefined) continue;
    out[name] = dim.kind === 'choice' ? asType(choiceType(dim.values), value) : value;
  }
  return out;
}

/**
 * One group per trial: a trial rerun in a new run is the same row, with two sessions. The
 * abandoned attempt has no end, so its status is unknown and the dashboard's status filter can
 * leave it out of the row (the row's metrics average its sessions otherwise).
 */
export function trialGroupName(sweepId: string, trialNumber: number): string {
  return `${sweepId}/trial-${trialNumber}`;
}

/**
 * How a trial's end reads in TensorBoard, which knows only success, failure and running.
 * Pruned is a success: early stopping ended it on purpose, its metrics are sound up to the
 * epoch it reached, and failure would read as a crash (Ray Tune and W&B also count an
 * early-stopped trial as completed). The scalars show where it stopped. A trial that has not
 * ended maps to running/unknown, but should not get an end written (see writeSessionEnd).
 */
export function sessionStatusOf(status: TrialStatus): SessionStatus {
  switch (status) {
    case 'finished':
    case 'pruned':
      return 'success';
    case 'failed':
      return 'failure';
    case 'running':
      return 'running';
    case 'pending':
    case 'interrupted':
      return 'unknown';
  }
}

// ---------------------------------------------------------------------------------------------
// Files

export interface HParamsInFolder {
  experiment?: Experiment;
  sessionStart?: SessionStart;
  sessionEnd?: SessionEnd;
}

/**
 * The HParams data of one run folder (its own event files, not its sub-runs'), the first of each
 * tag kept as TensorBoard keeps it. A truncated last record (a writer killed mid-append) is
 * skipped, as TensorBoard stops reading there; a damaged record throws an EventFileError, and
 * content that is no HParamsPluginData an HParamsDataError, each naming the file.
 */
export function readHParams(dir: string): HParamsInFolder {
  const found: HParamsInFolder = {};
  let files: string[];
  try {
    files = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && e.name.includes('tfevents'))
      .map((e) => e.name)
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return found;
    throw error;
  }
  for (const name of files) {
    const file = path.join(dir, name);
    for (const s of readPluginSummaries(file, HPARAMS_PLUGIN, { tolerateTruncatedTail: true })) {
      let data: HParamsPluginData;
      try {
        data = decodeHParamsPluginData(s.content);
      } catch (error) {
        throw new HParamsDataError(`${file}: ${s.tag}: ${(error as Error).message}`);
      }
      if (s.tag === EXPERIMENT_TAG && data.kind === 'experiment')
        found.experiment ??= data.experiment;
      else if (s.tag === SESSION_START_TAG && data.kind === 'sessionStart')
        found.sessionStart ??= data.sessionStart;
      else if (s.tag === SESSION_END_TAG && data.kind === 'sessionEnd')
        found.sessionEnd ??= data.sessionEnd;
    }
  }
  return found;
}

/**
 * What a folder already holds, for the write-once checks. A damaged file counts as holding
 * nothing: the summary is then written again into a new file, which is harmless, as TensorBoard
 * keeps the first of a tag it can read; refusing would only stop a trial over its TensorBoard log.
 */
function alreadyWritten(dir: string): HParamsInFolder {
  try {
    return readHParams(dir);
  } catch (error) {
    if (error instanceof EventFileError || error instanceof HParamsDataError) return {};
    throw error;
  }
}

function writeSummary(dir: string, tag: string, data: HParamsPluginData, wallTime: number): void {
  writing('writing TensorBoard hparams', dir, () => {
    // Appending keeps a run's hparams in one file, which TensorBoard tails as it grows.
    const writer = new EventWriter(dir, { append: true });
    writer.writePluginSummary(
      0,
      { tag, pluginName: HPARAMS_PLUGIN, content: encodeHParamsPluginData(data) },
      wallTime,
    );
    writer.close();
  });
}

/**
 * Writes the sweep's experiment into `dir` (the sweep's folder, `<checkpoints>/.sweeps/<id>`).
 * Returns false, writing nothing, when `dir` already has one: a resumed sweep calls this again.
 */
export function writeHParamsExperiment(
  dir: string,
  spec: SweepSpec,
  opts: ExperimentOptions = {},
): boolean {
  if (alreadyWritten(dir).experiment) return false;
  const experiment = experimentOf(spec, opts);
  writeSummary(
    dir,
    EXPERIMENT_TAG,
    { version: HPARAMS_DATA_VERSION, kind: 'experiment', experiment },
    experiment.timeCreatedSecs,
  );
  return true;
}

/**
 * Marks `runDir` as a session with the trial's values. Returns false when it already is one: a
 * trial resumed in its run keeps its first start, the time it really started.
 */
export function writeSessionStart(runDir: string, start: SessionStart): boolean {
  if (alreadyWritten(runDir).sessionStart) return false;
  writeSummary(
    runDir,
    SESSION_START_TAG,
    { version: HPARAMS_DATA_VERSION, kind: 'sessionStart', sessionStart: start },
    start.startTimeSecs,
  );
  return true;
}

/**
 * Records how the session ended. TensorBoard reads only a run's first end, so write it once, when
 * the trial has really ended; a second call writes nothing and returns false, as the journal's
 * endTrial counts a result reported twice once.
 */
export function writeSessionEnd(runDir: string, end: SessionEnd): boolean {
  if (alreadyWritten(runDir).sessionEnd) return false;
  writeSummary(
    runDir,
    SESSION_END_TAG,
    { version: HPARAMS_DATA_VERSION, kind: 'sessionEnd', sessionEnd: end },
    end.endTimeSecs,
  );
  return true;
}
