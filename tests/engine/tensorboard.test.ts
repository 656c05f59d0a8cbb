import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  EventFileError,
  EventWriter,
  crc32c,
  createEventWriter,
  encodeRecord,
  maskCrc,
  parseEventFile,
  readEventFile,
  writeEpochScalars,
} from '../../src-main/engine/tensorboard';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mnist-tensorboard-'));
let dir: string;
let dirCount = 0;

beforeEach(() => {
  dir = path.join(root, `case-${dirCount++}`);
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

function eventFiles(d: string): string[] {
  return fs
    .readdirSync(d)
    .filter((name) => name.includes('tfevents'))
    .sort()
    .map((name) => path.join(d, name));
}

function onlyEventFile(d: string): string {
  const files = eventFiles(d);
  expect(files).toHaveLength(1);
  return files[0]!;
}

/** Offsets where each record starts, found by walking the length headers. */
function recordOffsets(bytes: Buffer): number[] {
  const offsets: number[] = [];
  for (let pos = 0; pos < bytes.length; pos += 16 + Number(bytes.readBigUInt64LE(pos))) {
    offsets.push(pos);
  }
  return offsets;
}

// Hand-rolled protobuf pieces, independent of the module's encoder.
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
const key = (field: number, wire: number) => varint(field * 8 + wire);
const lenField = (field: number, bytes: number[]) => [
  ...key(field, 2),
  ...varint(bytes.length),
  ...bytes,
];
const str = (s: string) => [...Buffer.from(s, 'utf8')];
function fixed64(field: number, value: number): number[] {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(value);
  return [...key(field, 1), ...b];
}
function fixed32(field: number, value: number): number[] {
  const b = Buffer.alloc(4);
  b.writeFloatLE(value);
  return [...key(field, 5), ...b];
}

describe('crc32c', () => {
  it('matches the standard check value and RFC 3720 vectors', () => {
    expect(crc32c(Buffer.from('123456789', 'ascii'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });
});

describe('maskCrc', () => {
  it('rotates right by 15 and adds the TFRecord constant, mod 2^32', () => {
    const reference = (crc: number) => {
      const c = BigInt(crc);
      const rotated = ((c >> 15n) | (c << 17n)) & 0xffffffffn;
      return Number((rotated + 0xa282ead8n) & 0xffffffffn);
    };
    for (const crc of [0, 1, 0xe3069283, 0x8a9136aa, 0xffffffff, 0x80000000, 0x7fff]) {
      expect(maskCrc(crc)).toBe(reference(crc));
    }
    expect(maskCrc(0)).toBe(0xa282ead8);
  });

  it('produces the header every TensorFlow event file starts with', () => {
    // TF's first record is a 24-byte file_version event; its header is always these bytes.
    expect(encodeRecord(new Uint8Array(24)).subarray(0, 12).toString('hex')).toBe(
      '1800000000000000a37f4b22',
    );
  });
});

describe('EventWriter and readEventFile', () => {
  it('writes a file_version event first, in a TensorBoard-named file', () => {
    const writer = createEventWriter(dir);
    writer.close();
    const name = path.basename(writer.path);
    expect(name).toMatch(/^events\.out\.tfevents\.\d{10}\./);
    expect(name).toContain(os.hostname());
    const events = readEventFile(writer.path);
    expect(events).toHaveLength(1);
    expect(events[0]!.fileVersion).toBe('brain.Event:2');
    expect(events[0]!.scalars).toEqual({});
    // Same 24-byte first record as TF writes (step 0 omitted, as proto3 does).
    expect(fs.readFileSync(writer.path).subarray(0, 12).toString('hex')).toBe(
      '1800000000000000a37f4b22',
    );
  });

  it('round-trips several epochs into train/ and validation/ like Keras', () => {
    const epochs = [
      { loss: 0.61, accuracy: 0.83, valLoss: 0.33, valAccuracy: 0.905 },
      { loss: 0.29, accuracy: 0.917, valLoss: 0.24, valAccuracy: 0.931 },
      { loss: 0.2, accuracy: 0.941, valLoss: 0.19, valAccuracy: 0.9452 },
    ];
    epochs.forEach((m, epoch) => writeEpochScalars(dir, epoch, m, 1_700_000_000.25 + epoch));

    const train = readEventFile(onlyEventFile(path.join(dir, 'train')));
    const validation = readEventFile(onlyEventFile(path.join(dir, 'validation')));
    expect(train[0]!.fileVersion).toBe('brain.Event:2');
    expect(validation[0]!.fileVersion).toBe('brain.Event:2');
    expect(train.slice(1).map((e) => e.step)).toEqual([0, 1, 2]);
    expect(validation.slice(1).map((e) => e.step)).toEqual([0, 1, 2]);
    epochs.forEach((m, epoch) => {
      expect(train[epoch + 1]!.wallTime).toBe(1_700_000_000.25 + epoch);
      expect(train[epoch + 1]!.scalars).toEqual({
        epoch_loss: Math.fround(m.loss),
        epoch_accuracy: Math.fround(m.accuracy),
      });
      expect(validation[epoch + 1]!.scalars).toEqual({
        epoch_loss: Math.fround(m.valLoss),
        epoch_accuracy: Math.fround(m.valAccuracy),
      });
    });
  });

  it('skips validation/ when there are no validation metrics', () => {
    writeEpochScalars(dir, 0, { loss: 1, accuracy: 0.5 });
    expect(fs.existsSync(path.join(dir, 'train'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'validation'))).toBe(false);
  });

  it('stores values as float32 and wall time as float64', () => {
    const values = {
      tenth: 0.1,
      third: 1 / 3,
      long: 0.987654321,
      big: 123456789.123,
      tiny: 1e-40,
      negative: -2.5,
      zero: 0,
      nan: NaN,
      inf: Infinity,
    };
    const writer = createEventWriter(dir);
    writer.writeScalars(7, values, 1_712_345_678.123456);
    writer.close();
    const event = readEventFile(writer.path)[1]!;
    expect(event.wallTime).toBe(1_712_345_678.123456);
    for (const [tag, value] of Object.entries(values)) {
      expect(event.scalars[tag]).toBe(Math.fround(value));
    }
    expect(event.scalars.tenth).not.toBe(0.1);
  });

  it('round-trips large and negative steps', () => {
    const writer = createEventWriter(dir);
    for (const step of [0, 1, 127, 128, 300_000, 2 ** 40, -1]) writer.writeScalars(step, { x: 1 });
    const steps = readEventFile(writer.path)
      .slice(1)
      .map((e) => e.step);
    expect(steps).toEqual([0, 1, 127, 128, 300_000, 2 ** 40, -1]);
  });

  it('refuses non-integer steps and writes after close', () => {
    const writer = createEventWriter(dir);
    expect(() => writer.writeScalars(1.5, { x: 1 })).toThrow(/integer/);
    writer.close();
    expect(() => writer.writeScalars(1, { x: 1 })).toThrow(/closed/);
  });

  it('gives two writers started in the same second different files', () => {
    const a = createEventWriter(dir);
    const b = createEventWriter(dir);
    expect(a.path).not.toBe(b.path);
    expect(eventFiles(dir)).toHaveLength(2);
  });

  it('appends to the existing file when reopened with append', () => {
    const first = new EventWriter(dir);
    first.writeScalars(0, { epoch_loss: 1 });
    const resumed = new EventWriter(dir, { append: true });
    resumed.writeScalars(1, { epoch_loss: 0.5 });
    expect(resumed.path).toBe(first.path);
    const events = readEventFile(first.path);
    expect(events.map((e) => e.step)).toEqual([0, 0, 1]);
    expect(events.filter((e) => e.fileVersion !== undefined)).toHaveLength(1);
  });

  it('cuts a truncated tail off before appending, so the file reads cleanly again', () => {
    const writer = new EventWriter(dir);
    writer.writeScalars(0, { epoch_loss: 1 });
    writer.writeScalars(1, { epoch_loss: 0.5 });
    const size = fs.statSync(writer.path).size;
    fs.truncateSync(writer.path, size - 5);

    const resumed = new EventWriter(dir, { append: true });
    resumed.writeScalars(1, { epoch_loss: 0.4 });
    expect(resumed.path).toBe(writer.path);
    const events = readEventFile(writer.path);
    expect(events.map((e) => e.step)).toEqual([0, 0, 1]);
    expect(events[2]!.scalars.epoch_loss).toBe(Math.fround(0.4));
  });

  it('starts a new file instead of appending to a corrupt one', () => {
    const writer = new EventWriter(dir);
    writer.writeScalars(0, { epoch_loss: 1 });
    const bytes = fs.readFileSync(writer.path);
    bytes[bytes.length - 8]! ^= 0xff;
    fs.writeFileSync(writer.path, bytes);

    const resumed = new EventWriter(dir, { append: true });
    expect(resumed.path).not.toBe(writer.path);
    expect(readEventFile(resumed.path)[0]!.fileVersion).toBe('brain.Event:2');
  });

  it('writeEpochScalars keeps appending to one file per folder', () => {
    for (let epoch = 0; epoch < 4; epoch++) {
      writeEpochScalars(dir, epoch, {
        loss: 1 / (epoch + 1),
        accuracy: 0.9,
        valLoss: 1,
        valAccuracy: 0.8,
      });
    }
    // A fresh writer in append mode, as a resumed process would open.
    new EventWriter(path.join(dir, 'train'), { append: true }).writeScalars(4, { epoch_loss: 0.1 });
    const train = readEventFile(onlyEventFile(path.join(dir, 'train')));
    expect(train.map((e) => e.step)).toEqual([0, 0, 1, 2, 3, 4]);
    expect(readEventFile(onlyEventFile(path.join(dir, 'validation')))).toHaveLength(5);
  });

  it('writeEpochScalars starts over when the run folder was deleted', () => {
    writeEpochScalars(dir, 0, { loss: 1, accuracy: 0.5 });
    fs.rmSync(dir, { recursive: true });
    writeEpochScalars(dir, 0, { loss: 2, accuracy: 0.25 });
    const events = readEventFile(onlyEventFile(path.join(dir, 'train')));
    expect(events[0]!.fileVersion).toBe('brain.Event:2');
    expect(events[1]!.scalars.epoch_loss).toBe(2);
  });
});

describe('corruption and truncation', () => {
  function writeThreeEpochs(): string {
    const writer = createEventWriter(dir);
    for (let step = 0; step < 3; step++) writer.writeScalars(step, { epoch_loss: step });
    return writer.path;
  }

  it('names the file and the record offset when a data byte is flipped', () => {
    const file = writeThreeEpochs();
    const bytes = fs.readFileSync(file);
    const offsets = recordOffsets(bytes);
    const bad = offsets[2]!;
    bytes[bad + 12 + 3]! ^= 0x01;
    fs.writeFileSync(file, bytes);

    let error: unknown;
    try {
      readEventFile(file);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(EventFileError);
    const e = error as EventFileError;
    expect(e.kind).toBe('corrupt');
    expect(e.offset).toBe(bad);
    expect(e.file).toBe(file);
    expect(e.message).toContain(file);
    expect(e.message).toContain(`byte offset ${bad}`);
    expect(e.message).toMatch(/data CRC/);
    // Tolerating a truncated tail must not hide corruption.
    expect(() => readEventFile(file, { tolerateTruncatedTail: true })).toThrow(EventFileError);
  });

  it('detects a flipped length byte as corruption, not truncation', () => {
    const file = writeThreeEpochs();
    const bytes = fs.readFileSync(file);
    const bad = recordOffsets(bytes)[1]!;
    bytes[bad]! ^= 0x40;
    fs.writeFileSync(file, bytes);
    expect(() => readEventFile(file)).toThrow(/corrupt record at byte offset \d+: length CRC/);
    expect(() => readEventFile(file, { tolerateTruncatedTail: true })).toThrow(
      `byte offset ${bad}`,
    );
  });

  it('detects a flipped CRC byte', () => {
    const file = writeThreeEpochs();
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 1]! ^= 0x80;
    fs.writeFileSync(file, bytes);
    const last = recordOffsets(bytes).at(-1)!;
    expect(() => readEventFile(file)).toThrow(`corrupt record at byte offset ${last}`);
  });

  it('reports a truncated tail, and returns the complete records when told to tolerate it', () => {
    const file = writeThreeEpochs();
    const full = fs.readFileSync(file);
    const last = recordOffsets(full).at(-1)!;
    // Cut inside the data, inside the footer, and inside the header of the last record.
    for (const cut of [full.length - 10, full.length - 1, last + 5, last + 12]) {
      const bytes = full.subarray(0, cut);
      expect(() => parseEventFile(bytes, 'cut.tfevents')).toThrow(
        `cut.tfevents: truncated record at byte offset ${last}`,
      );
      const events = parseEventFile(bytes, 'cut.tfevents', { tolerateTruncatedTail: true });
      expect(events.map((e) => e.step)).toEqual([0, 0, 1]);
    }
    expect(parseEventFile(new Uint8Array(0), 'empty')).toEqual([]);
  });
});

describe('Event decoding', () => {
  function frame(event: number[]): Buffer {
    const data = Uint8Array.from(event);
    const header = Buffer.alloc(8);
    header.writeBigUInt64LE(BigInt(data.length));
    const crcs = Buffer.alloc(8);
    crcs.writeUInt32LE(maskCrc(crc32c(header)), 0);
    crcs.writeUInt32LE(maskCrc(crc32c(data)), 4);
    return Buffer.concat([header, crcs.subarray(0, 4), data, crcs.subarray(4)]);
  }

  it('skips unknown fields of every wire type at every level', () => {
    const value = [
      ...key(7, 2), // deprecated node_name, then unknown fields
      ...varint(0),
      ...key(50, 0),
      ...varint(300),
      ...fixed64(51, 1.5),
      ...lenField(9, lenField(1, lenField(1, str('scalars')))), // metadata
      ...lenField(1, str('epoch_loss')),
      ...fixed32(2, 0.25),
      ...fixed32(52, 9),
    ];
    const image = [...lenField(1, str('digits')), ...lenField(4, [8, 28, 16, 28])];
    const summary = [...lenField(1, image), ...key(60, 0), 5, ...lenField(1, value)];
    const event = [
      ...key(40, 0),
      ...varint(2 ** 35),
      ...fixed64(1, 1234.5),
      ...fixed32(41, 3),
      ...key(2, 0),
      ...varint(42),
      ...lenField(10, lenField(1, str('writer'))), // source_metadata
      ...key(42, 1), // fixed64 field with arbitrary bytes
      ...[1, 2, 3, 4, 5, 6, 7, 8],
      ...lenField(5, summary),
      ...key(1, 0), // known field number with the wrong wire type is skipped too
      ...varint(7),
    ];
    const [decoded] = parseEventFile(frame(event), 'hand-built');
    expect(decoded).toEqual({ wallTime: 1234.5, step: 42, scalars: { epoch_loss: 0.25 } });
  });

  it('reads TF2-style scalar tensors (Keras without simple_value)', () => {
    const content = Buffer.alloc(4);
    content.writeFloatLE(0.75);
    const doubleContent = Buffer.alloc(8);
    doubleContent.writeDoubleLE(0.125);
    const tensorValue = (tag: string, tensor: number[]) => [
      ...lenField(1, str(tag)),
      ...lenField(8, tensor),
    ];
    const summary = [
      ...lenField(
        1,
        tensorValue('epoch_accuracy', [
          ...key(1, 0),
          1,
          ...lenField(2, []),
          ...lenField(4, [...content]),
        ]),
      ),
      ...lenField(
        1,
        tensorValue('epoch_loss', [...key(1, 0), 2, ...lenField(4, [...doubleContent])]),
      ),
      ...lenField(1, tensorValue('packed', [...key(1, 0), 1, ...lenField(5, [...content])])),
      ...lenField(1, tensorValue('unpacked', [...key(1, 0), 1, ...fixed32(5, 0.5)])),
      // A histogram-like tensor with many values is not a scalar.
      ...lenField(
        1,
        tensorValue('histo', [...key(1, 0), 1, ...lenField(5, [...content, ...content])]),
      ),
      ...lenField(1, tensorValue('text', [...key(1, 0), 7, ...lenField(8, str('hello'))])),
    ];
    const [decoded] = parseEventFile(
      frame([...fixed64(1, 1), ...key(2, 0), 3, ...lenField(5, summary)]),
      'tf2',
    );
    expect(decoded!.scalars).toEqual({
      epoch_accuracy: 0.75,
      epoch_loss: 0.125,
      packed: 0.75,
      unpacked: 0.5,
    });
  });

  it('reports a malformed protobuf inside a valid record with its offset', () => {
    const good = frame([...fixed64(1, 1)]);
    const bad = frame([...key(5, 2), 5]); // summary claims 5 bytes, has none
    expect(() => parseEventFile(Buffer.concat([good, bad]), 'bad-proto')).toThrow(
      `bad-proto: corrupt record at byte offset ${good.length}: bad Event protobuf`,
    );
  });
});
