import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { SweepBest, SweepSpec, SweepTrialCounts } from '../../contract/sweep';
import { RUN_ID_PATTERN } from '../../contract/messages';
import { deleteCheckpoints } from '../checkpoints';
import { printable } from '../printable';
import { acquireRunLock, describeHolder, runLockState, RunLockedError } from '../run-lock';
import { readRun } from '../runs';
import { readSweepJournal, sweepDir, SWEEPS_DIR, SweepJournalError } from './journal';
import { bestTrial } from './best';
import { trialCounts } from './runner';

/** Sweeps as `sweep list` shows them, and deleting one. */

export type SweepSummary =
  | {
      sweepId: string;
      /**
       * running: a live process drives it; interrupted: its journal says running but no process
       * holds it (killed): `sweep resume` takes it up.
       */
      status: 'running' | 'interrupted' | 'finished' | 'stopped';
      preset: SweepSpec['preset'];
      strategy: SweepSpec['strategy'];
      budget: SweepSpec['budget'];
      createdAt: string;
      updatedAt: string;
      seconds: number;
      trials: SweepTrialCounts;
      best: SweepBest | null;
      reason: null;
    }
  | { sweepId: string; status: 'damaged'; reason: string };

const sweepsRoot = (root: string) => path.join(path.resolve(root), SWEEPS_DIR);

/** Every sweep under the checkpoints folder, newest first; a damaged journal is listed as such. */
export function listSweeps(root: string): SweepSummary[] {
  const dir = sweepsRoot(root);
  if (!existsSync(dir)) return [];
  const ids = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && RUN_ID_PATTERN.test(e.name))
    .map((e) => e.name)
    .sort()
    .reverse();
  return ids.map((sweepId): SweepSummary => {
    try {
      const journal = readSweepJournal(root, sweepId);
      const live = runLockState(dir, sweepId).state === 'held';
      return {
        sweepId,
        status: journal.status === 'running' && !live ? 'interrupted' : journal.status,
        preset: journal.spec.preset,
        strategy: journal.spec.strategy,
        budget: journal.spec.budget,
        createdAt: journal.createdAt,
        updatedAt: journal.updatedAt,
        seconds: journal.spentSeconds,
        trials: trialCounts(journal),
        best: bestTrial(journal),
        reason: null,
      };
    } catch (error) {
      return { sweepId, status: 'damaged', reason: printable((error as Error).message) };
    }
  });
}

/** The runs tagged with a sweep's id: every attempt of every trial, reruns included. */
export function sweepRuns(root: string, sweepId: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && RUN_ID_PATTERN.test(e.name))
    .map((e) => e.name)
    .filter((runId) => {
      try {
        return readRun(root, runId).sweep?.id === sweepId;
      } catch {
        return false;
      }
    })
    .sort();
}

/**
 * Deletes a sweep's journal folder and, with `runs`, its trial runs (each under its own lock, so
 * a run another process trains is refused). A sweep a live process drives is refused first.
 */
export function deleteSweep(
  root: string,
  sweepId: string,
  { runs = false, owner = 'MNIST Studio' }: { runs?: boolean; owner?: string } = {},
): { sweepId: string; runsDeleted: string[] } {
  const dir = sweepDir(root, sweepId);
  if (!existsSync(dir)) throw new SweepJournalError(`sweep ${sweepId} not found`);
  let lock;
  try {
    lock = acquireRunLock(sweepsRoot(root), sweepId, `${owner}, deleting`);
  } catch (error) {
    if (error instanceof RunLockedError)
      throw new SweepJournalError(
        `sweep ${sweepId} is being run by ${describeHolder(error.holder)}; stop it first`,
      );
    throw error;
  }
  const runsDeleted: string[] = [];
  try {
    if (runs)
      for (const runId of sweepRuns(root, sweepId)) {
        deleteCheckpoints(root, runId, null, owner);
        runsDeleted.push(runId);
      }
  } catch (error) {
    lock.release();
    throw error;
  }
  // Renamed first, as runs are: a crash mid-delete leaves a dot-named leftover, not half a sweep.
  const doomed = path.join(
    sweepsRoot(root),
    `.${sweepId}.tmp-deleting-${randomBytes(3).toString('hex')}`,
  );
  renameSync(dir, doomed);
  rmSync(doomed, { recursive: true, force: true });
  return { sweepId, runsDeleted };
}
