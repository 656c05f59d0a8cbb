/**
 * TensorBoard event files: write per-epoch scalars the way Keras' TensorBoard callback does
 * (`<run>/train` and `<run>/validation`, tags `epoch_loss` / `epoch_accuracy`), and read them back.
 *
 * An event file is a TFRecord stream: every record is
 *   uint64 length (LE) | uint32 masked_crc32c(length bytes) | data | uint32 masked_crc32c(data)
 * and every record's data is a serialized `tensorflow.Event` protobuf. The protobuf and CRC code
 * is hand-written because we need only five message fields and want no dependency for it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// ---------------------------------------------------------------------------------------------
// CRC32C (Castagnoli) and TFRecord framing

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) {
    crc = CRC32C_TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** TFRecord stores CRCs masked, because a CRC of data that itself embeds CRCs is weak. */
export function maskCrc(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

const HEADER_BYTES = 12; // uint64 length + uint32 crc
const FOOTER_BYTES = 4;

/** Frames one record; callers write the result with a single write so a kill never splits it. */
export function encodeRecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(HEADER_BYTES + data.length + FOOTER_BYTES);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskCrc(crc32c(out.subarray(0, 8))), 8);
  out.set(data, HEADER_BYTES);
  out.writeUInt32LE(maskCrc(crc32c(data)), HEADER_BYTES + data.length);
  return out;
}

export class EventFileError extends Error {
  readonly file: string;
  /** Byte offset of the start of the bad record. */
  readonly offset: number;
  readonly kind: 'corrupt' | 'truncated';

  constructor(file: string, offset: number, kind: 'corrupt' | 'truncated', detail: string) {
    super(`${file}: ${kind} record at byte offset ${offset}: ${detail}`);
    this.name = 'EventFileError';
    this.file = file;
    this.offset = offset;
    this.kind = kind;
  }
}

interface RawRecord {
  offset: number;
  data: Uint8Array;
}

/**
 * Splits a TFRecord stream. `end` is where the last complete record ends, which differs from
 * the file size only when a tolerated truncated tail was dropped.
 */
function splitRecords(
  bytes: Uint8Array,
  file: string,
  tolerateTruncatedTail: boolean,
): { records: RawRecord[]; end: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: RawRecord[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const truncated = (detail: string) => {
      if (tolerateTruncatedTail) return { records, end: pos };
      throw new EventFileError(file, pos, 'truncated', detail);
    };
    const remaining = bytes.length - pos;
    if (remaining < HEADER_BYTES) {
      return truncated(`only ${remaining} of the ${HEADER_BYTES} header bytes are present`);
    }
    // Check the length's own CRC before trusting it, so a flipped length bit reads as
    // corruption rather than as a truncated file.
    const lengthCrc = maskCrc(crc32c(bytes.subarray(pos, pos + 8)));
    if (lengthCrc !== view.getUint32(pos + 8, true)) {
      throw new EventFileError(file, pos, 'corrupt', 'length CRC mismatch');
    }
    const length = view.getBigUint64(pos, true);
    const available = BigInt(remaining - HEADER_BYTES - FOOTER_BYTES);
    if (length > available) {
      return truncated(
        `record declares ${length} data bytes but only ${remaining - HEADER_BYTES} bytes follow the header`,
      );
    }
    const dataStart = pos + HEADER_BYTES;
    const dataEnd = dataStart + Number(length);
    const data = bytes.subarray(dataStart, dataEnd);
    if (maskCrc(crc32c(data)) !== view.getUint32(dataEnd, true)) {
      throw new EventFileError(
        file,
        pos,
        'corrupt',
        `data CRC mismatch (data bytes ${dataStart}..${dataEnd - 1})`,
      );
    }
    records.push({ offset: pos, data });
    pos = dataEnd + FOOTER_BYTES;
  }
  return { records, end: pos };
}

// ---------------------------------------------------------------------------------------------
// Minimal protobuf

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

export class ProtoWriter {
  private readonly bytes: number[] = [];
  private readonly scratch = new DataView(new ArrayBuffer(8));

  private varint(value: bigint): void {
    // int64 is encoded as its 64-bit two's complement, so negatives take ten bytes.
    let v = BigInt.asUintN(64, value);
    while (v >= 0x80n) {
      this.bytes.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.bytes.push(Number(v));
  }

  private tag(field: number, wire: number): void {
    this.varint(BigInt((field << 3) | wire));
  }

  private scratchBytes(count: number): void {
    for (let i = 0; i < count; i++) this.bytes.push(this.scratch.getUint8(i));
  }

  int64(field: number, value: number): this {
    this.tag(field, WIRE_VARINT);
    this.varint(BigInt(value));
    return this;
  }

  double(field: number, value: number): this {
    this.tag(field, WIRE_FIXED64);
    this.scratch.setFloat64(0, value, true);
    this.scratchBytes(8);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    this.scratch.setFloat32(0, value, true);
    this.scratchBytes(4);
    return this;
  }

  bytesField(field: number, data: Uint8Array): this {
    this.tag(field, WIRE_LEN);
    this.varint(BigInt(data.length));
    for (const b of data) this.bytes.push(b);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytesField(field, utf8Encoder.encode(value));
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

export class ProtoReader {
  private pos = 0;
  private readonly view: DataView;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  done(): boolean {
    return this.pos >= this.buf.length;
  }

  private need(count: number): void {
    if (this.pos + count > this.buf.length) {
      throw new Error(`protobuf field runs past the end of its message (at byte ${this.pos})`);
    }
  }

  varint(): bigint {
    let result = 0n;
    for (let i = 0; i < 10; i++) {
      this.need(1);
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << BigInt(7 * i);
      if (!(b & 0x80)) return BigInt.asUintN(64, result);
    }
    throw new Error(`protobuf varint longer than 10 bytes (at byte ${this.pos})`);
  }

  tag(): { field: number; wire: number } {
    const key = this.varint();
    const field = Number(key >> 3n);
    if (field === 0) throw new Error(`protobuf field number 0 (at byte ${this.pos})`);
    return { field, wire: Number(key & 7n) };
  }

  double(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  float(): number {
    this.need(4);
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  bytes(): Uint8Array {
    const length = this.varint();
    if (length > BigInt(this.buf.length - this.pos)) {
      throw new Error(
        `protobuf length ${length} runs past the end of its message (at byte ${this.pos})`,
      );
    }
    const start = this.pos;
    this.pos += Number(length);
    return this.buf.subarray(start, this.pos);
  }

  string(): string {
    return utf8Decoder.decode(this.bytes());
  }

  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.need(8);
        this.pos += 8;
        return;
      case WIRE_LEN:
        this.bytes();
        return;
      case WIRE_FIXED32:
        this.need(4);
        this.pos += 4;
        return;
      default:
        // 3 and 4 are proto2 groups, which no tensorflow.Event field uses.
        throw new Error(`unsupported protobuf wire type ${wire} (at byte ${this.pos})`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// tensorflow.Event

export interface TensorBoardEvent {
  /** Seconds since the Unix epoch. */
  wallTime: number;
  step: number;
  /** Only on the first event of a file ("brain.Event:2"). */
  fileVersion?: string;
  /** Scalar summaries by tag; values are float32, as TensorBoard stores them. */
  scalars: Record<string, number>;
}

const FILE_VERSION = 'brain.Event:2';

// Field numbers from tensorflow/core/util/event.proto and framework/summary.proto.
const EVENT_WALL_TIME = 1;
const EVENT_STEP = 2;
const EVENT_FILE_VERSION = 3;
const EVENT_SUMMARY = 5;
const SUMMARY_VALUE = 1;
const VALUE_TAG = 1;
const VALUE_SIMPLE_VALUE = 2;
const VALUE_TENSOR = 8;
const VALUE_METADATA = 9;
const METADATA_PLUGIN_DATA = 1;
const PLUGIN_DATA_NAME = 1;
const PLUGIN_DATA_CONTENT = 2;
const TENSOR_SHAPE = 2;
const SHAPE_DIM = 2;
const TENSOR_DTYPE = 1;
const TENSOR_CONTENT = 4;
const TENSOR_FLOAT_VAL = 5;
const TENSOR_DOUBLE_VAL = 6;
const DT_FLOAT = 1;
const DT_DOUBLE = 2;

/**
 * A summary whose data is all in its metadata, as TensorBoard's HParams plugin writes them: the
 * plugin's own serialized message in plugin_data.content.
 */
export interface PluginSummary {
  tag: string;
  pluginName: string;
  content: Uint8Array;
}

export interface PluginSummaryEvent extends PluginSummary {
  wallTime: number;
  step: number;
}

type EventBody =
  { fileVersion: string } | { scalars: Record<string, number> } | { plugin: PluginSummary };

function encodeEvent(wallTime: number, step: number, body: EventBody): Uint8Array {
  const event = new ProtoWriter().double(EVENT_WALL_TIME, wallTime);
  // proto3 omits zero scalars; matching that makes our header record byte-identical to TF's.
  if (step !== 0) event.int64(EVENT_STEP, step);
  if ('fileVersion' in body) return event.string(EVENT_FILE_VERSION, body.fileVersion).finish();
  const summary = new ProtoWriter();
  if ('plugin' in body) summary.bytesField(SUMMARY_VALUE, encodePluginValue(body.plugin));
  else {
    for (const [tag, value] of Object.entries(body.scalars)) {
      const entry = new ProtoWriter().string(VALUE_TAG, tag).float(VALUE_SIMPLE_VALUE, value);
      summary.bytesField(SUMMARY_VALUE, entry.finish());
    }
  }
  return event.bytesField(EVENT_SUMMARY, summary.finish()).finish();
}

/**
 * TensorBoard's `make_tensor_proto([], DT_FLOAT, shape=(0,))`, the smallest valid tensor, which
 * it stores as the value of metadata-only summaries. The one dimension has size 0, proto3's
 * default, so it is an empty message.
 */
const EMPTY_FLOAT_TENSOR = new ProtoWriter()
  .int64(TENSOR_DTYPE, DT_FLOAT)
  .bytesField(TENSOR_SHAPE, new ProtoWriter().bytesField(SHAPE_DIM, new Uint8Array(0)).finish())
  .finish();

function encodePluginValue(summary: PluginSummary): Uint8Array {
  const pluginData = new ProtoWriter().string(PLUGIN_DATA_NAME, summary.pluginName);
  // proto3 leaves out an empty bytes field; so does TensorFlow's writer.
  if (summary.content.length > 0) pluginData.bytesField(PLUGIN_DATA_CONTENT, summary.content);
  const metadata = new ProtoWriter().bytesField(METADATA_PLUGIN_DATA, pluginData.finish());
  // Field-number order (tag, tensor, metadata), as protobuf serializers emit it, so the
  // bytes match what TensorBoard's Python writer produces for the same summary.
  return new ProtoWriter()
    .string(VALUE_TAG, summary.tag)
    .bytesField(VALUE_TENSOR, EMPTY_FLOAT_TENSOR)
    .bytesField(VALUE_METADATA, metadata.finish())
    .finish();
}

function decodeEvent(data: Uint8Array): TensorBoardEvent {
  const r = new ProtoReader(data);
  const event: TensorBoardEvent = { wallTime: 0, step: 0, scalars: {} };
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === EVENT_WALL_TIME && wire === WIRE_FIXED64) event.wallTime = r.double();
    else if (field === EVENT_STEP && wire === WIRE_VARINT) {
      event.step = Number(BigInt.asIntN(64, r.varint()));
    } else if (field === EVENT_FILE_VERSION && wire === WIRE_LEN) event.fileVersion = r.string();
    else if (field === EVENT_SUMMARY && wire === WIRE_LEN) decodeSummary(r.bytes(), event.scalars);
    else r.skip(wire);
  }
  return event;
}

function decodeSummary(data: Uint8Array, scalars: Record<string, number>): void {
  const r = new ProtoReader(data);
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field !== SUMMARY_VALUE || wire !== WIRE_LEN) {
      r.skip(wire);
      continue;
    }
    const v = new ProtoReader(r.bytes());
    let tag: string | undefined;
    let value: number | undefined;
    while (!v.done()) {
      const t = v.tag();
      if (t.field === VALUE_TAG && t.wire === WIRE_LEN) tag = v.string();
      else if (t.field === VALUE_SIMPLE_VALUE && t.wire === WIRE_FIXED32) value = v.float();
      else if (t.field === VALUE_TENSOR && t.wire === WIRE_LEN)
        value = decodeScalarTensor(v.bytes());
      else v.skip(t.wire);
    }
    // Values without a number (images, histograms, text) are not scalars; drop them.
    if (tag !== undefined && value !== undefined) scalars[tag] = value;
  }
}

/**
 * TF2 Keras writes scalars as one-element float tensors instead of simple_value; reading those
 * too lets the app import logs from real Keras runs.
 */
function decodeScalarTensor(data: Uint8Array): number | undefined {
  const r = new ProtoReader(data);
  let dtype = 0;
  let content: Uint8Array | undefined;
  const floats: number[] = [];
  const doubles: number[] = [];
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === TENSOR_DTYPE && wire === WIRE_VARINT) dtype = Number(r.varint());
    else if (field === TENSOR_CONTENT && wire === WIRE_LEN) content = r.bytes();
    else if (field === TENSOR_FLOAT_VAL && wire === WIRE_FIXED32) floats.push(r.float());
    else if (field === TENSOR_DOUBLE_VAL && wire === WIRE_FIXED64) doubles.push(r.double());
    else if (field === TENSOR_FLOAT_VAL && wire === WIRE_LEN) {
      const packed = new ProtoReader(r.bytes());
      while (!packed.done()) floats.push(packed.float());
    } else if (field === TENSOR_DOUBLE_VAL && wire === WIRE_LEN) {
      const packed = new ProtoReader(r.bytes());
      while (!packed.done()) doubles.push(packed.double());
    } else r.skip(wire);
  }
  const values = dtype === DT_FLOAT ? floats : dtype === DT_DOUBLE ? doubles : [];
  if (content) {
    const size = dtype === DT_FLOAT ? 4 : dtype === DT_DOUBLE ? 8 : 0;
    if (size === 0 || content.length !== size) return undefined;
    const view = new DataView(content.buffer, content.byteOffset, content.byteLength);
    return size === 4 ? view.getFloat32(0, true) : view.getFloat64(0, true);
  }
  return values.length === 1 ? values[0] : undefined;
}

/** The summaries of one event that carry plugin metadata (scalars and the like are skipped). */
function decodePluginSummaries(data: Uint8Array): PluginSummaryEvent[] {
  const r = new ProtoReader(data);
  let wallTime = 0;
  let step = 0;
  const found: PluginSummary[] = [];
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === EVENT_WALL_TIME && wire === WIRE_FIXED64) wallTime = r.double();
    else if (field === EVENT_STEP && wire === WIRE_VARINT) {
      step = Number(BigInt.asIntN(64, r.varint()));
    } else if (field === EVENT_SUMMARY && wire === WIRE_LEN) {
      const summary = new ProtoReader(r.bytes());
      while (!summary.done()) {
        const t = summary.tag();
        if (t.field !== SUMMARY_VALUE || t.wire !== WIRE_LEN) summary.skip(t.wire);
        else {
          const value = decodePluginValue(summary.bytes());
          if (value) found.push(value);
        }
      }
    } else r.skip(wire);
  }
  return found.map((s) => ({ ...s, wallTime, step }));
}

function decodePluginValue(data: Uint8Array): PluginSummary | undefined {
  const r = new ProtoReader(data);
  let tag: string | undefined;
  let plugin: { pluginName: string; content: Uint8Array } | undefined;
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === VALUE_TAG && wire === WIRE_LEN) tag = r.string();
    else if (field === VALUE_METADATA && wire === WIRE_LEN) plugin = decodePluginData(r.bytes());
    else r.skip(wire);
  }
  return tag !== undefined && plugin ? { tag, ...plugin } : undefined;
}

function decodePluginData(
  metadata: Uint8Array,
): { pluginName: string; content: Uint8Array } | undefined {
  const r = new ProtoReader(metadata);
  let result: { pluginName: string; content: Uint8Array } | undefined;
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field !== METADATA_PLUGIN_DATA || wire !== WIRE_LEN) {
      r.skip(wire);
      continue;
    }
    const p = new ProtoReader(r.bytes());
    result = { pluginName: '', content: new Uint8Array(0) };
    while (!p.done()) {
      const t = p.tag();
      if (t.field === PLUGIN_DATA_NAME && t.wire === WIRE_LEN) result.pluginName = p.string();
      else if (t.field === PLUGIN_DATA_CONTENT && t.wire === WIRE_LEN) result.content = p.bytes();
      else p.skip(t.wire);
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Reading

export interface ReadEventFileOptions {
  /** Return the complete records instead of throwing when the last record is cut short. */
  tolerateTruncatedTail?: boolean;
}

/** Parses an event file already in memory; `name` is used in error messages. */
export function parseEventFile(
  bytes: Uint8Array,
  name: string,
  opts: ReadEventFileOptions = {},
): TensorBoardEvent[] {
  const { records } = splitRecords(bytes, name, opts.tolerateTruncatedTail ?? false);
  return records.map(({ offset, data }) => {
    try {
      return decodeEvent(data);
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new EventFileError(name, offset, 'corrupt', `bad Event protobuf: ${detail}`);
    }
  });
}

export function readEventFile(file: string, opts: ReadEventFileOptions = {}): TensorBoardEvent[] {
  return parseEventFile(fs.readFileSync(file), file, opts);
}

/**
 * The plugin summaries of an event file, in file order, with each record's CRCs checked as
 * parseEventFile does; `pluginName` keeps only that plugin's.
 */
export function parsePluginSummaries(
  bytes: Uint8Array,
  name: string,
  pluginName?: string,
  opts: ReadEventFileOptions = {},
): PluginSummaryEvent[] {
  const { records } = splitRecords(bytes, name, opts.tolerateTruncatedTail ?? false);
  return records.flatMap(({ offset, data }) => {
    let found: PluginSummaryEvent[];
    try {
      found = decodePluginSummaries(data);
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      throw new EventFileError(name, offset, 'corrupt', `bad Event protobuf: ${detail}`);
    }
    return pluginName === undefined ? found : found.filter((s) => s.pluginName === pluginName);
  });
}

export function readPluginSummaries(
  file: string,
  pluginName?: string,
  opts: ReadEventFileOptions = {},
): PluginSummaryEvent[] {
  return parsePluginSummaries(fs.readFileSync(file), file, pluginName, opts);
}

// ---------------------------------------------------------------------------------------------
// Writing

export interface EventWriterOptions {
  /**
   * Continue the newest event file in `dir` instead of starting a new one (a resumed run then
   * keeps one file per folder). A truncated tail left by a killed writer is cut off first, since
   * TensorBoard stops reading at it; a file corrupt in the middle is left alone and a new file
   * is started.
   */
  append?: boolean;
  /** Appended to `events.out.tfevents.<seconds>.<hostname>`. */
  filenameSuffix?: string;
}

/**
 * Appends events to one file. It holds no file descriptor between writes, so a run folder can be
 * moved or deleted while a writer exists (Windows refuses to delete open files), and each record
 * goes out in a single append so a killed process leaves every completed record readable.
 */
export class EventWriter {
  readonly path: string;
  private closed = false;

  constructor(dir: string, opts: EventWriterOptions = {}) {
    fs.mkdirSync(dir, { recursive: true });
    this.path =
      (opts.append ? reuseNewestEventFile(dir) : undefined) ??
      createEventFile(dir, opts.filenameSuffix ?? '');
  }

  writeScalars(step: number, scalars: Record<string, number>, wallTime = Date.now() / 1000): void {
    this.append(step, wallTime, { scalars });
  }

  writePluginSummary(step: number, summary: PluginSummary, wallTime = Date.now() / 1000): void {
    this.append(step, wallTime, { plugin: summary });
  }

  private append(step: number, wallTime: number, body: EventBody): void {
    if (this.closed) throw new Error(`EventWriter for ${this.path} is closed`);
    if (!Number.isSafeInteger(step)) throw new Error(`step must be an integer, got ${step}`);
    fs.appendFileSync(this.path, encodeRecord(encodeEvent(wallTime, step, body)));
  }

  close(): void {
    this.closed = true;
  }
}

export function createEventWriter(dir: string, opts?: EventWriterOptions): EventWriter {
  return new EventWriter(dir, opts);
}

function fileVersionRecord(): Buffer {
  return encodeRecord(encodeEvent(Date.now() / 1000, 0, { fileVersion: FILE_VERSION }));
}

function createEventFile(dir: string, suffix: string): string {
  // Windows forbids some characters a hostname could in theory carry.
  const host = os.hostname().replace(/[\\/:*?"<>|]/g, '_');
  const base = `events.out.tfevents.${Math.floor(Date.now() / 1000)}.${host}${suffix}`;
  for (let n = 0; ; n++) {
    const file = path.join(dir, n === 0 ? base : `${base}.${n}`);
    try {
      // 'wx' so two writers starting in the same second never share a file.
      fs.writeFileSync(file, fileVersionRecord(), { flag: 'wx' });
      return file;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || n >= 1000) throw err;
    }
  }
}

function reuseNewestEventFile(dir: string): string | undefined {
  // Newest by name: the timestamp leads the name, and the order matches how TensorBoard's
  // legacy loader walks a folder (it only tails the last file).
  const newest = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.includes('tfevents'))
    .map((e) => e.name)
    .sort()
    .at(-1);
  if (newest === undefined) return undefined;
  const file = path.join(dir, newest);
  let end: number;
  try {
    end = splitRecords(fs.readFileSync(file), file, true).end;
  } catch (err) {
    if (err instanceof EventFileError) return undefined;
    throw err;
  }
  if (end < fs.statSync(file).size) fs.truncateSync(file, end);
  if (end === 0) fs.appendFileSync(file, fileVersionRecord());
  return file;
}

// ---------------------------------------------------------------------------------------------
// Keras-style per-epoch logging

export interface EpochScalars {
  loss: number;
  accuracy: number;
  valLoss?: number;
  valAccuracy?: number;
}

/** Keras' names for a run's two sub-runs; the HParams plugin finds metrics by them too. */
export const TRAIN_RUN = 'train';
export const VALIDATION_RUN = 'validation';
export const EPOCH_LOSS_TAG = 'epoch_loss';
export const EPOCH_ACCURACY_TAG = 'epoch_accuracy';

// Writers hold no descriptors, so caching them for the life of the process costs nothing.
const epochWriters = new Map<string, EventWriter>();

/**
 * Logs one epoch like Keras' TensorBoard callback: `runDir/train` and `runDir/validation` with
 * the same tags, so TensorBoard draws train and validation on one chart. Keras counts epochs
 * from 0. Reopening a run (e.g. after resume) appends to its existing files.
 */
export function writeEpochScalars(
  runDir: string,
  epoch: number,
  metrics: EpochScalars,
  wallTime = Date.now() / 1000,
): void {
  appendEpoch(path.join(runDir, TRAIN_RUN), epoch, wallTime, metrics.loss, metrics.accuracy);
  if (metrics.valLoss !== undefined || metrics.valAccuracy !== undefined) {
    const dir = path.join(runDir, VALIDATION_RUN);
    appendEpoch(dir, epoch, wallTime, metrics.valLoss, metrics.valAccuracy);
  }
}

function appendEpoch(
  dir: string,
  epoch: number,
  wallTime: number,
  loss: number | undefined,
  accuracy: number | undefined,
): void {
  const scalars: Record<string, number> = {};
  if (loss !== undefined) scalars[EPOCH_LOSS_TAG] = loss;
  if (accuracy !== undefined) scalars[EPOCH_ACCURACY_TAG] = accuracy;
  const key = path.resolve(dir);
  let writer = epochWriters.get(key);
  // The run may have been deleted (and maybe recreated) since; start over rather than append
  // to a file that no longer has its header.
  if (!writer || !fs.existsSync(writer.path)) {
    writer = new EventWriter(key, { append: true });
    epochWriters.set(key, writer);
  }
  writer.writeScalars(epoch, scalars, wallTime);
}
