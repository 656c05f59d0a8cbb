import { describe, expect, it } from 'vitest';
import { deletedLine, runsLines } from '../../src-main/cli/runs-format';
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
