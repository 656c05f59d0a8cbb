import { describe, expect, it } from 'vitest';
import { deletedLine, renamedLine, runsLines } from '../../src-main/cli/runs-format';
import { run, runId } from './events';

describe('list and delete in a terminal', () => {
  it('prints a line per run with its checkpoints indented below it', () => {
    expect(runsLines([run], '/data/checkpoints')).toEqual([
      `${runId}  ·  mlp  ·  2026-11-30 01:58 UTC  ·  finished  ·  2 epochs  ·  best val accuracy 90.12 %`,
      '  epoch 1  val accuracy 85.00 %  160 kB',
      '  epoch 2  damaged: weights.bin is 10 bytes, expected 159488 (truncated)  10 B',
    ]);
  });

  it('shows why a run ended badly and where a branch came from', () => {
    const [line] = runsLines(
      [
        {
          ...run,
          status: 'crashed',
          reason: 'the training worker killed by SIGKILL',
          bestValAccuracy: null,
          epochsDone: 1,
          branchedFrom: { runId: 'older', epoch: 1 },
          checkpoints: [],
        },
      ],
      '/data/checkpoints',
    );
    expect(line).toBe(
      `${runId}  ·  mlp  ·  2026-11-30 01:58 UTC  ·  crashed (the training worker killed by SIGKILL)  ·  1 epoch  ·  branched from older at epoch 1`,
    );
  });

  it('says where it looked when there are no runs', () => {
    expect(runsLines([], '/data/checkpoints')).toEqual(['No runs in /data/checkpoints.']);
  });

  it('says what was deleted', () => {
    expect(deletedLine({ runId, epoch: null })).toBe(`Deleted run ${runId}.`);
    expect(deletedLine({ runId, epoch: 3 })).toBe(
      `Deleted the checkpoint of epoch 3 of run ${runId}.`,
    );
  });
});

describe('names and test results in a terminal', () => {
  it('shows a run’s name and its best test accuracy, and says what rename did', () => {
    const [line] = runsLines(
      [
        {
          ...run,
          name: 'first mlp',
          evaluations: [
            { epoch: 1, accuracy: 0.8512, loss: 0.5, at: 't' },
            { epoch: 2, accuracy: 0.9031, loss: 0.3, at: 't' },
          ],
        },
      ],
      '/data/checkpoints',
    );
    expect(line).toBe(
      `${runId}  ·  "first mlp"  ·  mlp  ·  2026-11-30 01:58 UTC  ·  finished  ·  2 epochs  ·  best val accuracy 90.12 %  ·  test accuracy 90.31 % (epoch 2)`,
    );
    expect(renamedLine({ runId, name: 'first mlp' })).toBe(
      `Run ${runId} is now named "first mlp".`,
    );
    expect(renamedLine({ runId, name: null })).toBe(`Run ${runId} has no name now.`);
  });
});
