import { describeZodError } from '../contract/config';
import {
  ClientRequestSchema,
  type ClientResultOf,
  type ClientRequestType,
  type Status,
} from '../contract/api';
import { HostCommandError, type WorkerHost } from './worker-host';

/**
 * The one entry for requests from a renderer, over IPC or WebSocket: validate the untrusted
 * payload against the contract, answer `status` here, and pass the rest to the worker.
 */
export async function handleClientRequest(
  host: WorkerHost,
  raw: unknown,
  context: Pick<Status, 'mode' | 'checkpointsDir'>,
): Promise<ClientResultOf<ClientRequestType>> {
  const parsed = ClientRequestSchema.safeParse(raw);
  if (!parsed.success)
    throw new HostCommandError(`invalid request: ${describeZodError(parsed.error)}`);
  const request = parsed.data;
  if (request.type === 'status') {
    // A page that opens wants the backend badge filled: start the worker now; `ready` follows.
    host.start();
    return {
      backend: host.backend,
      activeRun: host.training,
      activeRunBatches: host.trainingBatches,
      restored: host.restored,
      ...context,
    };
  }
  return host.request(request);
}
