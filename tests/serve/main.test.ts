import path from 'node:path';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { SweepView } from '../../src-main/contract/sweep-view';
import { readRun } from '../../src-main/engine/runs';
import { readSweepJournal } from '../../src-main/engine/sweeps/journal';
import { mlpBatchesOfOne } from '../fixtures/train-configs';
import { interruptTwice, spawnGroup, tempDir, waitUntilGone, type GroupProcess } from '../helpers';

/** serve's process: how it ends when its process group is signalled while a run trains. */

/** One trial at a time of 3,000 one-image batches an epoch: a signal lands mid-epoch. */
const tinySweep = {
  preset: 'mlp',
  base: { epochs: 2, batchSize: 1, limit: 3000, validationSize: 100, backend: 'wasm' },
  space: { learningRate: { kind: 'log-uniform', min: 1e-4, max: 1e-2 } },
  strategy: 'random',
  budget: { maxTrials: 2 },
  parallelism: 1,
};

const checkpoints = tempDir();
// The built renderer (the test command builds it first): serve refuses a page without its CSP.
const staticDir = path.join(import.meta.dirname, '../../out/renderer');
const entry = path.join(import.meta.dirname, '../../src-main/serve/main.ts');

interface Session {
  serve: GroupProcess;
  events: Record<string, unknown>[];
  event(
    type: string,
    where?: (e: Record<string, unknown>) => boolean,
  ): Promise<Record<string, unknown>>;
  /** Sends a request as a page does and resolves with the server's answer. */
  ask(request: Record<string, unknown>): Promise<{ ok: boolean; result?: unknown; error?: string }>;
  closed: Promise<void>;
}

/** serve in a process group of its own, a page's WebSocket to it, and a run started through it. */
async function serveTraining(trainConfig: Record<string, unknown>): Promise<Session> {
  const session = await serveSession();
  void session.ask({ type: 'train', config: trainConfig });
  await session.event('batch');
  return session;
}

/** serve in a process group of its own, and a page's WebSocket to it. */
async function serveSession(): Promise<Session> {
  const serve = spawnGroup(entry, ['--checkpoints', checkpoints, '--static', staticDir]);
  const url = new URL((await serve.line((l) => l.type === 'text')).text as string);
  const ws = new WebSocket(`ws://${url.host}/ws?token=${url.searchParams.get('token')}`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const events: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  const answers = new Map<
    number,
    (answer: { ok: boolean; result?: unknown; error?: string }) => void
  >();
  ws.on('message', (data: WebSocket.RawData) => {
    const message = JSON.parse(data.toString()) as {
      event?: Record<string, unknown>;
      id?: number;
      ok?: boolean;
    };
    if (message.event) events.push(message.event);
    else if (typeof message.id === 'number') answers.get(message.id)?.(message as never);
    for (const waiter of waiters.splice(0)) waiter();
  });
  const event = (type: string, where: (e: Record<string, unknown>) => boolean = () => true) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const check = () => {
        const hit = events.find((e) => e.type === type && where(e));
        if (hit) resolve(hit);
        else waiters.push(check);
      };
      check();
    });
  let nextId = 1;
  const ask = (request: Record<string, unknown>) =>
    new Promise<{ ok: boolean; result?: unknown; error?: string }>((resolve) => {
      const id = nextId++;
      answers.set(id, resolve);
      ws.send(JSON.stringify({ id, request }));
    });
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  return { serve, events, event, ask, closed };
}

describe('serve, signalled while a run trains', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    '%s to its group stops the run after the current batch, tells the page, and exits 0',
    async (signal) => {
      const { serve, events, event, ask, closed } = await serveTraining(mlpBatchesOfOne);
      const worker = (await event('ready')).pid as number;
      const { runId } = await event('started');
      // A sweep would share the cores with the run: refused, naming it.
      expect(await ask({ type: 'startSweep', spec: tinySweep })).toEqual({
        id: expect.any(Number) as number,
        ok: false,
        error: `run ${runId as string} is training; stop it or let it finish before starting a sweep`,
      });
      serve.signalGroup(signal);
      expect(await serve.exited).toEqual({ code: 0, signal: null });
      await closed;
      expect(events.find((e) => e.type === 'stopped')).toMatchObject({ runId, epoch: 0 });
      expect(events.filter((e) => e.type === 'error' && e.runId !== null)).toEqual([]);
      expect(readRun(checkpoints, runId as string)).toMatchObject({
        status: 'stopped',
        pid: null,
        // SIGTERM reaches the worker too, which may stop the run itself first: both are true.
        reason: expect.stringMatching(
          new RegExp(
            `^stopped \\((serve mode|the worker left:) received ${signal}\\) during epoch 1$`,
          ),
        ),
      });
      expect(await waitUntilGone(worker, 5000)).toBe(true);
    },
  );

  it('a second SIGINT kills the worker, marks the run crashed, and exits 130', async () => {
    // Batches of a second or more on the cpu backend, so the first stop is still waiting.
    const { serve, events, event } = await serveTraining({
      ...mlpBatchesOfOne,
      batchSize: 150,
      hiddenUnits: 2048,
      limit: 300,
      backend: 'cpu',
    });
    const worker = (await event('ready')).pid as number;
    const { runId } = await event('started');
    const signalled = await interruptTwice(serve);
    expect(await serve.exited).toEqual({ code: 130, signal: null });
    expect(Date.now() - signalled).toBeLessThan(5000);
    expect(events.some((e) => e.type === 'stopped')).toBe(false);
    expect(readRun(checkpoints, runId as string)).toMatchObject({
      status: 'crashed',
      reason: 'the training worker was killed (SIGKILL)',
    });
    expect(await waitUntilGone(worker, 5000)).toBe(true);
  });
});

describe('serve, signalled while a sweep runs', () => {
  it('SIGTERM stops the trials after their current batch, leaves the sweep stopped, exits 0', async () => {
    const { serve, event, ask, closed } = await serveSession();
    const started = await ask({ type: 'startSweep', spec: tinySweep });
    expect(started.ok).toBe(true);
    const sweepId = (started.result as { id: string }).id;
    const running = (e: Record<string, unknown>) =>
      (e.sweep as SweepView).trials.some((t) => t.status === 'running');
    const view = (await event('sweep', running)).sweep as SweepView;
    const runId = view.trials[0]!.runId!;
    // The app's own run is refused while the sweep trains its trials.
    expect(await ask({ type: 'train', config: mlpBatchesOfOne })).toMatchObject({
      ok: false,
      error: `sweep ${sweepId} is running; stop it (Sweep panel) before training a run`,
    });
    serve.signalGroup('SIGTERM');
    expect(await serve.exited).toEqual({ code: 0, signal: null });
    await closed;
    const journal = readSweepJournal(checkpoints, sweepId);
    expect(journal.status).toBe('stopped');
    expect(journal.trials[0]).toMatchObject({ runId, status: 'interrupted' });
    expect(readRun(checkpoints, runId)).toMatchObject({ status: 'stopped', pid: null });
  });
});
