import { z } from 'zod';
import { EXPORT_FORMATS, RUN_ID_PATTERN, type ExportFormat } from '../../contract/messages';

/** What an export is asked for, checked where it enters (the CLI, or the worker's writeExport). */

// The formats are the contract's, so the renderer's dialog offers exactly what the engine writes.
export { EXPORT_FORMATS, type ExportFormat };

export const ExportRequestSchema = z
  .object({
    runId: z.string().regex(RUN_ID_PATTERN, 'must be a run id as `list` prints it'),
    /** Null: the newest checkpoint that verifies. */
    epoch: z.number().int().min(1).nullable(),
    format: z.enum(EXPORT_FORMATS),
    /** A file (.keras, .onnx, a tfjs .zip) or a folder (tfjs); made absolute by the caller. */
    out: z.string().min(1),
    /** Adam's state too: only tfjs can carry it, so other formats refuse it. */
    withOptimizer: z.boolean().default(false),
    /** Replace an existing output (a folder only when it holds nothing but an export's files). */
    overwrite: z.boolean().default(false),
  })
  .superRefine((request, ctx) => {
    if (request.withOptimizer && request.format !== 'tfjs')
      ctx.addIssue({
        code: 'custom',
        path: ['withOptimizer'],
        message: `the optimizer's state can be exported in the tfjs format only (${request.format} gets the model alone)`,
      });
    // keras.saving.load_model refuses any other name ("File format not supported").
    if (request.format === 'keras' && !request.out.toLowerCase().endsWith('.keras'))
      ctx.addIssue({
        code: 'custom',
        path: ['out'],
        message: `a Keras 3 archive must be named *.keras (Keras refuses to load other names), not ${JSON.stringify(request.out)}`,
      });
  });
export type ExportRequest = z.infer<typeof ExportRequestSchema>;

export interface ExportResult {
  runId: string;
  epoch: number;
  format: ExportFormat;
  /** The file or folder written. */
  path: string;
  /** What was written, in bytes (a folder's files added up). */
  bytes: number;
  /** Files written, relative to `path` for a folder; the file's own name otherwise. */
  files: string[];
}
