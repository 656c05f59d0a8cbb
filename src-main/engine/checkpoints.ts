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
import { printable } from './printable';

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
export async function serialise(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
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
  const manifest = {
    epoch,
    savedAt: new Date().toISOString(),
    files: {} as Record<string, { bytes: number; sha256: string }>,
  };
  try {
    mkdirSync(tmpDir);
    for (const [name, data] of Object.entries(files)) {
      writeDurable(path.join(tmpDir, name), data);
      manifest.files[name] = { bytes: data.length, sha256: sha256(data) };
    }
    // The manifest goes last: a folder without one is never valid, even if renamed by hand.
    writeDurable(path.join(tmpDir, MANIFEST_FILE), JSON.stringify(manifest, null, 2));
    fsyncDir(tmpDir);
    if (existsSync(finalDir)) rmSync(finalDir, { recursive: true, force: true });
    renameSync(tmpDir, finalDir);
  } catch (error) {
    // A half-written copy is useless, and on a full disk its space is what the run needs to
    // record that it failed.
    try {
      rmSync(tmpDir, { recursive: true, force: true });
    } catch {
      // A folder turned read-only keeps it; removeStaleTempDirs clears it when the run is resumed.
    }
    throw error;
  }
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

/** Real manifests and metrics files are under 1 KB; anything this big is not one of ours. */
const SMALL_FILE_LIMIT = 1 << 20;
/** The largest preset's model.json is a few KB. */
const TOPOLOGY_LIMIT = 16 << 20;

/**
 * Checks everything that can be checked against the manifest; throws with the reason. Sizes are
 * compared before anything is read: a 700 MB stray weights.bin once took the worker from 166 to
 * 836 MB just to be listed as damaged.
 */
async function verifyCheckpoint(dir: string, epoch: number): Promise<Verified> {
  const fail = (why: string): never => {
    throw new CheckpointError(why);
  };
  const sizeOf = (name: string): number => {
    let stat;
    try {
      stat = statSync(path.join(dir, name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return fail(`${name} is missing`);
      throw error;
    }
    if (!stat.isFile()) fail(`${name} is not a file`);
    return stat.size;
  };
  const read = (name: string): Buffer => readFileSync(path.join(dir, name));
  const manifestBytes = sizeOf(MANIFEST_FILE);
  if (manifestBytes > SMALL_FILE_LIMIT)
    fail(`${MANIFEST_FILE} is ${manifestBytes} bytes, far too large for a manifest`);
  let manifestRaw: unknown;
  try {
    manifestRaw = JSON.parse(read(MANIFEST_FILE).toString('utf8'));
  } catch {
    fail(`${MANIFEST_FILE} is not valid JSON`);
  }
  const manifest = ManifestSchema.safeParse(manifestRaw);
  if (!manifest.success) fail(`${MANIFEST_FILE} is malformed`);
  const { files, savedAt } = manifest.data!;
  if (manifest.data!.epoch !== epoch)
    fail(`${MANIFEST_FILE} is for epoch ${manifest.data!.epoch}, not ${epoch}`);
  const names = [MODEL_FILE, WEIGHTS_FILE, METRICS_FILE];
  let bytes = 0;
  for (const name of names) {
    const expected = files[name];
    if (!expected) fail(`${MANIFEST_FILE} does not list ${name}`);
    const size = sizeOf(name);
    if (size !== expected!.bytes) {
      fail(
        `${name} is ${size} bytes, expected ${expected!.bytes}${size < expected!.bytes ? ' (truncated)' : ''}`,
      );
    }
    bytes += size;
  }
  const readVerified = (name: string): Buffer => {
    const data = read(name);
    // Checked again on the bytes read: the file may have changed since it was measured.
    if (data.length !== files[name]!.bytes || sha256(data) !== files[name]!.sha256)
      fail(`${name} is corrupted (checksum mismatch)`);
    return data;
  };
  // The small files first: model.json says how big weights.bin must be before it is read.
  for (const [name, limit] of [
    [MODEL_FILE, TOPOLOGY_LIMIT],
    [METRICS_FILE, SMALL_FILE_LIMIT],
  ] as const) {
    if (files[name]!.bytes > limit)
      fail(`${name} is ${files[name]!.bytes} bytes, far too large for a ${name}`);
  }
  let modelJson: Verified['modelJson'];
  let metrics: EpochMetrics;
  try {
    modelJson = JSON.parse(readVerified(MODEL_FILE).toString('utf8'));
  } catch (error) {
    if (error instanceof CheckpointError) throw error;
    return fail(`${MODEL_FILE} is not valid JSON`);
  }
  if (!modelJson?.modelTopology || !Array.isArray(modelJson.weightsManifest))
    fail(`${MODEL_FILE} has no model topology or weights manifest`);
  try {
    metrics = EpochMetricsSchema.parse(JSON.parse(readVerified(METRICS_FILE).toString('utf8')));
  } catch (error) {
    if (error instanceof CheckpointError) throw error;
    return fail(`${METRICS_FILE} is malformed`);
  }
  const expectedWeightBytes = modelJson.weightsManifest
    .flatMap((g) => g.weights)
    .reduce((sum, w) => sum + w.shape.reduce((a, b) => a * b, 1) * 4, 0);
  if (expectedWeightBytes !== files[WEIGHTS_FILE]!.bytes) {
    fail(
      `${WEIGHTS_FILE} holds ${files[WEIGHTS_FILE]!.bytes} bytes but model.json describes ${expectedWeightBytes}`,
    );
  }
  const weights = readVerified(WEIGHTS_FILE);
  const mismatch = await topologyMismatch(modelJson);
  if (mismatch !== null) fail(mismatch);
  return {
    epoch,
    modelJson,
    weights: new Uint8Array(weights),
    metrics,
    bytes,
    savedAt,
  };
}

const shapeText = (shape: readonly (number | null)[]) => `[${shape.join(', ')}]`;

/**
 * A topology edited apart from its weights (a layer removed, a kernel transposed) passes every
 * checksum yet cannot load. Building the model from the topology alone (no weights are loaded)
 * and comparing each of its weights with the manifest catches it at listing time. Adam's state
 * (group "optimizer") has no counterpart in the model and is left out.
 */
async function topologyMismatch(modelJson: Verified['modelJson']): Promise<string | null> {
  const specs = new Map(
    modelJson.weightsManifest
      .flatMap((g) => g.weights)
      .filter((w) => w.group !== 'optimizer')
      .map((w) => [w.name, w.shape] as const),
  );
  let model: tf.LayersModel;
  try {
    model = await tf.models.modelFromJSON({
      modelTopology: modelJson.modelTopology as tf.io.ModelArtifacts['modelTopology'],
    } as tf.io.ModelJSON);
  } catch (error) {
    return `${MODEL_FILE} holds a topology that cannot be built (${printable((error as Error).message)})`;
  }
  try {
    for (const weight of model.weights) {
      const name = weight.originalName;
      const shape = specs.get(name);
      if (shape === undefined)
        return `${MODEL_FILE}'s topology needs ${name}, which the weights manifest does not hold`;
      if (shapeText(shape) !== shapeText(weight.shape))
        return `${name} is ${shapeText(shape)} in the weights manifest but the topology needs ${shapeText(weight.shape)}`;
      specs.delete(name);
    }
    const extra = [...specs.keys()];
    if (extra.length > 0)
      return `the weights manifest holds ${extra.join(', ')}, which ${MODEL_FILE}'s topology does not have`;
    return null;
  } finally {
    model.dispose();
  }
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

export async function inspectCheckpoint(
  root: string,
  runId: string,
  epoch: number,
): Promise<CheckpointInfo> {
  const dir = path.join(runDir(root, runId), epochDirName(epoch));
  const stamp = fileStamp(dir);
  const cached = inspected.get(dir);
  if (cached?.stamp === stamp) return cached.info;
  const info = await verifyForListing(dir, epoch);
  inspected.set(dir, { stamp, info });
  return info;
}

async function verifyForListing(dir: string, epoch: number): Promise<CheckpointInfo> {
  try {
    const v = await verifyCheckpoint(dir, epoch);
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
      // Weight and layer names in the reason come from the files themselves.
      reason: printable((error as Error).message),
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
    chosen = (await latestValidCheckpoint(root, runId)).epoch;
  }
  const epochDir = path.join(dir, epochDirName(chosen));
  if (!existsSync(epochDir))
    throw new CheckpointError(`run ${runId} has no checkpoint for epoch ${chosen}`);
  let verified: Verified;
  try {
    verified = await verifyCheckpoint(epochDir, chosen);
  } catch (error) {
    throw new CheckpointError(
      `checkpoint ${runId} epoch ${chosen} is damaged: ${printable((error as Error).message)}`,
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
      `checkpoint ${runId} epoch ${chosen} is damaged: ${printable((error as Error).message)}`,
    );
  }
  restoreAdamPowers(model.optimizer);
  return { model, epoch: chosen, metrics: verified.metrics, run, savedAt: verified.savedAt };
}

/** The parts of tfjs' Adam whose restore this corrects. */
interface AdamPowers {
  beta1: number;
  beta2: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  iterations_: number | undefined;
}

/**
 * tfjs' Adam restores its bias-correction powers as pow(β, t + 1), while training multiplies
 * them by β once a step in float32 (tfjs' own update and every engine of ours): the two differ
 * in their last bits, and a resumed run drifted from the uninterrupted one (by up to 1 % of an
 * epoch's step on cnn-fast). Rebuilt here the way training builds them, so a resume continues
 * with the very numbers the run had.
 */
export function restoreAdamPowers(optimizer: tf.Optimizer | undefined): void {
  if (optimizer?.getClassName() !== 'Adam') return;
  const adam = optimizer as unknown as AdamPowers;
  const steps = adam.iterations_ ?? 0;
  const power = (beta: number) => {
    const b = Math.fround(beta);
    let acc = b;
    for (let i = 0; i < steps; i++) acc = Math.fround(acc * b);
    return acc;
  };
  tf.tidy(() => {
    adam.accBeta1.assign(tf.scalar(power(adam.beta1)));
    adam.accBeta2.assign(tf.scalar(power(adam.beta2)));
  });
}

// ---------------------------------------------------------------- listing and deleting

/** A run whose own files cannot be read: listed, with the reason, never hidden. */
function damagedRun(runId: string, reason: string): RunInfo {
  return {
    runId,
    name: null,
    evaluations: [],
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
export async function describeRun(root: string, runId: string): Promise<RunInfo | null> {
  const dir = runDir(root, runId);
  const checkpoints: CheckpointInfo[] = [];
  // One at a time: each may build a model to check its shapes.
  for (const e of checkpointEpochs(dir)) checkpoints.push(await inspectCheckpoint(root, runId, e));
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
    return { ...damagedRun(runId, printable((error as Error).message)), ...base };
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
    reason: crashed
      ? printable(run.reason ?? crashReason)
      : run.reason
        ? printable(run.reason)
        : trainedElsewhere(lock),
    name: run.name,
    // Only results of checkpoints that still exist: a deleted epoch's result says nothing now.
    evaluations: run.evaluations.filter((e) => okOnes.some((c) => c.epoch === e.epoch)),
    model: run.config.model,
    config: run.config,
    backend: run.backend,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    ...(run.sweep ? { sweep: run.sweep } : {}),
  };
}

export async function listRuns(root: string): Promise<RunInfo[]> {
  if (!existsSync(root)) return [];
  const runs: RunInfo[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || !RUN_ID_PATTERN.test(entry.name)) continue;
    try {
      const run = await describeRun(root, entry.name);
      if (run) runs.push(run);
    } catch (error) {
      runs.push(damagedRun(entry.name, printable((error as Error).message)));
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

/**
 * The newest checkpoint that verifies, and the newer ones passed over because they are damaged
 * (newest first, with their reasons), so a resume or restore can say which it used and why.
 */
export async function latestValidCheckpoint(
  root: string,
  runId: string,
): Promise<{ epoch: number; skipped: { epoch: number; reason: string }[] }> {
  const dir = runDir(root, runId);
  if (!existsSync(dir)) throw new CheckpointError(`run ${runId} not found`);
  const skipped: { epoch: number; reason: string }[] = [];
  for (const epoch of checkpointEpochs(dir).reverse()) {
    const info = await inspectCheckpoint(root, runId, epoch);
    if (info.status === 'ok') return { epoch, skipped };
    skipped.push({ epoch, reason: info.reason ?? 'damaged' });
  }
  if (skipped.length === 0) throw new CheckpointError(`run ${runId} has no checkpoint`);
  throw new CheckpointError(
    `run ${runId} has no valid checkpoint: ${skipped
      .map((s) => `epoch ${s.epoch} ${s.reason}`)
      .join('; ')}`,
  );
}

export function latestCheckpointEpoch(root: string, runId: string): number | null {
  const dir = runDir(root, runId);
  if (!existsSync(dir)) throw new CheckpointError(`run ${runId} not found`);
  const epochs = checkpointEpochs(dir);
  return epochs.length ? epochs[epochs.length - 1]! : null;
}
