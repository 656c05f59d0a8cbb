import { ProtoReader, ProtoWriter, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from '../tensorboard';

/**
 * The messages of TensorBoard's HParams plugin that a sweep writes (plugin_data.proto and
 * api.proto in tensorboard/plugins/hparams), encoded and decoded by hand with the protobuf
 * reader and writer of ../tensorboard.ts: HParamsPluginData holding an Experiment, a
 * SessionStartInfo or a SessionEndInfo. Field numbers are the .proto files'; hparams.ts maps a
 * sweep onto them.
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
