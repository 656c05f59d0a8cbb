import { describeZodError } from '../contract/config';
import {
  ClientRequestSchema,
  type ClientResultOf,
  type ClientRequestType,
  type Status,
} from '../contract/api';
import type { ExportDestination } from './export-destination';
import { exportForPage } from './export-checkpoint';
import type { SweepHost } from './sweep-host';
import { HostCommandError, type WorkerHost } from './worker-host';

/**
 * The one entry for requests from a renderer, over IPC or WebSocket: validate the untrusted
 * payload against the contract, answer `status`, the sweep requests and exports here, and pass
 * the rest to the worker. The contract has no way to send the worker's path-taking commands.
 */
export async function handleClientRequest(
  host: WorkerHost,
  raw: unknown,
  context: Pick<Status, 'mode' | 'checkpointsDir'>,
  /** Null where sweeps cannot run (a host without one): sweep requests are refused. */
  sweeps: SweepHost | null = null,
  /** Where exports go (a save dialog, serve mode's downloads); null: exports are refused. */
  exports: ExportDestination | null = null,
): Promise<ClientResultOf<ClientRequestType>> {
  const parsed = ClientRequestSchema.safeParse(raw);
  if (!parsed.success)
    throw new HostCommandError(`invalid request: ${describeZodError(parsed.error)}`);
  const request = parsed.data;
  switch (request.type) {
    case 'status':
      // A page that opens wants the backend badge filled: start the worker now; `ready` follows.
      host.start();
      return {
        backend: host.backend,
        activeRun: host.training,
        activeRunBatches: host.trainingBatches,
        restored: host.restored,
        ...context,
      };
    case 'sweepStatus':
      return sweeps ? sweeps.status() : { sweep: null, resumable: [] };
    case 'startSweep':
      return requireSweeps(sweeps).start(request.spec);
    case 'resumeSweep':
      return requireSweeps(sweeps).resume(request.sweepId);
    case 'deleteSweep':
      return requireSweeps(sweeps).delete(request.sweepId, request.runs);
    case 'stopSweep': {
      if (!sweeps?.running) return { stopping: false };
      // Answered at once: the trials end after their current batch, which the sweep's events show.
      void sweeps.stop();
      return { stopping: true };
    }
    case 'exportCheckpoint':
      return exportForPage(host, request, exports, context.checkpointsDir);
    case 'train':
    case 'resume':
      if (sweeps?.running)
        throw new HostCommandError(
          `sweep ${sweeps.running} is running; stop it (Sweep panel) before training a run`,
        );
      return host.request(request);
    default:
      return host.request(request);
  }
}

function requireSweeps(sweeps: SweepHost | null): SweepHost {
  if (!sweeps) throw new HostCommandError('this host does not run sweeps');
  return sweeps;
}
