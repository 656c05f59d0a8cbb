import { appendFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSweepSpec, TRIAL_STATUSES } from '../../../src-main/contract/sweep';
import {
  experimentOf,
  readHParams,
  sessionHParams,
  sessionStatusOf,
  SWEEP_METRICS,
  trialGroupName,
  writeHParamsExperiment,
  writeSessionEnd,
  writeSessionStart,
} from '../../../src-main/engine/sweeps/hparams';
import {
  decodeHParamsPluginData,
  encodeHParamsPluginData,
  EXPERIMENT_TAG,
  HParamsDataError,
  HPARAMS_PLUGIN,
  SESSION_END_TAG,
  SESSION_START_TAG,
  type Experiment,
  type HParamsPluginData,
} from '../../../src-main/engine/sweeps/hparams-proto';
import { createSweepJournal, sweepDir } from '../../../src-main/engine/sweeps/journal';
import {
  crc32c,
  EventFileError,
  EventWriter,
  maskCrc,
  readEventFile,
  readPluginSummaries,
  writeEpochScalars,
} from '../../../src-main/engine/tensorboard';
import { tempDir } from '../../helpers';

const root = tempDir('mnist-hparams-');
let dirCount = 0;
const freshDir = () => path.join(root, `case-${dirCount++}`);

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

function onlyEventFile(dir: string): string {
  const files = readdirSync(dir).filter((n) => n.includes('tfevents'));
  expect(files).toHaveLength(1);
  return path.join(dir, files[0]!);
}

/** Every record's data, its two CRCs checked by hand rather than by the module's reader. */
function recordsOf(file: string): Buffer[] {
  const bytes = readFileSync(file);
  const out: Buffer[] = [];
  for (let pos = 0; pos < bytes.length;) {
    const length = Number(bytes.readBigUInt64LE(pos));
    expect(bytes.readUInt32LE(pos + 8)).toBe(maskCrc(crc32c(bytes.subarray(pos, pos + 8))));
    const data = bytes.subarray(pos + 12, pos + 12 + length);
    expect(bytes.readUInt32LE(pos + 12 + length)).toBe(maskCrc(crc32c(data)));
    out.push(data);
    pos += 16 + length;
  }
  return out;
}

const spec = parseSweepSpec({
  preset: 'mlp',
  space: {
    learningRate: { kind: 'log-uniform', min: 1e-4, max: 1e-2 },
    dropout: { kind: 'uniform', min: 0, max: 0.5 },
    hiddenUnits: { kind: 'int', min: 64, max: 250, step: 64 },
    batchSize: { kind: 'choice', values: [32, 64, 128] },
    schedule: { kind: 'choice', values: ['decay', 'one-cycle'] },
    augment: { kind: 'choice', values: [false, true] },
    limit: { kind: 'choice', values: [null, 1000] },
  },
  budget: { maxTrials: 4 },
});

// ---------------------------------------------------------------------------------------------
// Known-good bytes: printed by `bench/check-hparams.py --reference`, which builds the same
// messages with TensorBoard's own summary API (summary_v2.hparams_config_pb / hparams_pb and
// the session-end summary) and serializes them deterministically (map keys sorted). `summary`
// is the serialized Summary up to its plugin_data.content, which ends it.

const REFERENCE_EXPERIMENT: Experiment = {
  timeCreatedSecs: 1764504000.5,
  hparamInfos: [
    {
      name: 'learningRate',
      description: 'log-uniform 0.0001..0.01',
      type: 'float64',
      domain: { kind: 'interval', min: 1e-4, max: 1e-2 },
    },
    { name: 'dropout', type: 'float64', domain: { kind: 'interval', min: 0, max: 0.5 } },
    { name: 'batchSize', type: 'float64', domain: { kind: 'discrete', values: [32, 64] } },
    {
      name: 'schedule',
      type: 'string',
      domain: { kind: 'discrete', values: ['decay', 'one-cycle'] },
    },
    { name: 'augment', type: 'bool', domain: { kind: 'discrete', values: [false, true] } },
  ],
  metricInfos: [
    {
      group: 'validation',
      tag: 'epoch_accuracy',
      displayName: 'validation accuracy',
      datasetType: 'validation',
    },
    { group: 'train', tag: 'epoch_loss', datasetType: 'training' },
  ],
};

const REFERENCE: { data: HParamsPluginData; content: string; summary: string; tag: string }[] = [
  {
    tag: EXPERIMENT_TAG,
    data: { version: 0, kind: 'experiment', experiment: REFERENCE_EXPERIMENT },
    content:
      '12950219000020700c4bda41223e0a0c6c6561726e696e67526174651a186c6f672d756e69666f726d2030' +
      '2e303030312e2e302e303120033212092d431cebe2361a3f117b14ae47e17a843f22160a0764726f706f' +
      '75742003320911000000000000e03f22250a09626174636853697a6520032a160a091100000000000040' +
      '400a0911000000000000504022240a087363686564756c6520012a160a071a0564656361790a0b1a096f' +
      '6e652d6379636c6522150a076175676d656e7420022a080a0220000a0220012a350a1c0a0a76616c6964' +
      '6174696f6e120e65706f63685f61636375726163791a1376616c69646174696f6e206163637572616379' +
      '28022a170a130a05747261696e120a65706f63685f6c6f73732801',
    summary:
      '0ac8020a145f68706172616d735f2f6578706572696d656e7442060801120212004aa7020aa4020a076870' +
      '6172616d73129802',
  },
  {
    tag: SESSION_START_TAG,
    data: {
      version: 0,
      kind: 'sessionStart',
      sessionStart: {
        hparams: {
          learningRate: 0.001,
          batchSize: 64,
          schedule: 'decay',
          augment: false,
          dropout: 0,
        },
        groupName: 'sweep/trial-1',
        startTimeSecs: 1764504010.25,
      },
    },
    content:
      '1a85010a0d0a076175676d656e74120220000a160a09626174636853697a6512091100000000000050400a' +
      '140a0764726f706f757412091100000000000000000a190a0c6c6561726e696e6752617465120911fca9f1' +
      'd24d62503f0a130a087363686564756c6512071a056465636179220d73776565702f747269616c2d312900' +
      '0090720c4bda41',
    summary:
      '0ac0010a1c5f68706172616d735f2f73657373696f6e5f73746172745f696e666f42060801120212004a97' +
      '010a94010a0768706172616d73128801',
  },
  {
    tag: SESSION_END_TAG,
    data: {
      version: 0,
      kind: 'sessionEnd',
      sessionEnd: { status: 'failure', endTimeSecs: 1764504020.75 },
    },
    content: '220b080211000030750c4bda41',
    summary:
      '0a400a1a5f68706172616d735f2f73657373696f6e5f656e645f696e666f42060801120212004a1a0a180a' +
      '0768706172616d73120d',
  },
];

describe('HParamsPluginData encoding', () => {
  it.each(REFERENCE)('matches TensorBoard byte for byte: $tag', ({ data, content }) => {
    expect(hex(encodeHParamsPluginData(data))).toBe(content);
    expect(decodeHParamsPluginData(Buffer.from(content, 'hex'))).toEqual(data);
  });

  it.each(REFERENCE)(
    'writes the Summary.Value as TensorBoard does (tag, NULL_TENSOR, metadata): $tag',
    ({ data, tag, summary, content }) => {
      const dir = freshDir();
      const writer = new EventWriter(dir);
      const pluginContent = encodeHParamsPluginData(data);
      writer.writePluginSummary(0, { tag, pluginName: HPARAMS_PLUGIN, content: pluginContent });
      const records = recordsOf(onlyEventFile(dir));
      expect(records).toHaveLength(2); // file version, then the summary
      // Event: wall_time (1, fixed64), step 0 left out as proto3 does, summary (5, bytes).
      const event = records[1]!;
      const summaryBytes = Buffer.from(summary + content, 'hex');
      expect(event[0]).toBe(0x09);
      expect(hex(event.subarray(9))).toBe(
        `2a${hex(Uint8Array.from(varint(summaryBytes.length)))}${summary}${content}`,
      );
    },
  );

  it('uses the field numbers of plugin_data.proto and api.proto (derived by hand)', () => {
    // HParamsPluginData.session_end_info = 4 (bytes) { status = 1 (varint): SUCCESS = 1 }
    const end: HParamsPluginData = {
      version: 0,
      kind: 'sessionEnd',
      sessionEnd: { status: 'success', endTimeSecs: 0 },
    };
    expect(hex(encodeHParamsPluginData(end))).toBe('22020801');
    // session_start_info = 3 { hparams = 1 { key = 1 "a", value = 2 { string_value = 3 "x" } },
    // group_name = 4 "g" }; null is Value.null_value = 1, written although 0 (a oneof).
    const start: HParamsPluginData = {
      version: 0,
      kind: 'sessionStart',
      sessionStart: { hparams: { a: 'x', b: null }, groupName: 'g', startTimeSecs: 0 },
    };
    expect(hex(encodeHParamsPluginData(start))).toBe(
      '1a16' + '0a08' + '0a0161' + '12031a0178' + '0a07' + '0a0162' + '12020800' + '220167',
    );
    // experiment = 2 { hparam_infos = 4 { name = 1 "n", type = 4 FLOAT64 = 3,
    // domain_interval = 6 { max_value = 2 (double) 1 } }, metric_infos = 5 { name = 1
    // { group = 1 "v", tag = 2 "t" }, dataset_type = 5 VALIDATION = 2 } }
    const experiment: HParamsPluginData = {
      version: 0,
      kind: 'experiment',
      experiment: {
        timeCreatedSecs: 0,
        hparamInfos: [{ name: 'n', type: 'float64', domain: { kind: 'interval', min: 0, max: 1 } }],
        metricInfos: [{ group: 'v', tag: 't', datasetType: 'validation' }],
      },
    };
    expect(hex(encodeHParamsPluginData(experiment))).toBe(
      '121e' +
        ('2210' + '0a016e' + '2003' + '3209' + '11000000000000f03f') +
        ('2a0a' + '0a060a0176120174' + '2802'),
    );
  });

  it('skips unknown fields and refuses content with no data', () => {
    const content = Buffer.from(REFERENCE[2]!.content + '780a', 'hex'); // field 15, varint 10
    expect(decodeHParamsPluginData(content)).toEqual(REFERENCE[2]!.data);
    expect(() => decodeHParamsPluginData(new Uint8Array(0))).toThrow(/no experiment or session/);
    expect(() => decodeHParamsPluginData(Buffer.from('2202', 'hex'))).toThrow(/past the end/);
  });
});

// ---------------------------------------------------------------------------------------------

describe('the experiment of a sweep', () => {
  it('declares every hyper-parameter of the space with its domain, and the epoch metrics', () => {
    const e = experimentOf(spec, { timeCreatedSecs: 1700000000 });
    expect(e.hparamInfos).toEqual([
      {
        name: 'learningRate',
        description: 'log-uniform 0.0001..0.01',
        type: 'float64',
        domain: { kind: 'interval', min: 1e-4, max: 1e-2 },
      },
      {
        name: 'dropout',
        description: 'uniform 0..0.5',
        type: 'float64',
        domain: { kind: 'interval', min: 0, max: 0.5 },
      },
      {
        // The int range's last value, not its max: 64 + 2·64 = 192 ≤ 250.
        name: 'hiddenUnits',
        description: 'whole numbers 64..192 step 64',
        type: 'float64',
        domain: { kind: 'interval', min: 64, max: 192 },
      },
      {
        name: 'batchSize',
        description: 'choice',
        type: 'float64',
        domain: { kind: 'discrete', values: [32, 64, 128] },
      },
      {
        name: 'schedule',
        description: 'choice',
        type: 'string',
        domain: { kind: 'discrete', values: ['decay', 'one-cycle'] },
      },
      {
        name: 'augment',
        description: 'choice',
        type: 'bool',
        domain: { kind: 'discrete', values: [false, true] },
      },
      {
        // null has no TensorBoard type: the choice is shown as strings.
        name: 'limit',
        description: 'choice',
        type: 'string',
        domain: { kind: 'discrete', values: ['null', '1000'] },
      },
    ]);
    expect(e.metricInfos.map((m) => `${m.group}/${m.tag}:${m.datasetType}`)).toEqual([
      'validation/epoch_accuracy:validation',
      'validation/epoch_loss:validation',
      'train/epoch_accuracy:training',
      'train/epoch_loss:training',
    ]);
    expect(e.description).toBe('MNIST Studio sweep: mlp preset, tpe search');
  });

  it('names the metrics after the sub-runs and tags writeEpochScalars writes', () => {
    const dir = freshDir();
    writeEpochScalars(dir, 0, { loss: 1, accuracy: 0.5, valLoss: 1.1, valAccuracy: 0.4 });
    for (const m of SWEEP_METRICS) {
      const events = readEventFile(onlyEventFile(path.join(dir, m.group)));
      expect(Object.keys(events[1]!.scalars)).toContain(m.tag);
    }
  });

  it("gives a trial's values as the experiment types them", () => {
    const point = {
      learningRate: 0.002,
      dropout: 0.1,
      hiddenUnits: 128,
      batchSize: 64,
      schedule: 'one-cycle',
      augment: true,
      limit: null,
      notInSpace: 5,
    };
    expect(sessionHParams(spec, point)).toEqual({
      learningRate: 0.002,
      dropout: 0.1,
      hiddenUnits: 128,
      batchSize: 64,
      schedule: 'one-cycle',
      augment: true,
      limit: 'null',
    });
    expect(sessionHParams(spec, { ...point, limit: 1000 }).limit).toBe('1000');
  });
});

// ---------------------------------------------------------------------------------------------

describe('writing and reading back', () => {
  it('writes the experiment in the sweep folder, once, and reads it back', () => {
    const checkpoints = freshDir();
    const sweepId = '20261130-120000-sweep-mlp-abcd';
    createSweepJournal(checkpoints, sweepId, spec);
    const dir = sweepDir(checkpoints, sweepId);
    expect(dir).toBe(path.join(path.resolve(checkpoints), '.sweeps', sweepId));

    expect(writeHParamsExperiment(dir, spec, { timeCreatedSecs: 1700000000.5 })).toBe(true);
    const file = onlyEventFile(dir);
    const size = statSync(file).size;
    // A resumed sweep writes it again: TensorBoard would read only the first, so nothing is added.
    expect(writeHParamsExperiment(dir, spec, { timeCreatedSecs: 1800000000 })).toBe(false);
    expect(statSync(file).size).toBe(size);

    expect(readHParams(dir)).toEqual({
      experiment: experimentOf(spec, { timeCreatedSecs: 1700000000.5 }),
    });
    // The scalar reader takes the file too (CRCs valid) and finds no scalar in it.
    const events = readEventFile(file);
    expect(events.map((e) => e.fileVersion ?? Object.keys(e.scalars).length)).toEqual([
      'brain.Event:2',
      0,
    ]);
    const summaries = readPluginSummaries(file);
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({
      tag: EXPERIMENT_TAG,
      pluginName: 'hparams',
      step: 0,
      wallTime: 1700000000.5,
    });
    recordsOf(file);
  });

  it("writes a trial's session start and end into its run folder, beside train/ and validation/", () => {
    const run = freshDir();
    const hparams = sessionHParams(spec, { learningRate: 0.001, batchSize: 32, limit: null });
    const start = {
      hparams,
      groupName: trialGroupName('sweep-x', 3),
      startTimeSecs: 1700000100,
      modelUri: run,
    };
    expect(writeSessionStart(run, start)).toBe(true);
    writeEpochScalars(run, 0, { loss: 0.5, accuracy: 0.9, valLoss: 0.6, valAccuracy: 0.88 });
    // Resumed in the same run: the first start (when it really started) stays.
    expect(writeSessionStart(run, { ...start, startTimeSecs: 1700000500 })).toBe(false);
    expect(readHParams(run)).toEqual({ sessionStart: start });

    expect(writeSessionEnd(run, { status: 'success', endTimeSecs: 1700000200 })).toBe(true);
    expect(writeSessionEnd(run, { status: 'failure', endTimeSecs: 1700000300 })).toBe(false);
    expect(readHParams(run)).toEqual({
      sessionStart: start,
      sessionEnd: { status: 'success', endTimeSecs: 1700000200 },
    });
    expect(start.groupName).toBe('sweep-x/trial-3');

    // One file for the run's own summaries, start then end, each record's CRCs valid.
    const file = onlyEventFile(run);
    expect(recordsOf(file)).toHaveLength(3);
    expect(readPluginSummaries(file, 'hparams').map((s) => [s.tag, s.wallTime])).toEqual([
      [SESSION_START_TAG, 1700000100],
      [SESSION_END_TAG, 1700000200],
    ]);
    expect(readPluginSummaries(file, 'scalars')).toEqual([]);
  });

  it('reads past a record cut short by a kill, and the next write replaces it', () => {
    const run = freshDir();
    const start = { hparams: { a: 1 }, groupName: 'g', startTimeSecs: 1700000000 };
    writeSessionStart(run, start);
    const file = onlyEventFile(run);
    const whole = statSync(file).size;
    appendFileSync(file, Buffer.from([40, 0, 0, 0, 0, 0]));
    expect(readHParams(run)).toEqual({ sessionStart: start });
    expect(writeSessionEnd(run, { status: 'failure', endTimeSecs: 1700000001 })).toBe(true);
    expect(statSync(file).size).toBeGreaterThan(whole);
    expect(recordsOf(file)).toHaveLength(3);
    expect(readHParams(run).sessionEnd).toEqual({ status: 'failure', endTimeSecs: 1700000001 });
  });

  it('finds nothing in a folder that does not exist or has no hparams', () => {
    expect(readHParams(path.join(root, 'missing'))).toEqual({});
    const run = freshDir();
    writeEpochScalars(run, 0, { loss: 1, accuracy: 0.1 });
    expect(readHParams(path.join(run, 'train'))).toEqual({});
  });
});

describe('sessionStatusOf', () => {
  it('counts pruned trials as successes and leaves unfinished ones unknown', () => {
    expect(Object.fromEntries(TRIAL_STATUSES.map((s) => [s, sessionStatusOf(s)]))).toEqual({
      pending: 'unknown',
      running: 'running',
      interrupted: 'unknown',
      finished: 'success',
      pruned: 'success',
      failed: 'failure',
    });
  });
});

describe('damaged files', () => {
  it('names the file when reading, and writes anew rather than stop a trial over its log', () => {
    const run = freshDir();
    const start = { hparams: { a: 1 }, groupName: 'g', startTimeSecs: 1700000000 };
    writeSessionStart(run, start);
    const file = onlyEventFile(run);
    const bytes = readFileSync(file);
    bytes[bytes.length - 6] = bytes[bytes.length - 6]! ^ 0xff; // inside the start's data
    writeFileSync(file, bytes);
    expect(() => readHParams(run)).toThrow(EventFileError);
    expect(() => readHParams(run)).toThrow(/data CRC mismatch/);

    // The damaged file is left as it is (TensorBoard reads it up to the damage); a new one
    // takes the start.
    expect(writeSessionStart(run, start)).toBe(true);
    const files = readdirSync(run)
      .filter((n) => n.includes('tfevents'))
      .sort();
    expect(files).toHaveLength(2);
    expect(readFileSync(path.join(run, files[0]!))).toEqual(bytes);
    const fresh = readPluginSummaries(path.join(run, files[1]!), HPARAMS_PLUGIN);
    expect(fresh.map((s) => decodeHParamsPluginData(s.content))).toEqual([
      { version: 0, kind: 'sessionStart', sessionStart: start },
    ]);
  });

  it('names the file when a summary holds no HParamsPluginData', () => {
    const run = freshDir();
    new EventWriter(run).writePluginSummary(0, {
      tag: SESSION_START_TAG,
      pluginName: HPARAMS_PLUGIN,
      content: Uint8Array.of(0x08, 0x00),
    });
    expect(() => readHParams(run)).toThrow(HParamsDataError);
    expect(() => readHParams(run)).toThrow(/tfevents.*session_start_info.*no experiment/);
    expect(writeSessionEnd(run, { status: 'success', endTimeSecs: 1 })).toBe(true);
  });
});
