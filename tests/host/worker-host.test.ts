import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { WorkerEvent } from '../../src-main/contract/messages';
import { forkWorker } from '../../src-main/host/fork-worker';
import type { WorkerExit, WorkerHandle } from '../../src-main/host/worker-handle';
import { WorkerHost } from '../../src-main/host/worker-host';
import { createRun, readRun } from '../../src-main/engine/runs';
import { tempDir, waitUntilGone } from '../helpers';
import { hostWithEvents } from './fixtures';

const root = tempDir();
const trainConfig = {
  model: 'mlp',
  epochs: 3,
  batchSize: 32,
  learningRate: 0.001,
  learningRateDecay: 1,
  hiddenUnits: 32,
  dropout: 0,
  validationSize: 200,
  limit: 3000,
  seed: 1,
  augment: false,
  backend: 'auto',
} as const;

const makeHost = () => hostWithEvents(root);

describe('WorkerHost with a real forked worker', () => {
  it('starts the worker on first use, reports the backend, and answers commands', async () => {
    const { host, next } = makeHost();
    const ready = next('ready');
    await expect(host.request({ type: 'listRuns' })).resolves.toEqual({ runs: [] });
    expect((await ready).backend).toMatchObject({ name: 'wasm', reason: 'chosen by the user' });
    host.dispose();
  });

  it('rejects an invalid command before it reaches the worker, naming the field', async () => {
    const { host } = makeHost();
    await expect(
      host.request({ type: 'train', config: { ...trainConfig, epochs: 0 } }),
    ).rejects.toThrow('invalid train command: config.epochs: epochs must be between 1 and 500');
    await expect(
      host.request({ type: 'deleteRun', runId: '../../etc', epoch: null }),
    ).rejects.toThrow(/runId may only contain/);
    expect(host.running).toBe(false);
    host.dispose();
  });

  it('trains, streams events, and stops within a batch', async () => {
    const { host, events, next } = makeHost();
    // Mid-epoch: an MLP epoch of a few thousand images can take less than one batch-event interval.
    const secondEpochBatch = next('batch', (e) => e.epoch === 2 && e.batch < e.batches / 2);
    const { runId } = await host.request({
      type: 'train',
      config: { ...trainConfig, limit: 30_000, batchSize: 16 },
    });
    await secondEpochBatch;
    // What a page reloaded now catches up with: the run and every batch event it sent so far.
    expect(host.training?.runId).toBe(runId);
    const streamed = events.filter((e) => e.type === 'batch' && e.runId === runId);
    expect(host.trainingBatches.length).toBeGreaterThanOrEqual(streamed.length);
    expect(host.trainingBatches.slice(0, streamed.length)).toEqual(streamed);
    const stopped = next('stopped');
    await expect(host.request({ type: 'stop' })).resolves.toEqual({ stopping: true });
    expect(await stopped).toMatchObject({ runId, epoch: 1 });
    expect(host.trainingBatches).toEqual([]);
    expect(
      events.filter((e) => e.type === 'epoch').map((e) => e.type === 'epoch' && e.epoch),
    ).toEqual([1]);
    expect(readRun(root, runId).status).toBe('stopped');
    // Idle again: stopping nothing says so.
    await expect(host.request({ type: 'stop' })).resolves.toEqual({ stopping: false });
    host.dispose();
  });

  it('remembers the restored checkpoint across restarts, until it is deleted', async () => {
    const { host, next } = makeHost();
    const finished = next('finished');
    const { runId } = await host.request({
      type: 'train',
      config: { ...trainConfig, epochs: 1, limit: 600 },
    });
    await finished;
    const restored = await host.request({ type: 'restore', runId, epoch: 1 });
    expect(host.restored).toEqual(restored);
    host.dispose();

    const again = makeHost().host;
    expect(again.restored).toEqual(restored);
    await again.request({ type: 'deleteRun', runId, epoch: null });
    expect(again.restored).toBeNull();
    again.dispose();
    expect(makeHost().host.restored).toBeNull();

    // A damaged memory is forgotten, not fatal.
    writeFileSync(path.join(root, '.restored.json'), '{"runId": 5');
    expect(makeHost().host.restored).toBeNull();
  });

  it('refuses a second run while one is training', async () => {
    const { host, next } = makeHost();
    await host.request({ type: 'train', config: trainConfig });
    await expect(host.request({ type: 'train', config: trainConfig })).rejects.toThrow(
      /is already training; stop it first/,
    );
    const stopped = next('stopped');
    await host.request({ type: 'stop' });
    await stopped;
    host.dispose();
  });

  it('reports a killed worker with the reason, marks the run crashed, and recovers on the next command', async () => {
    const { host, next } = makeHost();
    const firstBatch = next('batch');
    const { runId } = await host.request({ type: 'train', config: trainConfig });
    await firstBatch;
    const pid = host.pid;
    const error = next('error');
    const pendingList = host.request({ type: 'listRuns' });
    const exited = host.kill();
    expect(await error).toMatchObject({
      fatal: true,
      runId,
      message: 'the training worker was killed (SIGKILL)',
    });
    await expect(pendingList).rejects.toThrow(/was killed \(SIGKILL\)/);
    await exited;
    expect(readRun(root, runId)).toMatchObject({
      status: 'crashed',
      reason: 'the training worker was killed (SIGKILL)',
    });

    const { runs } = await host.request({ type: 'listRuns' });
    expect(host.pid).not.toBe(pid);
    expect(runs.find((r) => r.runId === runId)).toMatchObject({ status: 'crashed' });
    host.dispose();
  });
});

describe('WorkerHost.shutdown, for a host that is going away', () => {
  it('stops the run after its current batch, then disposes', async () => {
    const { host, events, next } = makeHost();
    const batch = next('batch');
    const { runId } = await host.request({
      type: 'train',
      config: { ...trainConfig, limit: 3000, batchSize: 1 },
    });
    await batch;
    const pid = host.pid!;
    await expect(host.shutdown({ timeoutMs: 30_000 })).resolves.toBe('stopped');
    expect(events.at(-1)).toMatchObject({ type: 'stopped', runId, epoch: 0 });
    expect(readRun(root, runId)).toMatchObject({ status: 'stopped', pid: null });
    await expect(host.request({ type: 'listRuns' })).rejects.toThrow('the host has been shut down');
    expect(await waitUntilGone(pid, 5000)).toBe(true);
  });

  it('stops a run asked for just before, once it has started', async () => {
    const { host, events } = makeHost();
    const train = host.request({ type: 'train', config: trainConfig });
    await expect(host.shutdown({ timeoutMs: 30_000 })).resolves.toBe('stopped');
    const { runId } = await train;
    expect(events.filter((e) => e.type === 'stopped')).toMatchObject([{ runId }]);
    expect(readRun(root, runId).status).toBe('stopped');
  });

  it('has nothing to stop when idle', async () => {
    const { host } = makeHost();
    await host.request({ type: 'listRuns' });
    const pid = host.pid!;
    await expect(host.shutdown({ timeoutMs: 30_000 })).resolves.toBe('idle');
    expect(await waitUntilGone(pid, 5000)).toBe(true);
  });

  it('kills a run that does not stop in time, and marks it crashed saying so', async () => {
    const runId = 'never-stops';
    createRun(root, runId, { ...trainConfig, threads: null }, 'wasm');
    let listener: (m: unknown) => void = () => {};
    let exitListener: (e: WorkerExit) => void = () => {};
    const stuck: WorkerHandle = {
      pid: 1,
      post: (m) => {
        const { type, requestId } = m as { type: string; requestId?: number };
        // Starts the run, accepts the stop, and never stops.
        const result = type === 'train' ? { runId } : type === 'stop' ? { stopping: true } : null;
        if (result)
          setTimeout(() => listener({ type: 'reply', requestId, ok: true, result, error: null }));
      },
      onMessage: (l) => (listener = l),
      onExit: (l) => (exitListener = l),
      kill: () =>
        setTimeout(() =>
          exitListener({ code: null, signal: 'SIGKILL', reason: 'was killed (SIGKILL)' }),
        ),
    };
    const host = new WorkerHost({
      spawn: () => stuck,
      checkpointsDir: root,
      dataDir: null,
      backend: 'wasm',
      onEvent: () => {},
    });
    await host.request({ type: 'train', config: trainConfig });
    await expect(host.shutdown({ timeoutMs: 200 })).resolves.toBe('killed');
    expect(readRun(root, runId)).toMatchObject({
      status: 'crashed',
      reason:
        'the training worker was killed: it did not stop within 0.2 s of the host shutting down',
    });
  });
});

describe('the worker validates what it receives, even from its own host', () => {
  it('answers malformed messages with errors and keeps running', async () => {
    const worker = forkWorker()();
    const received: unknown[] = [];
    worker.onMessage((m) => received.push(m));
    const waitFor = async (pred: (m: Record<string, unknown>) => boolean) => {
      for (let i = 0; i < 200; i++) {
        const hit = received.find((m) => pred(m as Record<string, unknown>));
        if (hit) return hit as Record<string, unknown>;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('no such message');
    };
    worker.post({ type: 'listRuns', requestId: 1 });
    expect(await waitFor((m) => m.requestId === 1)).toMatchObject({
      ok: false,
      error: 'the worker has not been initialised',
    });
    worker.post({ type: 'init', checkpointsDir: root, dataDir: null, backend: 'wasm' });
    await waitFor((m) => m.type === 'ready');
    worker.post({ type: 'train', requestId: 2, config: { ...trainConfig, learningRate: -1 } });
    expect(await waitFor((m) => m.requestId === 2)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/learningRate must be greater than 0/),
    });
    worker.post('hello');
    expect(await waitFor((m) => m.type === 'error')).toMatchObject({
      fatal: false,
      message: expect.stringMatching(/^invalid command/),
    });
    worker.post({ type: 'predict', requestId: 3, runId: 'nope', epoch: null, pixels: [1, 2] });
    expect(await waitFor((m) => m.requestId === 3)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/pixels must hold 28×28 = 784 values/),
    });
    worker.post({
      type: 'predict',
      requestId: 4,
      runId: 'nope',
      epoch: null,
      pixels: new Array(784).fill(0),
    });
    expect(await waitFor((m) => m.requestId === 4)).toMatchObject({
      ok: false,
      error: 'run nope not found',
    });
    worker.kill();
  });
});

describe('WorkerHost against a misbehaving worker', () => {
  it('turns invalid events and results into errors', async () => {
    let listener: (m: unknown) => void = () => {};
    let exitListener: (e: WorkerExit) => void = () => {};
    const fake: WorkerHandle = {
      pid: 1,
      post: (m) => {
        const msg = m as { type: string; requestId?: number };
        if (msg.type === 'listRuns') {
          setTimeout(() => {
            listener({ type: 'batch', runId: 'x', epoch: 'one' });
            listener({
              type: 'reply',
              requestId: msg.requestId,
              ok: true,
              result: { runs: 'many' },
              error: null,
            });
          });
        }
      },
      onMessage: (l) => (listener = l),
      onExit: (l) => (exitListener = l),
      kill: () => exitListener({ code: null, signal: 'SIGKILL', reason: 'was killed (SIGKILL)' }),
    };
    const events: WorkerEvent[] = [];
    const host = new WorkerHost({
      spawn: () => fake,
      checkpointsDir: root,
      dataDir: null,
      backend: 'auto',
      onEvent: (e) => events.push(e),
    });
    await expect(host.request({ type: 'listRuns' })).rejects.toThrow(
      /invalid listRuns result: runs:/,
    );
    expect(events[0]).toMatchObject({
      type: 'error',
      fatal: false,
      message: expect.stringMatching(/invalid message/),
    });
  });
});
