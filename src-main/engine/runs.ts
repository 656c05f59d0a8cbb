import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { TrainConfigSchema, type TrainConfig } from '../contract/config';
import {
  BackendNameSchema,
  BranchSchema,
  EpochMetricsSchema,
  RUN_ID_PATTERN,
  RUN_STATUSES,
  RunEvaluationSchema,
  RunNameSchema,
  SweepTagSchema,
  type EpochMetrics,
  type RunEvaluation,
} from '../contract/messages';
import { printable } from './printable';
import { isStorageFailure, makeDirs } from './storage';

/**
 * A run's own files: run.json (config, backend, status, times) and metrics.jsonl. No TensorFlow
 * here, so the host in the Electron main process can mark a run crashed without loading tfjs.
 */

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

export const RunFileSchema = z.object({
  runId: z.string().regex(RUN_ID_PATTERN),
  config: TrainConfigSchema,
  backend: BackendNameSchema,
  status: z.enum(RUN_STATUSES),
  reason: z.string().nullable().default(null),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** Process that owns a running run, to tell a live run from one whose worker died. */
  pid: z.number().int().nullable(),
  /** The run and checkpoint this one continues (resumed from a checkpoint before the latest). */
  branchedFrom: BranchSchema.nullable().default(null),
  /** The user's name for the run (Checkpoints panel); runs written before names had none. */
  name: RunNameSchema.nullable().default(null),
  /** Test-set results of evaluated checkpoints, one per epoch, the latest evaluation kept. */
  evaluations: z.array(RunEvaluationSchema).default([]),
  /** The sweep trial this run is; absent for runs started by hand (and every older run.json). */
  sweep: SweepTagSchema.optional(),
});
export type RunFile = z.infer<typeof RunFileSchema>;

const RUN_FILE = 'run.json';
export const METRICS_LOG = 'metrics.jsonl';

/** Validates the id and that the folder stays inside the checkpoint root (no path tricks). */
export function runDir(root: string, runId: string): string {
  if (!RUN_ID_PATTERN.test(runId))
    throw new CheckpointError(`invalid run id ${JSON.stringify(runId)}`);
  const dir = path.resolve(root, runId);
  if (path.dirname(dir) !== path.resolve(root))
    throw new CheckpointError(`invalid run id ${JSON.stringify(runId)}`);
  return dir;
}

export function newRunId(model: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${model}-${randomBytes(2).toString('hex')}`;
}

export function writeDurable(file: string, data: string | Uint8Array): void {
  const fd = openSync(file, 'w');
  try {
    // writeFileSync on a descriptor loops until every byte is written (writeSync may not).
    writeFileSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function fsyncDir(dir: string): void {
  // Directory fsync makes a rename durable; Windows does not support it, hence best effort.
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* best effort */
  }
}

/** Write to a sibling temp file and rename: readers see the old or the new file, never half. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`;
  try {
    writeDurable(tmp, data);
    renameSync(tmp, file);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}

/**
 * Rewrites a small file over its own blocks (no truncation first). Only for when the atomic
 * write failed for lack of room: that needs space for a second copy, this needs none.
 */
function rewriteInPlace(file: string, data: string): void {
  const bytes = Buffer.from(data);
  const fd = openSync(file, 'r+');
  try {
    writeFileSync(fd, bytes);
    ftruncateSync(fd, bytes.length);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function createRun(
  root: string,
  runId: string,
  config: TrainConfig,
  backend: RunFile['backend'],
  branchedFrom: RunFile['branchedFrom'] = null,
  sweep?: RunFile['sweep'],
): RunFile {
  const dir = runDir(root, runId);
  // The folder may exist already, holding only the lock its trainer took first (run-lock.ts).
  if (existsSync(path.join(dir, RUN_FILE)))
    throw new CheckpointError(`run ${runId} already exists`);
  makeDirs(dir);
  const now = new Date().toISOString();
  const run: RunFile = {
    runId,
    config,
    backend,
    status: 'running',
    reason: null,
    createdAt: now,
    updatedAt: now,
    pid: process.pid,
    name: null,
    evaluations: [],
    branchedFrom,
    ...(sweep ? { sweep } : {}),
  };
  writeFileAtomic(path.join(dir, RUN_FILE), JSON.stringify(run, null, 2));
  return run;
}

export function readRun(root: string, runId: string): RunFile {
  const file = path.join(runDir(root, runId), RUN_FILE);
  if (!existsSync(file)) throw new CheckpointError(`run ${runId} not found`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CheckpointError(
      `run ${runId}: run.json is not valid JSON (${printable((error as Error).message)})`,
    );
  }
  const parsed = RunFileSchema.safeParse(json);
  if (!parsed.success)
    throw new CheckpointError(
      `run ${runId}: run.json is malformed (${printable(parsed.error.issues[0]?.message ?? '')})`,
    );
  return parsed.data;
}

export function updateRun(
  root: string,
  runId: string,
  patch: Partial<Omit<RunFile, 'runId'>>,
): RunFile {
  const next = { ...readRun(root, runId), ...patch, updatedAt: new Date().toISOString() };
  writeFileAtomic(path.join(runDir(root, runId), RUN_FILE), JSON.stringify(next, null, 2));
  return next;
}

/**
 * Records how a run ended, even on a full disk: when the atomic write finds no room, run.json is
 * rewritten in place, because a status that never lands leaves the run looking `running`.
 */
export function recordRunEnd(
  root: string,
  runId: string,
  patch: Pick<RunFile, 'status' | 'reason'>,
): void {
  const next = {
    ...readRun(root, runId),
    ...patch,
    pid: null,
    updatedAt: new Date().toISOString(),
  };
  const file = path.join(runDir(root, runId), RUN_FILE);
  const text = JSON.stringify(next, null, 2);
  try {
    writeFileAtomic(file, text);
  } catch (error) {
    if (!isStorageFailure(error)) throw error;
    rewriteInPlace(file, text);
  }
}

/** Names a run (blank clears the name); returns the name kept. */
export function renameRun(root: string, runId: string, name: string): string | null {
  const trimmed = name.trim();
  const kept = trimmed === '' ? null : trimmed;
  updateRun(root, runId, { name: kept });
  return kept;
}

/** Keeps a checkpoint's test-set result in run.json, replacing an earlier one of that epoch. */
export function recordEvaluation(root: string, runId: string, result: RunEvaluation): void {
  const run = readRun(root, runId);
  const evaluations = [...run.evaluations.filter((e) => e.epoch !== result.epoch), result].sort(
    (a, b) => a.epoch - b.epoch,
  );
  updateRun(root, runId, { evaluations });
}

/** Called by the host when the worker dies mid-run: records why, instead of leaving "running". */
export function markRunCrashed(root: string, runId: string, reason: string): void {
  try {
    if (readRun(root, runId).status === 'running')
      recordRunEnd(root, runId, { status: 'crashed', reason });
  } catch {
    // Nothing to mark: the run never got its run.json, or it was deleted.
  }
}

export function appendMetricsLog(root: string, runId: string, metrics: EpochMetrics): void {
  const file = path.join(runDir(root, runId), METRICS_LOG);
  // A line cut short by a full disk would swallow the next one: start on a fresh line.
  appendFileSync(file, (endsMidLine(file) ? '\n' : '') + JSON.stringify(metrics) + '\n');
}

function endsMidLine(file: string): boolean {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return false;
  }
  if (size === 0) return false;
  const fd = openSync(file, 'r');
  try {
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } finally {
    closeSync(fd);
  }
}

/** Metrics for every epoch, last write wins (a resumed epoch replaces an older line). */
export function readMetricsLog(root: string, runId: string): EpochMetrics[] {
  const file = path.join(runDir(root, runId), METRICS_LOG);
  if (!existsSync(file)) return [];
  const byEpoch = new Map<number, EpochMetrics>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const m = EpochMetricsSchema.parse(JSON.parse(line));
      byEpoch.set(m.epoch, m);
    } catch {
      // A line cut short by a killed process is skipped; the checkpoint's metrics.json has it too.
    }
  }
  return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
}
