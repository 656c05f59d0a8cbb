import { z } from 'zod';
import {
  BackendInfoSchema,
  EventSchema,
  RequestSchemas,
  RestoredSchema,
  ResultSchemas,
  type WorkerEvent,
} from './messages';

/**
 * What the renderer can ask for and hear, whichever transport carries it (Electron IPC through
 * the preload, or the serve mode's WebSocket). Requests are the worker's commands without a
 * request id, plus `status`, which the host answers itself. Adding a command to the worker
 * contract adds it here, to the preload and to the serve bridge with no other change.
 */

export const StatusRequestSchema = z.object({ type: z.literal('status') });

export const ClientRequestSchema = z.discriminatedUnion('type', [
  ...RequestSchemas,
  StatusRequestSchema,
]);
export type ClientRequest = z.infer<typeof ClientRequestSchema>;
export type ClientRequestType = ClientRequest['type'];

export const StatusSchema = z.object({
  /** Null until the worker has started; it starts on the first request. */
  backend: BackendInfoSchema.nullable(),
  /** The run being trained right now, as announced by its `started` event. */
  activeRun: z.custom<Extract<WorkerEvent, { type: 'started' }>>().nullable(),
  /**
   * That run's batch events so far (the most recent ACTIVE_RUN_BATCHES), so a page reloaded
   * mid-run draws its per-batch curves again; empty when nothing trains.
   */
  activeRunBatches: z.array(z.custom<Extract<WorkerEvent, { type: 'batch' }>>()),
  /** The checkpoint restored for drawing and evaluation; null: the latest finished one. */
  restored: RestoredSchema.nullable(),
  mode: z.enum(['electron', 'serve']),
  checkpointsDir: z.string(),
});
export type Status = z.infer<typeof StatusSchema>;

export const ClientResultSchemas = { ...ResultSchemas, status: StatusSchema } satisfies Record<
  ClientRequestType,
  z.ZodType
>;
export type ClientResultOf<T extends ClientRequestType> = z.infer<(typeof ClientResultSchemas)[T]>;

/** Everything the worker emits except replies, which the host turns into request results. */
export type ClientEvent = Exclude<WorkerEvent, { type: 'reply' }>;
export const ClientEventSchema = EventSchema;

/** The renderer-side API, identical over both transports. */
export interface StudioApi {
  request<R extends ClientRequest>(request: R): Promise<ClientResultOf<R['type']>>;
  onEvent(listener: (event: ClientEvent) => void): () => void;
}

/**
 * What the preload exposes as `window.studio`: one named function per request type (taking the
 * request without its `type`), and a subscription to events.
 */
export type PreloadApi = {
  [T in ClientRequestType]: (
    payload: Omit<Extract<ClientRequest, { type: T }>, 'type'>,
  ) => Promise<ClientResultOf<T>>;
} & { onEvent(listener: (event: ClientEvent) => void): () => void };

/** A request over serve mode's WebSocket: the client numbers its requests. */
export const WireRequestSchema = z.object({
  id: z.number().int().nonnegative(),
  request: z.unknown(),
});

/**
 * What serve mode's server sends over the WebSocket: an event, or the answer to request `id`
 * (null when the request could not even be read). Checked by the page like the events inside.
 */
export const WireMessageSchema = z.union([
  z.object({ event: z.unknown() }).strict(),
  z
    .object({
      id: z.number().int().nonnegative().nullable(),
      ok: z.literal(true),
      result: z.unknown(),
    })
    .strict(),
  z
    .object({
      id: z.number().int().nonnegative().nullable(),
      ok: z.literal(false),
      error: z.string(),
    })
    .strict(),
]);
export type WireMessage = z.infer<typeof WireMessageSchema>;
