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
  ProtoReader,
  ProtoWriter,
  TRAIN_RUN,
  VALIDATION_RUN,
  WIRE_FIXED64,
  WIRE_LEN,
  WIRE_VARINT,
  readPluginSummaries,
} from '../tensorboard';

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

export class HParamsDataError extends Error {
  override name = 'HParamsDataError';
}

export const HPARAMS_PLUGIN = 'hparams';
/** plugin_data.proto's HParamsPluginData.version that TensorBoard accepts (metadata.py). */
export const HPARAMS_DATA_VERSION = 0;
export const EXPERIMENT_TAG = '_hparams_/experiment';
export const SESSION_START_TAG = '_hparams_/session_start_info';
export const SESSION_END_TAG = '_hparams_/session_end_info';

export type HParamValue = number | string | boolean | null;
export type HParamType = 'unset' | 'string' | 'bool' | 'float64';
export type HParamDomain =
  { kind: 'interval'; min: number; max: number } | { kind: 'discrete'; values: HParamValue[] };

export interface HParamInfo {
  name: string;
  displayName?: string;
  description?: string;
  type: HParamType;
  domain?: HParamDomain;
}

export type DatasetType = 'unknown' | 'training' | 'validation';

export interface MetricInfo {
  /** The sub-run the metric is logged in, relative to the session's run. */
  group: string;
  tag: string;
  displayName?: string;
  description?: string;
  datasetType: DatasetType;
}

export interface Experiment {
  name?: string;
  description?: string;
  timeCreatedSecs: number;
  hparamInfos: HParamInfo[];
  metricInfos: MetricInfo[];
}

export interface SessionStart {
  hparams: Record<string, HParamValue>;
  /** Sessions with one group name are one row of the dashboard (repeats of one setting). */
  groupName: string;
  startTimeSecs: number;
  modelUri?: string;
}

export type SessionStatus = 'unknown' | 'success' | 'failure' | 'running';

export interface SessionEnd {
  status: SessionStatus;
  endTimeSecs: number;
}

export type HParamsPluginData = { version: number } & (
  | { kind: 'experiment'; experiment: Experiment }
  | { kind: 'sessionStart'; sessionStart: SessionStart }
  | { kind: 'sessionEnd'; sessionEnd: SessionEnd }
);

// ---------------------------------------------------------------------------------------------
// Field numbers and enums from tensorboard/plugins/hparams/{plugin_data,api}.proto and
// google/protobuf/struct.proto.

const PLUGIN_DATA = { version: 1, experiment: 2, sessionStart: 3, sessionEnd: 4 } as const;
const EXPERIMENT = {
  description: 1,
  user: 2,
  timeCreatedSecs: 3,
  hparamInfos: 4,
  metricInfos: 5,
  name: 6,
} as const;
const HPARAM_INFO = {
  name: 1,
  displayName: 2,
  description: 3,
  type: 4,
  domainDiscrete: 5,
  domainInterval: 6,
} as const;
const INTERVAL = { min: 1, max: 2 } as const;
const METRIC_INFO = { name: 1, displayName: 3, description: 4, datasetType: 5 } as const;
const METRIC_NAME = { group: 1, tag: 2 } as const;
const SESSION_START = {
  hparams: 1,
  modelUri: 2,
  monitorUrl: 3,
  groupName: 4,
  startTimeSecs: 5,
} as const;
const SESSION_END = { status: 1, endTimeSecs: 2 } as const;
const MAP_ENTRY = { key: 1, value: 2 } as const;
const VALUE = { null: 1, number: 2, string: 3, bool: 4 } as const;
const LIST_VALUE = { values: 1 } as const;

const DATA_TYPES: readonly HParamType[] = ['unset', 'string', 'bool', 'float64'];
const DATASET_TYPES: readonly DatasetType[] = ['unknown', 'training', 'validation'];
const STATUSES: readonly SessionStatus[] = ['unknown', 'success', 'failure', 'running'];

// ---------------------------------------------------------------------------------------------
// Encoding. proto3 leaves out fields at their default (0, '', false) unless they sit in a oneof;
// doing the same keeps our bytes identical to TensorBoard's Python writer for the same message.

function optString(w: ProtoWriter, field: number, value: string | undefined): void {
  if (value) w.string(field, value);
}
function optDouble(w: ProtoWriter, field: number, value: number): void {
  if (value !== 0) w.double(field, value);
}
function optEnum(w: ProtoWriter, field: number, index: number): void {
  if (index > 0) w.int64(field, index);
}

function encodeValue(value: HParamValue): Uint8Array {
  const w = new ProtoWriter();
  // Value's kinds are a oneof, so even null (enum 0) and false are written.
  if (value === null) w.int64(VALUE.null, 0);
  else if (typeof value === 'number') w.double(VALUE.number, value);
  else if (typeof value === 'string') w.string(VALUE.string, value);
  else w.int64(VALUE.bool, value ? 1 : 0);
  return w.finish();
}

function encodeHParamInfo(info: HParamInfo): Uint8Array {
  const w = new ProtoWriter().string(HPARAM_INFO.name, info.name);
  optString(w, HPARAM_INFO.displayName, info.displayName);
  optString(w, HPARAM_INFO.description, info.description);
  optEnum(w, HPARAM_INFO.type, DATA_TYPES.indexOf(info.type));
  if (info.domain?.kind === 'discrete') {
    const list = new ProtoWriter();
    for (const v of info.domain.values) list.bytesField(LIST_VALUE.values, encodeValue(v));
    w.bytesField(HPARAM_INFO.domainDiscrete, list.finish());
  } else if (info.domain?.kind === 'interval') {
    const interval = new ProtoWriter();
    optDouble(interval, INTERVAL.min, info.domain.min);
    optDouble(interval, INTERVAL.max, info.domain.max);
    w.bytesField(HPARAM_INFO.domainInterval, interval.finish());
  }
  return w.finish();
}

function encodeMetricInfo(info: MetricInfo): Uint8Array {
  const name = new ProtoWriter();
  optString(name, METRIC_NAME.group, info.group);
  optString(name, METRIC_NAME.tag, info.tag);
  const w = new ProtoWriter().bytesField(METRIC_INFO.name, name.finish());
  optString(w, METRIC_INFO.displayName, info.displayName);
  optString(w, METRIC_INFO.description, info.description);
  optEnum(w, METRIC_INFO.datasetType, DATASET_TYPES.indexOf(info.datasetType));
  return w.finish();
}

function encodeExperiment(e: Experiment): Uint8Array {
  const w = new ProtoWriter();
  optString(w, EXPERIMENT.description, e.description);
  optDouble(w, EXPERIMENT.timeCreatedSecs, e.timeCreatedSecs);
  for (const h of e.hparamInfos) w.bytesField(EXPERIMENT.hparamInfos, encodeHParamInfo(h));
  for (const m of e.metricInfos) w.bytesField(EXPERIMENT.metricInfos, encodeMetricInfo(m));
  optString(w, EXPERIMENT.name, e.name);
  return w.finish();
}

function encodeSessionStart(s: SessionStart): Uint8Array {
  const w = new ProtoWriter();
  // Sorted, as protobuf's deterministic serialization orders map entries, so equal starts give
  // equal bytes. A map entry writes its key and value even when empty, like the C++/upb encoders.
  for (const key of Object.keys(s.hparams).sort()) {
    const entry = new ProtoWriter()
      .string(MAP_ENTRY.key, key)
      .bytesField(MAP_ENTRY.value, encodeValue(s.hparams[key]!));
    w.bytesField(SESSION_START.hparams, entry.finish());
  }
  optString(w, SESSION_START.modelUri, s.modelUri);
  optString(w, SESSION_START.groupName, s.groupName);
  optDouble(w, SESSION_START.startTimeSecs, s.startTimeSecs);
  return w.finish();
}

function encodeSessionEnd(s: SessionEnd): Uint8Array {
  const w = new ProtoWriter();
  optEnum(w, SESSION_END.status, STATUSES.indexOf(s.status));
  optDouble(w, SESSION_END.endTimeSecs, s.endTimeSecs);
  return w.finish();
}

/** Serializes an HParamsPluginData message (what goes in plugin_data.content). */
export function encodeHParamsPluginData(data: HParamsPluginData): Uint8Array {
  const w = new ProtoWriter();
  optEnum(w, PLUGIN_DATA.version, data.version);
  switch (data.kind) {
    case 'experiment':
      return w.bytesField(PLUGIN_DATA.experiment, encodeExperiment(data.experiment)).finish();
    case 'sessionStart':
      return w.bytesField(PLUGIN_DATA.sessionStart, encodeSessionStart(data.sessionStart)).finish();
    case 'sessionEnd':
      return w.bytesField(PLUGIN_DATA.sessionEnd, encodeSessionEnd(data.sessionEnd)).finish();
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding (what the tests and the app read back). Unknown fields are skipped, as protobuf does.

function fields(bytes: Uint8Array, each: (field: number, wire: number, r: ProtoReader) => boolean) {
  const r = new ProtoReader(bytes);
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (!each(field, wire, r)) r.skip(wire);
  }
}

function enumOf<T>(names: readonly T[], index: bigint, what: string): T {
  const name = names[Number(index)];
  if (name === undefined) throw new Error(`unknown ${what} ${index}`);
  return name;
}

function decodeValue(bytes: Uint8Array): HParamValue {
  // A Value with no kind set reads as null, as protobuf's JSON mapping shows it.
  let value: HParamValue = null;
  fields(bytes, (field, wire, r) => {
    if (field === VALUE.null && wire === WIRE_VARINT) {
      r.varint();
      value = null;
    } else if (field === VALUE.number && wire === WIRE_FIXED64) value = r.double();
    else if (field === VALUE.string && wire === WIRE_LEN) value = r.string();
    else if (field === VALUE.bool && wire === WIRE_VARINT) value = r.varint() !== 0n;
    else return false;
    return true;
  });
  return value;
}

function decodeHParamInfo(bytes: Uint8Array): HParamInfo {
  const info: HParamInfo = { name: '', type: 'unset' };
  fields(bytes, (field, wire, r) => {
    if (wire === WIRE_LEN && field === HPARAM_INFO.name) info.name = r.string();
    else if (wire === WIRE_LEN && field === HPARAM_INFO.displayName) info.displayName = r.string();
    else if (wire === WIRE_LEN && field === HPARAM_INFO.description) info.description = r.string();
    else if (wire === WIRE_VARINT && field === HPARAM_INFO.type)
      info.type = enumOf(DATA_TYPES, r.varint(), 'hparam data type');
    else if (wire === WIRE_LEN && field === HPARAM_INFO.domainDiscrete) {
      const values: HParamValue[] = [];
      fields(r.bytes(), (f, w, list) => {
        if (f !== LIST_VALUE.values || w !== WIRE_LEN) return false;
        values.push(decodeValue(list.bytes()));
        return true;
      });
      info.domain = { kind: 'discrete', values };
    } else if (wire === WIRE_LEN && field === HPARAM_INFO.domainInterval) {
      const domain: HParamDomain = { kind: 'interval', min: 0, max: 0 };
      fields(r.bytes(), (f, w, iv) => {
        if (w !== WIRE_FIXED64) return false;
        if (f === INTERVAL.min) domain.min = iv.double();
        else if (f === INTERVAL.max) domain.max = iv.double();
        else return false;
        return true;
      });
      info.domain = domain;
    } else return false;
    return true;
  });
  return info;
}

function decodeMetricInfo(bytes: Uint8Array): MetricInfo {
  const info: MetricInfo = { group: '', tag: '', datasetType: 'unknown' };
  fields(bytes, (field, wire, r) => {
    if (wire === WIRE_LEN && field === METRIC_INFO.name) {
      fields(r.bytes(), (f, w, n) => {
        if (w !== WIRE_LEN) return false;
        if (f === METRIC_NAME.group) info.group = n.string();
        else if (f === METRIC_NAME.tag) info.tag = n.string();
        else return false;
        return true;
      });
    } else if (wire === WIRE_LEN && field === METRIC_INFO.displayName)
      info.displayName = r.string();
    else if (wire === WIRE_LEN && field === METRIC_INFO.description) info.description = r.string();
    else if (wire === WIRE_VARINT && field === METRIC_INFO.datasetType)
      info.datasetType = enumOf(DATASET_TYPES, r.varint(), 'dataset type');
    else return false;
    return true;
  });
  return info;
}

function decodeExperiment(bytes: Uint8Array): Experiment {
  const e: Experiment = { timeCreatedSecs: 0, hparamInfos: [], metricInfos: [] };
  fields(bytes, (field, wire, r) => {
    if (wire === WIRE_LEN && field === EXPERIMENT.name) e.name = r.string();
    else if (wire === WIRE_LEN && field === EXPERIMENT.description) e.description = r.string();
    else if (wire === WIRE_FIXED64 && field === EXPERIMENT.timeCreatedSecs)
      e.timeCreatedSecs = r.double();
    else if (wire === WIRE_LEN && field === EXPERIMENT.hparamInfos)
      e.hparamInfos.push(decodeHParamInfo(r.bytes()));
    else if (wire === WIRE_LEN && field === EXPERIMENT.metricInfos)
      e.metricInfos.push(decodeMetricInfo(r.bytes()));
    else return false;
    return true;
  });
  return e;
}

function decodeSessionStart(bytes: Uint8Array): SessionStart {
  const s: SessionStart = { hparams: {}, groupName: '', startTimeSecs: 0 };
  fields(bytes, (field, wire, r) => {
    if (wire === WIRE_LEN && field === SESSION_START.hparams) {
      let key = '';
      let value: HParamValue = null;
      fields(r.bytes(), (f, w, entry) => {
        if (w !== WIRE_LEN) return false;
        if (f === MAP_ENTRY.key) key = entry.string();
        else if (f === MAP_ENTRY.value) value = decodeValue(entry.bytes());
        else return false;
        return true;
      });
      s.hparams[key] = value;
    } else if (wire === WIRE_LEN && field === SESSION_START.modelUri) s.modelUri = r.string();
    else if (wire === WIRE_LEN && field === SESSION_START.groupName) s.groupName = r.string();
    else if (wire === WIRE_FIXED64 && field === SESSION_START.startTimeSecs)
      s.startTimeSecs = r.double();
    else return false;
    return true;
  });
  return s;
}

function decodeSessionEnd(bytes: Uint8Array): SessionEnd {
  const s: SessionEnd = { status: 'unknown', endTimeSecs: 0 };
  fields(bytes, (field, wire, r) => {
    if (wire === WIRE_VARINT && field === SESSION_END.status)
      s.status = enumOf(STATUSES, r.varint(), 'session status');
    else if (wire === WIRE_FIXED64 && field === SESSION_END.endTimeSecs) s.endTimeSecs = r.double();
    else return false;
    return true;
  });
  return s;
}

/** Parses plugin_data.content; throws when no kind of data is set, as TensorBoard does. */
export function decodeHParamsPluginData(bytes: Uint8Array): HParamsPluginData {
  let version = 0;
  let data: HParamsPluginData | undefined;
  const r = new ProtoReader(bytes);
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (wire === WIRE_VARINT && field === PLUGIN_DATA.version) version = Number(r.varint());
    else if (wire === WIRE_LEN && field === PLUGIN_DATA.experiment)
      data = { version, kind: 'experiment', experiment: decodeExperiment(r.bytes()) };
    else if (wire === WIRE_LEN && field === PLUGIN_DATA.sessionStart)
      data = { version, kind: 'sessionStart', sessionStart: decodeSessionStart(r.bytes()) };
    else if (wire === WIRE_LEN && field === PLUGIN_DATA.sessionEnd)
      data = { version, kind: 'sessionEnd', sessionEnd: decodeSessionEnd(r.bytes()) };
    else r.skip(wire);
  }
  if (!data) throw new HParamsDataError('HParamsPluginData has no experiment or session info');
  // The version may follow the data: fields can come in any order.
  return { ...data, version };
}

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
