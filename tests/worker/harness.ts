import type { CommandType, ResultOf, WorkerEvent } from '../../src-main/contract/messages';
import { WorkerService } from '../../src-main/worker/service';

/**
 * A WorkerService in this process, as the worker's main runs it: commands in, events kept in
 * order. `init` must come before the other commands, as from a host.
 */
export function serviceHarness(onEvent: (e: WorkerEvent) => void = () => {}) {
  const events: WorkerEvent[] = [];
  const service = new WorkerService((e) => {
    events.push(e);
    onEvent(e);
  });
  let nextId = 1;

  const init = (checkpointsDir: string, backend: 'cpu' | 'wasm') =>
    service.handle({ type: 'init', checkpointsDir, dataDir: null, backend, threadEntry: null });

  /** Sends a command and resolves with its result; rejects with the reply's error. */
  const ask = async <T extends CommandType>(request: Record<string, unknown> & { type: T }) => {
    const requestId = nextId++;
    await service.handle({ ...request, requestId });
    const reply = events.find((e) => e.type === 'reply' && e.requestId === requestId);
    if (!reply || reply.type !== 'reply') throw new Error('no reply');
    if (!reply.ok) throw new Error(reply.error ?? 'failed');
    return reply.result as ResultOf<T>;
  };

  /** The first event so far or still to come that matches: runs go on after their reply. */
  const until = async (match: (e: WorkerEvent) => boolean, timeoutMs = 60_000) => {
    const started = Date.now();
    for (;;) {
      const found = events.find(match);
      if (found) return found;
      if (Date.now() - started > timeoutMs) throw new Error('timed out waiting for an event');
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  return { events, init, ask, until };
}
