import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSweepSpec } from '../../../src-main/contract/sweep';
import {
  experimentOf,
  readHParams,
  sessionHParams,
  trialGroupName,
} from '../../../src-main/engine/sweeps/hparams';
import { readSweepJournal, sweepDir } from '../../../src-main/engine/sweeps/journal';
import { readEventFile } from '../../../src-main/engine/tensorboard';
import { runCli } from '../../cli-runner';
import { tempDir } from '../../helpers';

/**
 * A real sweep through the CLI (two tiny mlp trials in worker processes) leaves what
 * `tensorboard --logdir <checkpoints>` needs for its HParams dashboard: the experiment in the
 * sweep's folder, and a session start and end in each trial's run folder beside its scalars.
 */

const root = tempDir();
const space = {
  learningRate: { kind: 'log-uniform', min: 1e-4, max: 1e-2 },
  batchSize: { kind: 'choice', values: [32, 64] },
} as const;

describe('a real sweep in TensorBoard', () => {
  it('writes the HParams experiment and a session per trial', () => {
    const { code, lines, stderr } = runCli(
      root,
      ...['sweep', '--model', 'mlp', '--space', JSON.stringify(space), '--trials', '2'],
      ...['--epochs', '1', '--seed', '5', '--limit', '512', '--validation-size', '128'],
      ...['--backend', 'wasm'],
    );
    expect({ code, stderr }).toEqual({ code: 0, stderr: expect.any(String) as string });
    const sweepId = lines[0]!.sweepId as string;
    const journal = readSweepJournal(root, sweepId);
    const spec = parseSweepSpec(journal.spec);

    const { experiment } = readHParams(sweepDir(root, sweepId));
    expect(experiment).toEqual(
      experimentOf(spec, { timeCreatedSecs: Date.parse(journal.createdAt) / 1000 }),
    );

    expect(journal.trials).toHaveLength(2);
    for (const t of journal.trials) {
      expect(t.status).toBe('finished');
      const dir = path.join(root, t.runId!);
      const found = readHParams(dir);
      expect(found.sessionStart).toEqual({
        hparams: sessionHParams(spec, t.point),
        groupName: trialGroupName(sweepId, t.number),
        startTimeSecs: Date.parse(t.startedAt!) / 1000,
        modelUri: dir,
      });
      expect(found.sessionEnd).toEqual({
        status: 'success',
        endTimeSecs: Date.parse(t.endedAt!) / 1000,
      });
      // The metrics the experiment names are the run's own sub-runs' scalars.
      const validation = path.join(dir, 'validation');
      const file = readdirSync(validation).find((f) => f.includes('tfevents'))!;
      const tags = readEventFile(path.join(validation, file)).flatMap((e) =>
        Object.keys(e.scalars),
      );
      expect(tags).toEqual(expect.arrayContaining(experiment!.metricInfos.map((m) => m.tag)));
    }
  });
});
