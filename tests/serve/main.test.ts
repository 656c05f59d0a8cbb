import path from 'node:path';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { readRun } from '../../src-main/engine/runs';
import { mlpBatchesOfOne } from '../fixtures/train-configs';
import { interruptTwice, spawnGroup, tempDir, waitUntilGone, type GroupProcess } from '../helpers';

/** serve's process: how it ends when its process group is signalled while a run trains. */

const checkpoints = tempDir();
// The built renderer (the test command builds it first): serve refuses a page without its CSP.
const staticDir = path.join(import.meta.dirname, '../../out/renderer');
const entry = path.join(import.meta.dirname, '../../src-main/serve/main.ts');

interface Session {
  serve: GroupProcess;
  events: Record<string, unknown>[];
  event(type: string): Promise<Record<string, unknown>>;
  closed: Promise<void>;
}

/** serve in a process group of its own, a page's WebSocket to it, and a run started through it. */
async function serveTraining(trainConfig: Record<string, unknown>): Promise<Session> {
  const serve = spawnGroup(entry, ['--checkpoints', checkpoints, '--static', staticDir]);
  const url = new URL((await serve.line((l) => l.type === 'text')).text as string);
  const ws = new WebSocket(`ws://${url.host}/ws?token=${url.searchParams.get('token')}`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const events: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (data: WebSocket.RawData) => {
    const message = JSON.parse(data.toString()) as { event?: Record<string, unknown> };
    if (message.event) events.push(message.event);
    for (const waiter of waiters.splice(0)) waiter();
  });
  const event = (type: string) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const check = () => {
        const hit = events.find((e) => e.type === type);
        if (hit) resolve(hit);
        else waiters.push(check);
      };
      check();
    });
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  ws.send(JSON.stringify({ id: 1, request: { type: 'train', config: trainConfig } }));
  await event('batch');
  return { serve, events, event, closed };
}

describe('serve, signalled while a run trains', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    '%s to its group stops the run after the current batch, tells the page, and exits 0',
    async (signal) => {
      const { serve, events, event, closed } = await serveTraining(mlpBatchesOfOne);
      const worker = (await event('ready')).pid as number;
      const { runId } = await event('started');
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
