import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { WorkerEvent } from '../../src-main/contract/messages';
import { readRun } from '../../src-main/engine/runs';
import { forkWorker } from '../../src-main/host/fork-worker';
import { WorkerHost } from '../../src-main/host/worker-host';
import { spawnGroup, tempDir, waitUntilGone } from '../helpers';

/** The worker process's own life: signals, and a host that goes away. */

const root = tempDir();
const cliPath = path.join(import.meta.dirname, '../../src-main/cli.ts');
// About 3,000 tiny batches an epoch: a signal lands mid-epoch.
const longRun = {
  model: 'mlp',
  epochs: 3,
  batchSize: 1,
  learningRate: 0.001,
  learningRateDecay: 1,
  hiddenUnits: 32,
  dropout: 0,
  validationSize: 100,
  limit: 3000,
  seed: 1,
  augment: false,
  backend: 'wasm',
} as const;

function makeHost() {
  const events: WorkerEvent[] = [];
  const waiters: { match: (e: WorkerEvent) => boolean; resolve: (e: WorkerEvent) => void }[] = [];
  const host = new WorkerHost({
    spawn: forkWorker(),
    checkpointsDir: root,
    dataDir: null,
    backend: 'wasm',
    onEvent: (e) => {
      events.push(e);
      for (const w of [...waiters])
        if (w.match(e)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(e);
        }
    },
  });
  const next = (match: (e: WorkerEvent) => boolean) =>
    new Promise<WorkerEvent>((resolve) => waiters.push({ match, resolve }));
  return { host, events, next };
}

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
    const batch = next((e) => e.type === 'batch');
    const { runId } = await host.request({ type: 'train', config: longRun });
    await batch;
    const stopped = next((e) => e.type === 'stopped');
    const exited = next((e) => e.type === 'error');
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
    const batch = next((e) => e.type === 'batch');
    await host.request({ type: 'train', config: longRun });
    await batch;
    const pid = host.pid!;
    process.kill(pid, 'SIGINT');
    const seen = events.length;
    await next((e) => e.type === 'batch');
    expect(events.slice(seen).filter((e) => e.type === 'error')).toEqual([]);
    expect(host.pid).toBe(pid);
    const stopped = next((e) => e.type === 'stopped');
    await host.request({ type: 'stop' });
    await stopped;
    host.dispose();
  });
});
