import * as tf from '@tensorflow/tfjs';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import {
  EpochMetricsSchema,
  RUN_ID_PATTERN,
  type CheckpointInfo,
  type EpochMetrics,
  type RunInfo,
} from '../contract/messages';
import {
  CheckpointError,
  fsyncDir,
  readMetricsLog,
  readRun,
  runDir,
  writeDurable,
  type RunFile,
} from './runs';
import { acquireRunLock, describeHolder, runLockState, type LockState } from './run-lock';

export { CheckpointError };

/**
 * Checkpoints are the user's work. Layout: `<root>/<runId>/run.json`, `metrics.jsonl`, and one
 * folder per epoch `epoch-NNN/` with model.json + weights.bin (tfjs LayersModel format, Adam's
 * state included), metrics.json and checkpoint.json (sizes and SHA-256 of the others).
 * A checkpoint folder is written under a dot-name and renamed into place only when complete,
 * so a listing can never see a half-written one as valid.
 */

const ManifestSchema = z.object({
  epoch: z.number().int().min(1),
  savedAt: z.string(),
  files: z.record(
    z.string(),
    z.object({ bytes: z.number().int().nonnegative(), sha256: z.string() }),
  ),
});

const MODEL_FILE = 'model.json';
const WEIGHTS_FILE = 'weights.bin';
const METRICS_FILE = 'metrics.json';
const MANIFEST_FILE = 'checkpoint.json';
const EPOCH_DIR = /^epoch-(\d{3,})$/;

export const epochDirName = (epoch: number): string => `epoch-${String(epoch).padStart(3, '0')}`;

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

// ---------------------------------------------------------------- checkpoints

/**
 * Model and Adam state in one artifact, laid out exactly as tfjs-layers' own
 * `save({ includeOptimizer: true })` does (optimizer weights in group "optimizer"), so
 * `tf.loadLayersModel` restores both. Done by hand because that path leaks the iteration-count
 * tensor that `optimizer.getWeights()` creates, one per checkpoint.
 */
async function serialise(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  const artifacts = await modelArtifacts(model);
  const optimizer = model.optimizer;
  if (!optimizer) return artifacts;
  const optimizerWeights = await optimizer.getWeights();
  try {
    const encoded = await tf.io.encodeWeights(optimizerWeights, 'optimizer');
    return {
      ...artifacts,
      trainingConfig: (
        model as unknown as { getTrainingConfig(): tf.io.TrainingConfig }
      ).getTrainingConfig(),
      weightSpecs: [...(artifacts.weightSpecs ?? []), ...encoded.specs],
      weightData: tf.io.concatenateArrayBuffers([
        weightBytes(artifacts).buffer as ArrayBuffer,
        encoded.data,
      ]),
    };
  } finally {
    // Only the iteration count is a fresh tensor; the others are Adam's live moments.
    tf.dispose(optimizerWeights.filter((w) => w.name === 'iter').map((w) => w.tensor));
  }
}

/** Topology and weights in memory, without the optimizer: what inference needs. */
export async function modelArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let captured: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const artifacts = captured as tf.io.ModelArtifacts | null;
  if (!artifacts) throw new CheckpointError('model.save produced no artifacts');
  return artifacts;
}

export function weightBytes(artifacts: tf.io.ModelArtifacts): Uint8Array {
  const data = artifacts.weightData;
  if (data === undefined) return new Uint8Array(0);
  const buffers = Array.isArray(data) ? data : [data];
  return new Uint8Array(tf.io.concatenateArrayBuffers(buffers));
}

export async function saveCheckpoint(
  root: string,
  runId: string,
  epoch: number,
  model: tf.LayersModel,
  metrics: EpochMetrics,
): Promise<string> {
  const dir = runDir(root, runId);
  const artifacts = await serialise(model);
  const weights = weightBytes(artifacts);
  const modelJson = JSON.stringify({
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: 'MNIST Studio',
    modelTopology: artifacts.modelTopology,
    trainingConfig: artifacts.trainingConfig,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
  });
  const metricsJson = JSON.stringify(metrics, null, 2);
  const files: Record<string, Uint8Array> = {
    [MODEL_FILE]: Buffer.from(modelJson),
    [WEIGHTS_FILE]: weights,
    [METRICS_FILE]: Buffer.from(metricsJson),
  };

  const finalDir = path.join(dir, epochDirName(epoch));
  const tmpDir = path.join(
    dir,
    `.${epochDirName(epoch)}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`,
  );
  mkdirSync(tmpDir);
  const manifest = {
    epoch,
    savedAt: new Date().toISOString(),
    files: {} as Record<string, { bytes: number; sha256: string }>,
  };
  for (const [name, data] of Object.entries(files)) {
    writeDurable(path.join(tmpDir, name), data);
    manifest.files[name] = { bytes: data.length, sha256: sha256(data) };
  }
  // The manifest goes last: a folder without one is never valid, even if renamed by hand.
  writeDurable(path.join(tmpDir, MANIFEST_FILE), JSON.stringify(manifest, null, 2));
  fsyncDir(tmpDir);
  if (existsSync(finalDir)) rmSync(finalDir, { recursive: true, force: true });
  renameSync(tmpDir, finalDir);
  fsyncDir(dir);
  return finalDir;
}

/** Leftovers of a process killed mid-write: invisible to listings, removed when the run is touched. */
export function removeStaleTempDirs(root: string, runId: string): void {
  const dir = runDir(root, runId);
  for (const name of readdirSync(dir)) {
    if (name.startsWith('.epoch-') && name.includes('.tmp-'))
      rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}

interface Verified {
  epoch: number;
  modelJson: {
    modelTopology: unknown;
    trainingConfig?: unknown;
    weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[];
  };
  weights: Uint8Array;
  metrics: EpochMetrics;
  bytes: number;
  savedAt: string;
}

/** Checks everything that can be checked without building the model; throws with the reason. */
function verifyCheckpoint(dir: string, epoch: number): Verified {
  const fail = (why: string): never => {
    throw new CheckpointError(why);
  };
  const read = (name: string): Buffer => {
    const file = path.join(dir, name);
    if (!existsSync(file)) fail(`${name} is missing`);
    return readFileSync(file);
  };
  let manifestRaw: unknown;
  try {
    manifestRaw = JSON.parse(read(MANIFEST_FILE).toString('utf8'));
  } catch (error) {
    if (error instanceof CheckpointError) throw error;
    fail(`${MANIFEST_FILE} is not valid JSON`);
  }
  const manifest = ManifestSchema.safeParse(manifestRaw);
  if (!manifest.success) fail(`${MANIFEST_FILE} is malformed`);
  const { files, savedAt } = manifest.data!;
  if (manifest.data!.epoch !== epoch)
    fail(`${MANIFEST_FILE} is for epoch ${manifest.data!.epoch}, not ${epoch}`);
  const contents: Record<string, Buffer> = {};
  let bytes = 0;
  for (const name of [MODEL_FILE, WEIGHTS_FILE, METRICS_FILE]) {
    const expected = files[name];
    if (!expected) fail(`${MANIFEST_FILE} does not list ${name}`);
    const data = read(name);
    if (data.length !== expected!.bytes) {
      fail(
        `${name} is ${data.length} bytes, expected ${expected!.bytes}${data.length < expected!.bytes ? ' (truncated)' : ''}`,
      );
    }
    if (sha256(data) !== expected!.sha256) fail(`${name} is corrupted (checksum mismatch)`);
    contents[name] = data;
    bytes += data.length;
  }
  let modelJson: Verified['modelJson'];
  let metrics: EpochMetrics;
  try {
    modelJson = JSON.parse(contents[MODEL_FILE]!.toString('utf8'));
  } catch {
    return fail(`${MODEL_FILE} is not valid JSON`);
  }
  if (!modelJson?.modelTopology || !Array.isArray(modelJson.weightsManifest))
    fail(`${MODEL_FILE} has no model topology or weights manifest`);
  try {
    metrics = EpochMetricsSchema.parse(JSON.parse(contents[METRICS_FILE]!.toString('utf8')));
  } catch {
    return fail(`${METRICS_FILE} is malformed`);
  }
  const expectedWeightBytes = modelJson.weightsManifest
    .flatMap((g) => g.weights)
    .reduce((sum, w) => sum + w.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (expectedWeightBytes !== contents[WEIGHTS_FILE]!.length) {
    fail(
      `${WEIGHTS_FILE} holds ${contents[WEIGHTS_FILE]!.length} bytes but model.json describes ${expectedWeightBytes}`,
    );
  }
  return {
    epoch,
    modelJson,
    weights: new Uint8Array(contents[WEIGHTS_FILE]!),
    metrics,
    bytes,
    savedAt,
  };
}

export function checkpointEpochs(dir: string): number[] {
  return readdirSync(dir)
    .map((name) => EPOCH_DIR.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .filter((e) => e >= 1)
    .sort((a, b) => a - b);
}

/**
 * Listings run after every epoch while the Checkpoints panel is open, and hashing every
 * checkpoint of every run each time would stall training. A checkpoint whose files have the same
 * size, inode and times as when it was last verified keeps its verdict; loading always verifies.
 */
const inspected = new Map<string, { stamp: string; info: CheckpointInfo }>();

function fileStamp(dir: string): string {
  return [MANIFEST_FILE, MODEL_FILE, WEIGHTS_FILE, METRICS_FILE]
    .map((name) => {
      try {
        const s = statSync(path.join(dir, name));
        return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
      } catch {
        return '-';
      }
    })
    .join('|');
}

export function inspectCheckpoint(root: string, runId: string, epoch: number): CheckpointInfo {
  const dir = path.join(runDir(root, runId), epochDirName(epoch));
  const stamp = fileStamp(dir);
  const cached = inspected.get(dir);
  if (cached?.stamp === stamp) return cached.info;
  const info = verifyForListing(dir, epoch);
  inspected.set(dir, { stamp, info });
  return info;
}

function verifyForListing(dir: string, epoch: number): CheckpointInfo {
  try {
    const v = verifyCheckpoint(dir, epoch);
    return {
      epoch,
      status: 'ok',
      reason: null,
      metrics: v.metrics,
      bytes: v.bytes,
      savedAt: v.savedAt,
    };
  } catch (error) {
    let bytes = 0;
    try {
      bytes = readdirSync(dir).reduce((sum, f) => sum + statSync(path.join(dir, f)).size, 0);
    } catch {
      /* unreadable folder: size unknown */
    }
    return {
      epoch,
      status: 'damaged',
      reason: (error as Error).message,
      metrics: null,
      bytes,
      savedAt: null,
    };
  }
}

export interface LoadedCheckpoint {
  model: tf.LayersModel;
  epoch: number;
  metrics: EpochMetrics;
  run: RunFile;
  /** From the manifest: tells a cached copy from files rewritten since. */
  savedAt: string;
}

/** Loads the given epoch, or the latest valid one; a damaged checkpoint is refused with its reason. */
export async function loadCheckpoint(
  root: string,
  runId: string,
  epoch: number | null,
): Promise<LoadedCheckpoint> {
  const run = readRun(root, runId);
  const dir = runDir(root, runId);
  let chosen = epoch;
  if (chosen === null) {
    const valid = checkpointEpochs(dir).filter(
      (e) => inspectCheckpoint(root, runId, e).status === 'ok',
    );
    if (valid.length === 0) throw new CheckpointError(`run ${runId} has no valid checkpoint`);
    chosen = valid[valid.length - 1]!;
  }
  const epochDir = path.join(dir, epochDirName(chosen));
  if (!existsSync(epochDir))
    throw new CheckpointError(`run ${runId} has no checkpoint for epoch ${chosen}`);
  let verified: Verified;
  try {
    verified = verifyCheckpoint(epochDir, chosen);
  } catch (error) {
    throw new CheckpointError(
      `checkpoint ${runId} epoch ${chosen} is damaged: ${(error as Error).message}`,
    );
  }
  const weightSpecs = verified.modelJson.weightsManifest.flatMap((g) => g.weights);
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: verified.modelJson.modelTopology as tf.io.ModelArtifacts['modelTopology'],
        trainingConfig: verified.modelJson.trainingConfig as tf.io.TrainingConfig | undefined,
        weightSpecs,
        weightData: verified.weights.slice().buffer,
      }),
    );
  } catch (error) {
    throw new CheckpointError(
      `checkpoint ${runId} epoch ${chosen} is damaged: ${(error as Error).message}`,
    );
  }
  return { model, epoch: chosen, metrics: verified.metrics, run, savedAt: verified.savedAt };
}

// ---------------------------------------------------------------- listing and deleting

/** A run whose own files cannot be read: listed, with the reason, never hidden. */
function damagedRun(runId: string, reason: string): RunInfo {
  return {
    runId,
    status: 'damaged',
    reason,
    model: null,
    config: null,
    backend: null,
    createdAt: null,
    updatedAt: null,
    epochsDone: 0,
    bestValAccuracy: null,
    checkpoints: [],
    branchedFrom: null,
    history: [],
  };
}

/** Who trains a run, when it is another process: the panel and `list` say so. */
function trainedElsewhere(lock: LockState): string | null {
  if (lock.state !== 'held' || lock.info.pid === process.pid) return null;
  return `being trained by ${describeHolder(lock.info)}`;
}

/** Null for a run folder that holds only its trainer's fresh lock: run.json is on its way. */
export function describeRun(root: string, runId: string): RunInfo | null {
  const dir = runDir(root, runId);
  const checkpoints = checkpointEpochs(dir).map((e) => inspectCheckpoint(root, runId, e));
  const okOnes = checkpoints.filter((c) => c.status === 'ok');
  const valAccs = okOnes
    .map((c) => c.metrics?.valAccuracy)
    .filter((v): v is number => typeof v === 'number');
  const base = {
    runId,
    checkpoints,
    epochsDone: okOnes.length ? Math.max(...okOnes.map((c) => c.epoch)) : 0,
    bestValAccuracy: valAccs.length ? Math.max(...valAccs) : null,
  };
  const lock = runLockState(root, runId);
  let run: RunFile;
  try {
    run = readRun(root, runId);
  } catch (error) {
    if (lock.state === 'held' && !existsSync(path.join(runDir(root, runId), 'run.json')))
      return null;
    return { ...damagedRun(runId, (error as Error).message), ...base };
  }
  // Only the lock tells a live run: run.json's pid may since belong to another process. A run
  // still marked running without a live owner was killed: say so instead of "running".
  const crashed = run.status === 'running' && lock.state !== 'held';
  const crashReason =
    lock.state === 'stale' && lock.info
      ? `the training process (pid ${lock.info.pid}, ${lock.info.owner}) ended unexpectedly`
      : 'the training process ended unexpectedly';
  return {
    ...base,
    branchedFrom: run.branchedFrom,
    history: readMetricsLog(root, runId),
    status: crashed ? 'crashed' : run.status,
    reason: crashed ? (run.reason ?? crashReason) : (run.reason ?? trainedElsewhere(lock)),
    model: run.config.model,
    config: run.config,
    backend: run.backend,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
  };
}

export function listRuns(root: string): RunInfo[] {
  if (!existsSync(root)) return [];
  const runs: RunInfo[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || !RUN_ID_PATTERN.test(entry.name)) continue;
    try {
      const run = describeRun(root, entry.name);
      if (run) runs.push(run);
    } catch (error) {
      runs.push(damagedRun(entry.name, (error as Error).message));
    }
  }
  // Newest first; ids start with a UTC timestamp, so they order runs whose run.json is damaged too.
  return runs.sort(
    (a, b) =>
      (b.createdAt ?? b.runId).localeCompare(a.createdAt ?? a.runId) ||
      b.runId.localeCompare(a.runId),
  );
}

/**
 * Deleting writes the run too, so it takes the run's lock like a trainer: a run another process
 * trains is refused with its owner's name, and nobody can start training it mid-delete.
 */
export function deleteCheckpoints(
  root: string,
  runId: string,
  epoch: number | null,
  owner = 'MNIST Studio',
): void {
  const dir = runDir(root, runId);
  if (!existsSync(dir)) throw new CheckpointError(`run ${runId} not found`);
  const lock = acquireRunLock(root, runId, `${owner}, deleting`);
  if (epoch === null) {
    // The lock goes with the folder. Renamed first, so a crash mid-delete leaves a dot-named
    // leftover that no listing shows, not half a run.
    const doomed = path.join(root, `.${runId}.tmp-deleting-${randomBytes(3).toString('hex')}`);
    try {
      renameSync(dir, doomed);
    } catch (error) {
      lock.release();
      throw error;
    }
    rmSync(doomed, { recursive: true, force: true });
    return;
  }
  try {
    const epochDir = path.join(dir, epochDirName(epoch));
    if (!existsSync(epochDir))
      throw new CheckpointError(`run ${runId} has no checkpoint for epoch ${epoch}`);
    // Rename first so a crash mid-delete leaves a hidden leftover, not a half-deleted "valid" folder.
    const doomed = path.join(
      dir,
      `.${epochDirName(epoch)}.tmp-deleting-${randomBytes(3).toString('hex')}`,
    );
    renameSync(epochDir, doomed);
    rmSync(doomed, { recursive: true, force: true });
  } finally {
    lock.release();
  }
}

export function latestCheckpointEpoch(root: string, runId: string): number | null {
  const dir = runDir(root, runId);
  if (!existsSync(dir)) throw new CheckpointError(`run ${runId} not found`);
  const epochs = checkpointEpochs(dir);
  return epochs.length ? epochs[epochs.length - 1]! : null;
}
