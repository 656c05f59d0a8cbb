import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { RUN_ID_PATTERN } from '../../../src-main/contract/messages';
import { parseSweepSpec } from '../../../src-main/contract/sweep';
import {
  addSpentSeconds,
  addTrial,
  budgetLeft,
  createSweepJournal,
  endTrial,
  epochScoresOf,
  journalPath,
  observationsOf,
  readSweepJournal,
  recordTrialEpoch,
  resumeSweepJournal,
  startTrial,
  SWEEPS_DIR,
  sweepDir,
  trialsToRun,
  writeSweepJournal,
  type SweepJournal,
} from '../../../src-main/engine/sweeps/journal';
import { failWrites } from '../../fixtures/small-disk';
import { tempDir } from '../../helpers';

vi.mock('node:fs', async (real) =>
  (await import('../../fixtures/small-disk')).hookedFs(await real<typeof import('node:fs')>()),
);

const spec = parseSweepSpec({
  preset: 'mlp',
  base: { epochs: 3 },
  space: {
    learningRate: { kind: 'log-uniform', min: 1e-4, max: 1e-2 },
    batchSize: { kind: 'choice', values: [32, 64] },
  },
  budget: { maxTrials: 4, maxSeconds: 3600 },
  earlyStopping: { kind: 'asha', minEpochs: 1 },
});

const point = (lr: number) => ({ learningRate: lr, batchSize: 32 });
let sweepCounter = 0;
const newSweep = (root: string): SweepJournal =>
  createSweepJournal(root, `sweep-${++sweepCounter}`, spec, new Date('2026-01-01T00:00:00Z'));

/** Three trials: 1 finished, 2 pruned at epoch 1, 3 running at epoch 2; as the file has them. */
function sweepMidway(root: string): SweepJournal {
  let j = newSweep(root);
  for (const lr of [1e-3, 1e-4, 5e-3]) j = addTrial(j, point(lr)).journal;
  j = startTrial(j, 1, 'run-1');
  j = recordTrialEpoch(j, 1, 1, 0.9);
  j = recordTrialEpoch(j, 1, 2, 0.95);
  j = recordTrialEpoch(j, 1, 3, 0.96);
  j = endTrial(j, 1, { status: 'finished' });
  j = startTrial(j, 2, 'run-2');
  j = recordTrialEpoch(j, 2, 1, 0.5);
  j = endTrial(j, 2, { status: 'pruned', reason: 'val accuracy 0.500 at epoch 1 below …' });
  j = startTrial(j, 3, 'run-3');
  j = recordTrialEpoch(j, 3, 1, 0.91);
  j = recordTrialEpoch(j, 3, 2, 0.93);
  return writeSweepJournal(root, j);
}

describe('sweep journal', () => {
  it('lives under a dot-folder that run listings do not take for a run', () => {
    const root = tempDir();
    const j = newSweep(root);
    expect(journalPath(root, j.sweepId)).toBe(
      path.join(root, SWEEPS_DIR, j.sweepId, 'journal.json'),
    );
    expect(RUN_ID_PATTERN.test(SWEEPS_DIR)).toBe(false);
    expect(() => sweepDir(root, '../escape')).toThrow('invalid sweep id');
    expect(() => newSweep(root) && createSweepJournal(root, j.sweepId, spec)).toThrow(
      'already exists',
    );
  });

  it('round-trips through its file, every trial with a config the trainer accepts', () => {
    const root = tempDir();
    const j = sweepMidway(root);
    const read = readSweepJournal(root, j.sweepId);
    expect(read).toEqual(j);
    expect(read.trials.map((t) => [t.number, t.status])).toEqual([
      [1, 'finished'],
      [2, 'pruned'],
      [3, 'running'],
    ]);
    expect(read.trials[0]!.config).toMatchObject({ model: 'mlp', epochs: 3, learningRate: 1e-3 });
  });

  it('resumes after a kill: finished and pruned kept, the running trial rerun, no temp left', () => {
    const root = tempDir();
    const before = sweepMidway(root);
    // The kill came mid-write: a temp file with half of the next state beside the journal.
    const file = journalPath(root, before.sweepId);
    const temp = `${file}.tmp-99999-abcdef`;
    writeFileSync(temp, readFileSync(file, 'utf8').slice(0, 200));

    const { journal, toRun } = resumeSweepJournal(root, before.sweepId);
    expect(existsSync(temp)).toBe(false);
    expect(journal.trials.map((t) => t.status)).toEqual(['finished', 'pruned', 'interrupted']);
    expect(journal.trials[0]).toEqual(before.trials[0]);
    expect(journal.trials[1]).toEqual(before.trials[1]);
    expect(toRun.map((t) => t.number)).toEqual([3]);
    // What is on disk is the resumed state, so a second kill right now loses nothing either.
    expect(readSweepJournal(root, before.sweepId)).toEqual(journal);

    // The interrupted trial counted once: 3 of 4 trials used, before and after its rerun.
    expect(budgetLeft(journal).trials).toBe(1);
    let j = startTrial(journal, 3, 'run-3b');
    expect(j.trials[2]).toMatchObject({ attempts: 2, runId: 'run-3b', scores: [] });
    j = recordTrialEpoch(j, 3, 1, 0.92);
    j = endTrial(j, 3, { status: 'finished' });
    // The same result reported again (a retried job) changes nothing.
    expect(endTrial(j, 3, { status: 'failed', reason: 'late duplicate' })).toBe(j);
    expect(budgetLeft(j).trials).toBe(1);
    j = addTrial(j, point(2e-3)).journal;
    expect(budgetLeft(j)).toMatchObject({ trials: 0, exhausted: true });
    expect(() => addTrial(j, point(3e-3))).toThrow('the budget is spent');
  });

  it('resumes a trial from its checkpoint keeping the scores of the epochs it keeps', () => {
    const root = tempDir();
    const { journal } = resumeSweepJournal(root, sweepMidway(root).sweepId);
    const j = startTrial(journal, 3, 'run-3', { resumeFromEpoch: 1 });
    expect(j.trials[2]!.scores).toEqual([{ epoch: 1, valAccuracy: 0.91 }]);
    expect(() => startTrial(j, 1, 'run-1')).toThrow('trial 1 is finished, it cannot start');
  });

  it('spends the time budget across sessions', () => {
    const root = tempDir();
    let j = newSweep(root);
    j = addSpentSeconds(j, 3000);
    expect(budgetLeft(j, 500)).toMatchObject({ seconds: 100, exhausted: false });
    expect(budgetLeft(j, 700)).toMatchObject({ seconds: 0, exhausted: true });
    writeSweepJournal(root, j);
    expect(budgetLeft(resumeSweepJournal(root, j.sweepId).journal).seconds).toBe(600);
  });

  it('feeds the strategies finished and pruned trials, and early stopping every epoch score', () => {
    const root = tempDir();
    const j = sweepMidway(root);
    expect(observationsOf(j)).toEqual([
      { trial: 1, point: point(1e-3), score: 0.96, complete: true, epochs: 3 },
      { trial: 2, point: point(1e-4), score: 0.5, complete: false, epochs: 1 },
    ]);
    expect(epochScoresOf(j).filter((s) => s.epoch === 1)).toEqual([
      { trial: 1, epoch: 1, score: 0.9 },
      { trial: 2, epoch: 1, score: 0.5 },
      { trial: 3, epoch: 1, score: 0.91 },
    ]);
    expect(trialsToRun(addTrial(j, point(2e-3)).journal).map((t) => t.number)).toEqual([4]);
  });

  it.each([
    ['cut short', (text: string) => text.slice(0, text.length / 2), 'not valid JSON'],
    [
      'with a trial counted twice',
      (text: string) => {
        const json = JSON.parse(text) as SweepJournal;
        json.trials[1]!.number = 1;
        return JSON.stringify(json);
      },
      'malformed: trials.1.number: trial 2 is numbered 1',
    ],
    [
      'with a bad config',
      (text: string) => text.replace('"hiddenUnits": 128', '"hiddenUnits": 0'),
      'malformed: trials.0.config.hiddenUnits: hiddenUnits must be between 1 and 4096',
    ],
  ])('refuses a journal %s, with the reason, and keeps the bad file aside', (_, damage, why) => {
    const root = tempDir();
    const { sweepId } = sweepMidway(root);
    const file = journalPath(root, sweepId);
    const bad = damage(readFileSync(file, 'utf8'));
    writeFileSync(file, bad);

    expect(() => readSweepJournal(root, sweepId)).toThrow(
      `sweep ${sweepId}: journal.json is damaged (${why}`,
    );
    expect(readFileSync(file, 'utf8')).toBe(bad);

    const now = new Date('2026-02-03T04:05:06.007Z');
    const kept = `${file}.damaged-2026-02-03T04-05-06-007Z`;
    expect(() => resumeSweepJournal(root, sweepId, now)).toThrow(`kept it as ${kept}`);
    expect(readFileSync(kept, 'utf8')).toBe(bad);
    expect(existsSync(file)).toBe(false);
    expect(() => readSweepJournal(root, sweepId)).toThrow(
      `no journal; its damaged journal was kept as ${kept}`,
    );
    expect(() => createSweepJournal(root, 'sweep-unrelated', spec)).not.toThrow();
    expect(readdirSync(path.dirname(file))).toEqual([path.basename(kept)]);
  });

  it('on a full disk, says so and keeps the last complete journal', () => {
    const root = tempDir();
    const before = sweepMidway(root);
    const undo = failWrites((f) => f.includes('journal.json.tmp-'), 'ENOSPC');
    try {
      const next = endTrial(before, 3, { status: 'failed', reason: 'test' });
      expect(() => writeSweepJournal(root, next)).toThrow(
        'disk full (ENOSPC) while writing the sweep journal',
      );
    } finally {
      undo();
    }
    expect(readSweepJournal(root, before.sweepId)).toEqual(before);
    expect(readdirSync(sweepDir(root, before.sweepId))).toEqual(['journal.json']);
  });

  it('says when a sweep does not exist', () => {
    expect(() => readSweepJournal(tempDir(), 'nope')).toThrow('sweep nope not found');
  });
});
