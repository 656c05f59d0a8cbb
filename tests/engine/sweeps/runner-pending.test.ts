import { describe, expect, it, vi } from 'vitest';
import { parseSweepSpec } from '../../../src-main/contract/sweep';
import { startSweep } from '../../../src-main/engine/sweeps/runner';
import type { PendingTrial } from '../../../src-main/engine/sweeps/strategies';
import { tempDir } from '../../helpers';
import { FakeLauncher } from './fake-launcher';

/** What the runner tells the strategy about running trials (TPE's constant liar uses it). */
const seen: { trial: number; pending: number[] }[] = [];

vi.mock('../../../src-main/engine/sweeps/strategies', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../src-main/engine/sweeps/strategies')>();
  return {
    ...real,
    createProposer: (spec: Parameters<typeof real.createProposer>[0]) => {
      const proposer = real.createProposer(spec);
      return {
        propose: (trial: number, history: never[], pending: readonly PendingTrial[] = []) => {
          seen.push({ trial, pending: pending.map((p) => p.trial) });
          return proposer.propose(trial, history, pending);
        },
      };
    },
  };
});

describe('proposals while trials run', () => {
  it('pass the running trials to the strategy', async () => {
    const spec = parseSweepSpec({
      preset: 'mlp',
      base: { epochs: 3 },
      space: { learningRate: { kind: 'log-uniform', min: 1e-4, max: 1e-2 } },
      strategy: 'tpe',
      budget: { maxTrials: 3 },
      parallelism: 3,
    });
    const session = startSweep(spec, { root: tempDir(), launcher: new FakeLauncher() }, 'sweep-p');
    await session.done;
    // The three start at once: each proposal sees the ones before it as running.
    expect(seen).toEqual([
      { trial: 1, pending: [] },
      { trial: 2, pending: [1] },
      { trial: 3, pending: [1, 2] },
    ]);
  });
});
