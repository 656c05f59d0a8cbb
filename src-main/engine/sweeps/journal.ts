import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { TrainConfigSchema, type TrainConfig } from '../../contract/config';
import { RUN_ID_PATTERN } from '../../contract/messages';
import {
  ChoiceValueSchema,
  SWEEP_STATUSES,
  SweepSpecSchema,
  TRIAL_STATUSES,
  trialConfig,
  type SweepSpec,
  type TrialStatus,
} from '../../contract/sweep';
import { printable } from '../printable';
import { writeFileAtomic } from '../runs';
import { makeDirs, writing } from '../storage';
import type { EpochScore } from './asha';
import type { Point } from './space';
import type { Observation } from './strategies/proposer';

/**
 * A sweep's state, one JSON file rewritten atomically (temp file + rename) after every change,
 * so a kill at any moment leaves the previous or the next state, never half of one. It lives in
 * <checkpoints>/.sweeps/<sweepId>/journal.json: beside the trials' runs, and under a dot-name
 * because run listings take every folder whose name could be a run id as a run.
 *
 * The transitions below are pure (journal in, journal out); the caller writes the result.
 */

export class SweepJournalError extends Error {
  override name = 'SweepJournalError';
}

export const SWEEPS_DIR = '.sweeps';
export const JOURNAL_FILE = 'journal.json';
const JOURNAL_VERSION = 1;

const EpochScoreSchema = z.object({
  epoch: z.number().int().min(1),
  valAccuracy: z.number().min(0).max(1),
});

export const TrialSchema = z.object({
  /** From 1, in the order trials were proposed; the proposer's seed for the trial. */
  number: z.number().int().min(1),
  point: z.record(z.string(), ChoiceValueSchema),
  config: TrainConfigSchema,
  /** The trial's current run (null until it first starts; a rerun may get a new one). */
  runId: z.string().regex(RUN_ID_PATTERN).nullable(),
  status: z.enum(TRIAL_STATUSES),
  /** Times started: more than 1 after the sweep was resumed while the trial ran. */
  attempts: z.number().int().min(0),
  /** Validation accuracy per epoch, in epoch order, one entry per epoch. */
  scores: z.array(EpochScoreSchema),
  /** Why it was pruned or failed. */
  reason: z.string().nullable(),
  proposedAt: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
});
export type Trial = z.infer<typeof TrialSchema>;

export const SweepJournalSchema = z
  .object({
    version: z.literal(JOURNAL_VERSION),
    sweepId: z.string().regex(RUN_ID_PATTERN),
    spec: SweepSpecSchema,
    status: z.enum(SWEEP_STATUSES),
    createdAt: z.string(),
    updatedAt: z.string(),
    /** Wall time of the sessions before this one: the time budget spans restarts. */
    spentSeconds: z.number().min(0),
    trials: z.array(TrialSchema),
  })
  .superRefine((journal, ctx) => {
    journal.trials.forEach((t, i) => {
      if (t.number !== i + 1)
        ctx.addIssue({
          code: 'custom',
          path: ['trials', i, 'number'],
          message: `trial ${i + 1} is numbered ${t.number}: trials must be numbered 1, 2, … once each`,
        });
    });
  });
export type SweepJournal = z.infer<typeof SweepJournalSchema>;

/** Validates the id and keeps the folder inside the sweeps folder (no path tricks). */
export function sweepDir(root: string, sweepId: string): string {
  if (!RUN_ID_PATTERN.test(sweepId))
    throw new SweepJournalError(`invalid sweep id ${JSON.stringify(sweepId)}`);
  return path.join(path.resolve(root), SWEEPS_DIR, sweepId);
}

export const journalPath = (root: string, sweepId: string): string =>
  path.join(sweepDir(root, sweepId), JOURNAL_FILE);

export function newSweepId(preset: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-sweep-${preset}-${randomBytes(2).toString('hex')}`;
}

export function createSweepJournal(
  root: string,
  sweepId: string,
  spec: SweepSpec,
  now = new Date(),
): SweepJournal {
  const file = journalPath(root, sweepId);
  if (existsSync(file)) throw new SweepJournalError(`sweep ${sweepId} already exists`);
  const journal: SweepJournal = {
    version: JOURNAL_VERSION,
    sweepId,
    spec: SweepSpecSchema.parse(spec),
    status: 'running',
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    spentSeconds: 0,
    trials: [],
  };
  writing('creating the sweep journal', root, () => {
    makeDirs(path.dirname(file));
    writeFileAtomic(file, JSON.stringify(journal, null, 2));
  });
  return journal;
}

export function writeSweepJournal(
  root: string,
  journal: SweepJournal,
  now = new Date(),
): SweepJournal {
  const next = { ...journal, updatedAt: now.toISOString() };
  // A full or read-only disk comes out as a StorageError the user can act on, as for runs.
  writing('writing the sweep journal', root, () =>
    writeFileAtomic(journalPath(root, journal.sweepId), JSON.stringify(next, null, 2)),
  );
  return next;
}

/** Reads and validates a journal without changing anything on disk (listings use this). */
export function readSweepJournal(root: string, sweepId: string): SweepJournal {
  const file = journalPath(root, sweepId);
  if (!existsSync(file)) {
    const kept = damagedCopies(root, sweepId);
    throw new SweepJournalError(
      kept.length > 0
        ? `sweep ${sweepId}: no journal; its damaged journal was kept as ${kept.join(', ')}`
        : `sweep ${sweepId} not found`,
    );
  }
  const problem = journalProblem(readFileSync(file, 'utf8'));
  if (typeof problem === 'string')
    throw new SweepJournalError(`sweep ${sweepId}: ${JOURNAL_FILE} is damaged (${problem})`);
  return problem.journal;
}

/**
 * Takes a sweep up again after its process ended, however it ended: temp files of a write cut
 * short are removed (the journal beside them is the last complete state), and trials that were
 * running are marked interrupted, to be resumed from their checkpoint or rerun under the same
 * number — they were counted against the budget when proposed and are not counted again.
 * Finished, pruned and failed trials are kept as they are.
 *
 * A damaged journal is moved aside (journal.json.damaged-<time>) before the error is thrown,
 * so nothing later writes over it; the trials' runs are untouched.
 */
export function resumeSweepJournal(
  root: string,
  sweepId: string,
  now = new Date(),
): { journal: SweepJournal; toRun: Trial[] } {
  const file = journalPath(root, sweepId);
  removeStaleTemps(path.dirname(file));
  if (existsSync(file)) {
    const problem = journalProblem(readFileSync(file, 'utf8'));
    if (typeof problem === 'string') {
      const kept = `${file}.damaged-${now.toISOString().replace(/[:.]/g, '-')}`;
      renameSync(file, kept);
      throw new SweepJournalError(
        `sweep ${sweepId}: ${JOURNAL_FILE} is damaged (${problem}); kept it as ${kept}, ` +
          `the trials' runs are untouched`,
      );
    }
  }
  const read = readSweepJournal(root, sweepId);
  const journal = writeSweepJournal(
    root,
    {
      ...read,
      status: read.status === 'stopped' ? 'running' : read.status,
      trials: read.trials.map((t) =>
        t.status === 'running' ? { ...t, status: 'interrupted' as const } : t,
      ),
    },
    now,
  );
  return { journal, toRun: trialsToRun(journal) };
}

/** Trials proposed but not done: interrupted ones first (they were started earlier), then pending. */
export function trialsToRun(journal: SweepJournal): Trial[] {
  return [
    ...journal.trials.filter((t) => t.status === 'interrupted'),
    ...journal.trials.filter((t) => t.status === 'pending'),
  ];
}

export interface BudgetLeft {
  /** New trials that may still be proposed (null: no trial limit). */
  trials: number | null;
  /** Seconds left (null: no time limit). */
  seconds: number | null;
  exhausted: boolean;
}

/**
 * What is left of the budget. Every proposed trial counts once, whatever became of it and however
 * often it was rerun; time counts the earlier sessions' spentSeconds plus this session's.
 */
export function budgetLeft(journal: SweepJournal, sessionSeconds = 0): BudgetLeft {
  const { maxTrials, maxSeconds } = journal.spec.budget;
  const trials = maxTrials === undefined ? null : Math.max(0, maxTrials - journal.trials.length);
  const seconds =
    maxSeconds === undefined
      ? null
      : Math.max(0, maxSeconds - journal.spentSeconds - sessionSeconds);
  return { trials, seconds, exhausted: trials === 0 || seconds === 0 };
}

/** Proposes-in a new trial with the next number; refused once the budget is spent. */
export function addTrial(
  journal: SweepJournal,
  point: Point,
  now = new Date(),
  sessionSeconds = 0,
): { journal: SweepJournal; trial: Trial } {
  if (budgetLeft(journal, sessionSeconds).exhausted)
    throw new SweepJournalError(`sweep ${journal.sweepId}: the budget is spent`);
  const config: TrainConfig = trialConfig(journal.spec, point);
  const trial: Trial = {
    number: journal.trials.length + 1,
    point,
    config,
    runId: null,
    status: 'pending',
    attempts: 0,
    scores: [],
    reason: null,
    proposedAt: now.toISOString(),
    startedAt: null,
    endedAt: null,
  };
  return { journal: { ...journal, trials: [...journal.trials, trial] }, trial };
}

/**
 * Starts (or restarts) a trial. A trial resumed from its checkpoint at epoch k keeps its scores
 * up to k; a rerun (resumeFromEpoch 0) drops them, as its epochs will be trained again.
 */
export function startTrial(
  journal: SweepJournal,
  number: number,
  runId: string,
  { resumeFromEpoch = 0, now = new Date() }: { resumeFromEpoch?: number; now?: Date } = {},
): SweepJournal {
  return updateTrial(journal, number, (t) => {
    if (t.status !== 'pending' && t.status !== 'interrupted')
      throw new SweepJournalError(`trial ${number} is ${t.status}, it cannot start`);
    return {
      ...t,
      runId,
      status: 'running',
      attempts: t.attempts + 1,
      scores: t.scores.filter((s) => s.epoch <= resumeFromEpoch),
      startedAt: now.toISOString(),
    };
  });
}

/** Records one epoch's validation accuracy; a repeated epoch replaces the earlier score. */
export function recordTrialEpoch(
  journal: SweepJournal,
  number: number,
  epoch: number,
  valAccuracy: number,
): SweepJournal {
  return updateTrial(journal, number, (t) => {
    if (t.status !== 'running')
      throw new SweepJournalError(`trial ${number} is ${t.status}, not running`);
    const scores = [...t.scores.filter((s) => s.epoch !== epoch), { epoch, valAccuracy }];
    return { ...t, scores: scores.sort((a, b) => a.epoch - b.epoch) };
  });
}

/**
 * Records how a trial ended. Ending a trial that has already ended changes nothing: a result
 * reported twice (a retried job, a duplicate message) is counted once.
 */
export function endTrial(
  journal: SweepJournal,
  number: number,
  outcome: { status: Extract<TrialStatus, 'finished' | 'pruned' | 'failed'>; reason?: string },
  now = new Date(),
): SweepJournal {
  const trial = trialOf(journal, number);
  if (ENDED.has(trial.status)) return journal;
  return updateTrial(journal, number, (t) => ({
    ...t,
    status: outcome.status,
    reason: outcome.reason ?? null,
    endedAt: now.toISOString(),
  }));
}

/**
 * A running trial whose sweep was stopped (or whose process is going away): it is taken up
 * again by `sweep resume`, from its last checkpoint or from scratch, under the same number.
 */
export function interruptTrial(journal: SweepJournal, number: number): SweepJournal {
  const trial = trialOf(journal, number);
  if (trial.status !== 'running') return journal;
  return updateTrial(journal, number, (t) => ({ ...t, status: 'interrupted' }));
}

/** Adds a session's wall time when it ends, so the next session's time budget starts from it. */
export function addSpentSeconds(journal: SweepJournal, seconds: number): SweepJournal {
  return { ...journal, spentSeconds: journal.spentSeconds + Math.max(0, seconds) };
}

/**
 * What the strategies learn from: finished trials (complete) and pruned ones (scored at the
 * epoch they reached). A trial's score is its best validation accuracy, the epoch the best
 * checkpoint holds.
 */
export function observationsOf(journal: SweepJournal): Observation[] {
  return journal.trials.flatMap((t) => {
    if ((t.status !== 'finished' && t.status !== 'pruned') || t.scores.length === 0) return [];
    return [
      {
        trial: t.number,
        point: t.point,
        score: Math.max(...t.scores.map((s) => s.valAccuracy)),
        complete: t.status === 'finished',
        epochs: t.scores[t.scores.length - 1]!.epoch,
      },
    ];
  });
}

/** Every trial's epoch scores, what early stopping compares a trial at a rung against. */
export function epochScoresOf(journal: SweepJournal): EpochScore[] {
  return journal.trials.flatMap((t) =>
    t.scores.map((s) => ({ trial: t.number, epoch: s.epoch, score: s.valAccuracy })),
  );
}

const ENDED = new Set<TrialStatus>(['finished', 'pruned', 'failed']);

function trialOf(journal: SweepJournal, number: number): Trial {
  const trial = journal.trials[number - 1];
  if (!trial || trial.number !== number)
    throw new SweepJournalError(`sweep ${journal.sweepId} has no trial ${number}`);
  return trial;
}

function updateTrial(
  journal: SweepJournal,
  number: number,
  change: (t: Trial) => Trial,
): SweepJournal {
  const next = change(trialOf(journal, number));
  return { ...journal, trials: journal.trials.map((t) => (t.number === number ? next : t)) };
}

/** The journal, or what is wrong with the text, in words for the user. */
function journalProblem(text: string): { journal: SweepJournal } | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return `not valid JSON: ${printable((error as Error).message)}`;
  }
  const parsed = SweepJournalSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first?.path.map(String).join('.') ?? '';
    return `malformed: ${where ? `${where}: ` : ''}${printable(first?.message ?? '')}`;
  }
  return { journal: parsed.data };
}

function removeStaleTemps(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir))
    if (name.startsWith(`${JOURNAL_FILE}.tmp-`)) rmSync(path.join(dir, name), { force: true });
}

function damagedCopies(root: string, sweepId: string): string[] {
  const dir = sweepDir(root, sweepId);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.startsWith(`${JOURNAL_FILE}.damaged-`))
    .map((name) => path.join(dir, name));
}
