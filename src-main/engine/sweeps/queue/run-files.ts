import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fsyncDir, readMetricsLog, runDir, RunFileSchema, writeDurable } from '../../runs';
import { makeDirs } from '../../storage';
import { MAX_RESULT_BYTES, QueueError, type ResultFile } from './protocol';

/**
 * A trial's run folder, packed by the worker that trained it and unpacked in the sweep's
 * checkpoints folder. No tfjs here: the worker's queue process and the sweep's process only move
 * bytes; the Checkpoints listing verifies the checkpoint's hashes as for any run.
 */

const EPOCH_DIR = /^epoch-(\d{3,})$/;
/** TensorBoard's event folders (engine/tensorboard.ts: TRAIN_RUN, VALIDATION_RUN). */
const EVENT_DIRS = ['train', 'validation'];

export interface PackedRun {
  files: ResultFile[];
  checkpointEpoch: number | null;
  bytes: number;
  note: string | null;
}

/**
 * The run's records (run.json, metrics.jsonl, TensorBoard events) and its best epoch's
 * checkpoint, chosen by validation accuracy like the sweep's score (the latest one when no epoch
 * was validated). Other epochs stay on the worker: the sweep needs the trial's best model, and
 * every epoch of an mlp run would be ~1.2 MB each.
 */
export function packRun(root: string, runId: string, limit = MAX_RESULT_BYTES): PackedRun {
  const dir = runDir(root, runId);
  const records: string[] = ['run.json'];
  if (existsSync(path.join(dir, 'metrics.jsonl'))) records.push('metrics.jsonl');
  for (const sub of EVENT_DIRS)
    if (existsSync(path.join(dir, sub)))
      for (const name of readdirSync(path.join(dir, sub)))
        if (statSync(path.join(dir, sub, name)).isFile() && !name.includes('.tmp-'))
          records.push(`${sub}/${name}`);
  const epoch = bestEpoch(root, runId);
  const checkpoint =
    epoch === null
      ? []
      : readdirSync(path.join(dir, epochDir(epoch)))
          .filter((name) => !name.includes('.tmp-'))
          .map((name) => `${epochDir(epoch)}/${name}`);
  const size = (files: string[]) => files.reduce((n, f) => n + statSync(path.join(dir, f)).size, 0);
  const recordBytes = size(records);
  const checkpointBytes = size(checkpoint);
  let note: string | null = null;
  let chosen = [...records, ...checkpoint];
  if (recordBytes + checkpointBytes > limit) {
    note =
      `the checkpoint of epoch ${epoch} (${checkpointBytes} bytes) was left on the worker: ` +
      `the result would pass the queue's ${limit}-byte cap`;
    chosen = records;
  }
  const files = chosen.map((f) => ({
    path: f,
    base64: readFileSync(path.join(dir, f)).toString('base64'),
  }));
  return {
    files,
    checkpointEpoch: note === null ? epoch : null,
    bytes: note === null ? recordBytes + checkpointBytes : recordBytes,
    note,
  };
}

const epochDir = (epoch: number) => `epoch-${String(epoch).padStart(3, '0')}`;

function bestEpoch(root: string, runId: string): number | null {
  const dir = runDir(root, runId);
  const saved = new Set(
    readdirSync(dir)
      .map((name) => EPOCH_DIR.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      // A checkpoint without its manifest was cut short; it is never the one to send.
      .filter((e) => existsSync(path.join(dir, epochDir(e), 'checkpoint.json'))),
  );
  if (saved.size === 0) return null;
  let best: { epoch: number; score: number } | null = null;
  for (const m of readMetricsLog(root, runId))
    if (saved.has(m.epoch) && m.valAccuracy !== null && (!best || m.valAccuracy > best.score))
      best = { epoch: m.epoch, score: m.valAccuracy };
  return best?.epoch ?? Math.max(...saved);
}

/**
 * Writes a trial's files as run `runId` of `root`: into a dot-named folder first (listings take
 * only folders named like a run id), then renamed into place, so the Checkpoints list never sees
 * half a run. run.json is rewritten with the sweep's run id (the worker named the run after its
 * own clock) and no pid (no process of this machine owns it). Landing a run that is already
 * there changes nothing and returns false: a result reported twice is kept once.
 */
export function landRun(root: string, runId: string, files: readonly ResultFile[]): boolean {
  const dir = runDir(root, runId);
  if (existsSync(path.join(dir, 'run.json'))) return false;
  const runFile = files.find((f) => f.path === 'run.json');
  if (!runFile) throw new QueueError(`the result for run ${runId} holds no run.json`);
  let run;
  try {
    run = RunFileSchema.parse(JSON.parse(Buffer.from(runFile.base64, 'base64').toString('utf8')));
  } catch (error) {
    throw new QueueError(`the result's run.json is malformed: ${(error as Error).message}`);
  }
  const incoming = path.join(
    path.resolve(root),
    `.incoming-${runId}-${randomBytes(3).toString('hex')}`,
  );
  makeDirs(incoming);
  try {
    for (const file of files) {
      const target = path.resolve(incoming, file.path);
      // The schema allows plain names only; this keeps the promise if the schema ever loosens.
      if (!target.startsWith(incoming + path.sep))
        throw new QueueError(`the result names a file outside its run: ${file.path}`);
      makeDirs(path.dirname(target));
      const data =
        file.path === 'run.json'
          ? JSON.stringify({ ...run, runId, pid: null }, null, 2)
          : Buffer.from(file.base64, 'base64');
      writeDurable(target, data);
    }
    // A folder without run.json is not ours to replace (a run starting under the same id).
    if (existsSync(dir)) throw new QueueError(`run folder ${dir} exists already`);
    renameSync(incoming, dir);
    fsyncDir(path.resolve(root));
    return true;
  } catch (error) {
    rmSync(incoming, { recursive: true, force: true });
    throw error;
  }
}
