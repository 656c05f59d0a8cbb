import { z } from 'zod';
import {
  BackendInfoSchema,
  EventSchema,
  ExportFormatSchema,
  RequestResultSchemas,
  RequestSchemas,
  RestoredSchema,
  RunIdSchema,
  type WorkerEvent,
} from './messages';
import { SweepSpecSchema } from './sweep';
import { SweepViewSchema } from './sweep-view';

/**
 * What the renderer can ask for and hear, whichever transport carries it (Electron IPC through
 * the preload, or the serve mode's WebSocket). Requests are the worker's commands without a
 * request id (but the worker-only ones, which carry paths), plus `status`, the sweep requests and
 * `exportCheckpoint`, which the host answers itself. Adding a
 * command to the worker contract adds it here, to the preload and to the serve bridge with no
 * other change.
 */

export const StatusRequestSchema = z.object({ type: z.literal('status') });

/**
 * A sweep's trials are worker processes of their own, so the host drives sweeps itself
 * (host/sweep-host.ts): at most one at a time, never beside a run the user trains.
 */
export const StartSweepRequestSchema = z.object({
  type: z.literal('startSweep'),
  spec: SweepSpecSchema,
});
/** Takes up a sweep that was stopped, or whose process was killed (`resumable` in sweepStatus). */
export const ResumeSweepRequestSchema = z.object({
  type: z.literal('resumeSweep'),
  sweepId: RunIdSchema,
});
export const StopSweepRequestSchema = z.object({ type: z.literal('stopSweep') });
export const SweepStatusRequestSchema = z.object({ type: z.literal('sweepStatus') });
/** Deletes a sweep that no process drives; with `runs`, its trial runs too (as `sweep delete`). */
export const DeleteSweepRequestSchema = z.object({
  type: z.literal('deleteSweep'),
  sweepId: RunIdSchema,
  runs: z.boolean(),
});

/**
 * One checkpoint for another runtime. The page names the checkpoint and the format only: where
 * the file goes is the host's choice (the desktop app's save dialog, or a download from serve
 * mode), so the object is strict and a page that names a path (`out`) is refused outright.
 */
export const ExportCheckpointRequestSchema = z
  .object({
    type: z.literal('exportCheckpoint'),
    runId: RunIdSchema,
    epoch: z.number().int().min(1).max(100_000),
    format: ExportFormatSchema,
    /** Adam's state too, to train on elsewhere: only the tfjs format carries it. */
    withOptimizer: z.boolean(),
  })
  .strict()
  .refine((r) => !r.withOptimizer || r.format === 'tfjs', {
    path: ['withOptimizer'],
    error: "only the tfjs format can carry the optimizer's state",
  });
export type ExportCheckpointRequest = z.infer<typeof ExportCheckpointRequestSchema>;

/** Where serve mode hands out a finished export, once: `/downloads/<random id>`. */
export const DOWNLOAD_PATH_PREFIX = '/downloads/';
export const DOWNLOAD_URL_PATTERN = /^\/downloads\/[A-Za-z0-9_-]{16,64}$/;

const exportedBytes = z.number().int().nonnegative();
/**
 * cancelled: the user closed the save dialog. saved: written where the user chose (desktop).
 * download: serve mode wrote it aside; the page fetches `url` (same origin, once) as `fileName`.
 */
export const ExportOutcomeSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('cancelled') }),
  z.object({ status: z.literal('saved'), path: z.string().min(1), bytes: exportedBytes }),
  z.object({
    status: z.literal('download'),
    // Only our own download route: the page follows this link, so it must not lead elsewhere.
    url: z.string().regex(DOWNLOAD_URL_PATTERN),
    fileName: z.string().min(1).max(255),
    bytes: exportedBytes,
  }),
]);
export type ExportOutcome = z.infer<typeof ExportOutcomeSchema>;

export const HostRequestSchemas = [
  StatusRequestSchema,
  StartSweepRequestSchema,
  ResumeSweepRequestSchema,
  StopSweepRequestSchema,
  SweepStatusRequestSchema,
  DeleteSweepRequestSchema,
  ExportCheckpointRequestSchema,
] as const;

export const ClientRequestSchema = z.discriminatedUnion('type', [
  ...RequestSchemas,
  ...HostRequestSchemas,
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

/** A sweep `resumeSweep` can take up: stopped, or interrupted (its process died mid-sweep). */
export const ResumableSweepSchema = z.object({
  sweepId: RunIdSchema,
  status: z.enum(['stopped', 'interrupted']),
  trials: z.number().int().min(0),
  createdAt: z.string(),
});
export type ResumableSweep = z.infer<typeof ResumableSweepSchema>;

export const SweepStatusSchema = z.object({
  /** The sweep this host runs, else the last one it ran; null before the first. */
  sweep: SweepViewSchema.nullable(),
  /** Sweeps on disk that could go on, newest first (never the one running). */
  resumable: z.array(ResumableSweepSchema),
});
export type SweepStatus = z.infer<typeof SweepStatusSchema>;

export const ClientResultSchemas = {
  // The worker-only commands' results (writeExport) are not a page's business.
  ...RequestResultSchemas,
  status: StatusSchema,
  startSweep: SweepViewSchema,
  resumeSweep: SweepViewSchema,
  /** stopping: false when no sweep was running. */
  stopSweep: z.object({ stopping: z.boolean() }),
  sweepStatus: SweepStatusSchema,
  deleteSweep: z.object({ sweepId: RunIdSchema, runsDeleted: z.array(RunIdSchema) }),
  exportCheckpoint: ExportOutcomeSchema,
} satisfies Record<ClientRequestType, z.ZodType>;
export type ClientResultOf<T extends ClientRequestType> = z.infer<(typeof ClientResultSchemas)[T]>;

/**
 * The sweep as it stands, sent after every write of its journal (a trial proposed, started,
 * scored or ended) and when it starts, stops or finishes: the panel redraws from it alone.
 */
export const SweepViewEventSchema = z.object({
  type: z.literal('sweep'),
  sweep: SweepViewSchema,
  /** Set when the sweep itself failed (its journal could not be written); trials keep theirs. */
  error: z.string().nullable().default(null),
});
export type SweepViewEvent = z.infer<typeof SweepViewEventSchema>;

/**
 * Sent when a sweep was deleted, so every window drops it from its Resume list and, when it was
 * the sweep shown, from the Sweep panel; the Checkpoints list reads the runs again.
 */
export const SweepDeletedEventSchema = z.object({
  type: z.literal('sweepDeleted'),
  sweepId: RunIdSchema,
  runsDeleted: z.array(RunIdSchema),
});
export type SweepDeletedEvent = z.infer<typeof SweepDeletedEventSchema>;

/**
 * Everything the worker emits except replies, which the host turns into request results, and
 * the host's own sweep events.
 */
export type ClientEvent =
  Exclude<WorkerEvent, { type: 'reply' }> | SweepViewEvent | SweepDeletedEvent;
export const ClientEventSchema = z.discriminatedUnion('type', [
  ...EventSchema.options,
  SweepViewEventSchema,
  SweepDeletedEventSchema,
]);

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
