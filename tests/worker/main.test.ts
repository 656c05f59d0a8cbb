import { describe, expect, it } from 'vitest';
import { readRun } from '../../src-main/engine/runs';
import { cliPath } from '../cli-runner';
import { mlpBatchesOfOne } from '../fixtures/train-configs';
import { spawnGroup, tempDir, waitUntilGone } from '../helpers';
import { hostWithEvents } from '../host/fixtures';

/** The worker process's own life: signals, and a host that goes away. */

const root = tempDir();
const makeHost = () => hostWithEvents(root);

describe('the worker process', () => {
  it('stops its run after the current batch and exits when its host is killed', async () => {
    const cli = spawnGroup(cliPath, [
      'train',
      '--checkpoints',
      root,
      '--backend',
      'wasm',
      ...['--limit', '3000', '--validation-size', '100', '--batch-size', '1', '--epochs', '3'],
    ]);
    const worker = (await cli.line((l) => l.type === 'ready')).pid as number;
    const { runId } = await cli.line((l) => l.type === 'started');
    await cli.line((l) => l.type === 'batch');
    process.kill(cli.child.pid!, 'SIGKILL');
    expect(await waitUntilGone(worker, 15_000)).toBe(true);
    expect(readRun(root, runId as string)).toMatchObject({
      status: 'stopped',
      pid: null,
      reason: 'stopped (the worker left: the host is gone) during epoch 1',
    });
  });

  it('stops its run cleanly on SIGTERM, and its host says why it exited', async () => {
    const { host, next } = makeHost();
    const batch = next('batch');
    const { runId } = await host.request({ type: 'train', config: mlpBatchesOfOne });
    await batch;
    const stopped = next('stopped');
    const exited = next('error');
    process.kill(host.pid!, 'SIGTERM');
    expect(await stopped).toMatchObject({ runId });
    expect(await exited).toMatchObject({
      fatal: true,
      runId: null,
      message: 'the training worker exited with code 0: worker stopping: received SIGTERM',
    });
    expect(readRun(root, runId)).toMatchObject({
      status: 'stopped',
      reason: 'stopped (the worker left: received SIGTERM) during epoch 1',
    });
    host.dispose();
  });

  it('ignores SIGINT, which a terminal sends to the whole group: the host decides', async () => {
    const { host, events, next } = makeHost();
    const batch = next('batch');
    await host.request({ type: 'train', config: mlpBatchesOfOne });
    await batch;
    const pid = host.pid!;
    process.kill(pid, 'SIGINT');
    const seen = events.length;
    await next('batch');
    expect(events.slice(seen).filter((e) => e.type === 'error')).toEqual([]);
    expect(host.pid).toBe(pid);
    const stopped = next('stopped');
    await host.request({ type: 'stop' });
    await stopped;
    host.dispose();
  });
});
