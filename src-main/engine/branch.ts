import { cpSync, existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { checkpointEpochs, epochDirName, inspectCheckpoint } from './checkpoints';
import {
  CheckpointError,
  METRICS_LOG,
  newRunId,
  readMetricsLog,
  readRun,
  runDir,
  writeFileAtomic,
  type RunFile,
} from './runs';
import { writeEpochScalars } from './tensorboard';

/**
 * Resuming from a checkpoint before a run's latest would overwrite the later epochs, which are
 * the user's work. Instead the run branches: a new run gets copies of the checkpoints up to the
 * chosen epoch and their metrics, remembers where it came from, and training continues there.
 * The copy is assembled under a dot-name and renamed into place, so a listing never sees half.
 */
export async function branchRun(root: string, runId: string, epoch: number): Promise<string> {
  const source = readRun(root, runId);
  const checkpoint = await inspectCheckpoint(root, runId, epoch);
  if (checkpoint.status !== 'ok')
    throw new CheckpointError(
      `run ${runId}: checkpoint ${epoch} is damaged (${checkpoint.reason ?? 'unknown reason'})`,
    );
  const from = runDir(root, runId);
  const id = newRunId(source.config.model);
  const target = runDir(root, id);
  const staging = path.join(root, `.${id}.tmp-branch`);
  try {
    for (const e of checkpointEpochs(from).filter((e) => e <= epoch)) {
      cpSync(path.join(from, epochDirName(e)), path.join(staging, epochDirName(e)), {
        recursive: true,
      });
    }
    const history = readMetricsLog(root, runId).filter((m) => m.epoch <= epoch);
    writeFileSync(
      path.join(staging, METRICS_LOG),
      history.map((m) => JSON.stringify(m) + '\n').join(''),
    );
    const now = new Date().toISOString();
    const run: RunFile = {
      ...source,
      runId: id,
      status: 'stopped',
      reason: `resumed from run ${runId} at epoch ${epoch}`,
      createdAt: now,
      updatedAt: now,
      pid: null,
      branchedFrom: { runId, epoch },
    };
    writeFileAtomic(path.join(staging, 'run.json'), JSON.stringify(run, null, 2));
    if (existsSync(target)) throw new CheckpointError(`run ${id} already exists`);
    renameSync(staging, target);
    // TensorBoard shows the branch's whole history, as it does for the original run.
    for (const m of history) {
      writeEpochScalars(target, m.epoch, {
        loss: m.loss,
        accuracy: m.accuracy,
        valLoss: m.valLoss ?? undefined,
        valAccuracy: m.valAccuracy ?? undefined,
      });
    }
    return id;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
