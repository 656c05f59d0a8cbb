import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveTrainConfig } from '../../../src-main/contract/config';
import { parseSweepSpec } from '../../../src-main/contract/sweep';
import { acquireRunLock } from '../../../src-main/engine/run-lock';
import { createRun, newRunId } from '../../../src-main/engine/runs';
import { deleteSweep, listSweeps, sweepRuns } from '../../../src-main/engine/sweeps/catalog';
import {
  createSweepJournal,
  journalPath,
  SWEEPS_DIR,
} from '../../../src-main/engine/sweeps/journal';
import { tempDir } from '../../helpers';

const spec = parseSweepSpec({
  preset: 'mlp',
  space: { dropout: { kind: 'uniform', min: 0, max: 0.5 } },
  budget: { maxTrials: 2 },
});

describe('sweep catalog', () => {
  it('lists a sweep nobody drives as interrupted, a live one as running, a damaged one as such', () => {
    const root = tempDir();
    createSweepJournal(root, 'a-left', spec);
    createSweepJournal(root, 'b-live', spec);
    createSweepJournal(root, 'c-bad', spec);
    writeFileSync(journalPath(root, 'c-bad'), '{');
    const lock = acquireRunLock(path.join(root, SWEEPS_DIR), 'b-live', 'a test');
    try {
      expect(listSweeps(root).map((s) => [s.sweepId, s.status])).toEqual([
        ['c-bad', 'damaged'],
        ['b-live', 'running'],
        ['a-left', 'interrupted'],
      ]);
      expect(() => deleteSweep(root, 'b-live')).toThrow(/sweep b-live is being run by a test/);
    } finally {
      lock.release();
    }
  });

  it('deletes a sweep with its tagged runs only when asked, and never other runs', () => {
    const root = tempDir();
    createSweepJournal(root, 's', spec);
    const config = resolveTrainConfig({ model: 'mlp' });
    const trial = newRunId('mlp');
    const other = newRunId('mlp');
    createRun(root, trial, config, 'wasm', null, { id: 's', trial: 1 });
    createRun(root, other, config, 'wasm');
    expect(sweepRuns(root, 's')).toEqual([trial]);
    expect(deleteSweep(root, 's', { runs: true })).toEqual({ sweepId: 's', runsDeleted: [trial] });
    expect(existsSync(path.join(root, trial))).toBe(false);
    expect(existsSync(path.join(root, other))).toBe(true);
    expect(existsSync(path.join(root, SWEEPS_DIR, 's'))).toBe(false);
  });
});
