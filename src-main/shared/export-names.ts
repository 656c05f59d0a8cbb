import type { ExportFormat } from '../contract/messages';

/**
 * What an export is called, computed the same way by the page (the dialog shows it before the
 * export starts) and by the host (the save dialog's default, serve mode's download name).
 */

/** The single-file form of each format: tfjs as a zip, so it is one file to save or download. */
export const EXPORT_EXTENSIONS: Record<ExportFormat, string> = {
  tfjs: '.zip',
  keras: '.keras',
  onnx: '.onnx',
};

export const EXPORT_FORMAT_LABELS: Record<ExportFormat, string> = {
  tfjs: 'TensorFlow.js (.zip)',
  keras: 'Keras 3 (.keras)',
  onnx: 'ONNX (.onnx)',
};

const MAX_BASE = 80;

/**
 * A run's name made safe as a file name on every system and in a browser download: letters and
 * digits of any script, spaces, ".", "_" and "-"; path separators, quotes and control characters
 * become "-", and no leading dot (a hidden file) or trailing dot or space (Windows drops them).
 */
export function fileNameBase(name: string | null | undefined): string {
  return (name ?? '')
    .normalize('NFC')
    .replace(/[^\p{L}\p{N} ._-]+/gu, '-')
    .replace(/\s+/g, ' ')
    .slice(0, MAX_BASE)
    .replace(/^[\s.-]+|[\s.-]+$/g, '');
}

/** "<run name or id>-epoch<N>.<ext>", e.g. "first CNN-epoch3.onnx". */
export function exportFileName(
  run: { runId: string; name?: string | null },
  epoch: number,
  format: ExportFormat,
): string {
  const base = fileNameBase(run.name) || run.runId;
  return `${base}-epoch${epoch}${EXPORT_EXTENSIONS[format]}`;
}
