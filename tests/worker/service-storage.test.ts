import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { WorkerEvent } from '../../src-main/contract/messages';
import { smallDisksUnder } from '../fixtures/small-disk';
import { tinyCpuRun } from '../fixtures/train-configs';
import { tempDir } from '../helpers';
import { serviceHarness } from './harness';

vi.mock('node:fs', async (real) =>
  (await import('../fixtures/small-disk')).hookedFs(await real<typeof import('node:fs')>()),
);

/**
 * What the worker says about a folder it cannot write: a train or resume there is refused before
 * the command replies ok, saying read-only (not ENOENT); a folder that turns read-only mid-run
 * is listed as failed although run.json could not record it.
 */

const smallDisk = smallDisksUnder(tempDir());
const disk = (name: string) => smallDisk(name, { sizeKb: 4096, largeWritesThatFit: 1000 });

/** A worker service of its own, initialised on this folder. */
async function worker(checkpointsDir: string, onEvent?: (e: WorkerEvent) => void) {
  const harness = serviceHarness(onEvent);
  await harness.init(checkpointsDir, 'cpu');
  return harness;
}

describe('a read-only checkpoints folder', () => {
  it('refuses to train before replying, saying read-only', async () => {
    const readOnly = disk('train-ro');
    readOnly.makeReadOnly();
    for (const dir of [readOnly.dir, path.join(readOnly.dir, 'not-yet-created')]) {
      const { ask, events } = await worker(dir);
      const refused = ask({ type: 'train', config: tinyCpuRun });
      await expect(refused).rejects.toThrow(
        `the checkpoints folder ${dir} is read-only (EROFS) while starting a run`,
      );
      await expect(refused).rejects.not.toThrow(/ENOENT/);
      expect(events.some((e) => e.type === 'started')).toBe(false);
    }
    expect(readdirSync(readOnly.dir)).toEqual([]);
  });

  it('refuses to resume before replying, saying read-only', async () => {
    const d = disk('resume-ro');
    const { ask, until, events } = await worker(d.dir);
    const { runId } = await ask({ type: 'train', config: { ...tinyCpuRun, epochs: 1 } });
    await until((e) => e.type === 'finished' && e.runId === runId);
    d.makeReadOnly();
    await expect(ask({ type: 'resume', runId, epoch: null, epochs: 2 })).rejects.toThrow(
      `the checkpoints folder ${path.join(d.dir, runId)} is read-only (EROFS) while resuming run ${runId}`,
    );
    expect(events.filter((e) => e.type === 'started')).toHaveLength(1);
    d.makeWritable();
  });
});

describe('a folder that turns read-only mid-run', () => {
  it('is reported by the error event and listed as failed; the run resumes once writable', async () => {
    const d = disk('mid-run');
    let runId = '';
    const { ask, until } = await worker(d.dir, (e) => {
      if (e.type === 'checkpoint' && e.epoch === 1) d.makeReadOnly();
    });
    ({ runId } = await ask({ type: 'train', config: tinyCpuRun }));
    const reason = `the checkpoints folder ${d.dir} is read-only (EROFS) while saving the checkpoint of epoch 2; make it writable or choose another folder`;
    expect(await until((e) => e.type === 'error' && e.runId === runId)).toMatchObject({
      message: reason,
      fatal: false,
    });
    const { runs } = await ask({ type: 'listRuns' });
    expect(runs.find((r) => r.runId === runId)).toMatchObject({
      status: 'failed',
      reason: `${reason} (run.json could not record it)`,
      checkpoints: [expect.objectContaining({ epoch: 1, status: 'ok' })],
    });

    d.makeWritable();
    const resumed = await ask({ type: 'resume', runId, epoch: null, epochs: null });
    expect(resumed).toMatchObject({ runId, epoch: 1, skipped: [] });
    await until((e) => e.type === 'finished' && e.runId === runId);
    const after = (await ask({ type: 'listRuns' })).runs.find((r) => r.runId === runId)!;
    expect(after.status).toBe('finished');
    expect(after.checkpoints.map((c) => [c.epoch, c.status])).toEqual([
      [1, 'ok'],
      [2, 'ok'],
      [3, 'ok'],
    ]);
    expect(existsSync(path.join(d.dir, runId, 'epoch-003'))).toBe(true);
  });
});
