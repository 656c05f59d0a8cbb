import type { WorkerEvent } from '../../src-main/contract/messages';
import { forkWorker } from '../../src-main/host/fork-worker';
import { WorkerHost, type HostOptions } from '../../src-main/host/worker-host';

type EventOf<T extends WorkerEvent['type']> = Extract<WorkerEvent, { type: T }>;

/**
 * A WorkerHost over a real forked worker (by default the source entry on wasm), with every event
 * it reports kept in order.
 */
export function hostWithEvents(
  checkpointsDir: string,
  options: Partial<Pick<HostOptions, 'spawn' | 'backend' | 'threadEntry'>> = {},
) {
  const events: WorkerEvent[] = [];
  const waiters: { match: (e: WorkerEvent) => boolean; resolve: (e: WorkerEvent) => void }[] = [];
  const host = new WorkerHost({
    spawn: forkWorker(),
    checkpointsDir,
    dataDir: null,
    backend: 'wasm',
    ...options,
    onEvent: (e) => {
      events.push(e);
      for (const w of [...waiters])
        if (w.match(e)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(e);
        }
    },
  });
  /** The next event of this type (and matching `where`) from now on: call it before the cause. */
  const next = <T extends WorkerEvent['type']>(
    type: T,
    where: (e: EventOf<T>) => boolean = () => true,
  ) =>
    new Promise<EventOf<T>>((resolve) =>
      waiters.push({
        match: (e) => e.type === type && where(e as EventOf<T>),
        resolve: resolve as (e: WorkerEvent) => void,
      }),
    );
  return { host, events, next };
}
