import path from 'node:path';
import { loadCheckpoint } from '../checkpoints';
import type { ExportRequest, ExportResult } from './export-request';
import { kerasArchive } from './keras-export';
import { describeModel, ExportError } from './model-layers';
import { onnxModel } from './onnx-export';
import { TFJS_MODEL_FILE, TFJS_WEIGHTS_FILE, tfjsFiles, tfjsZip } from './tfjs-export';
import { checkTarget, writeExportFile, writeExportFolder } from './write-output';

export { ExportError };

const TFJS_FILES = [TFJS_MODEL_FILE, TFJS_WEIGHTS_FILE];

/**
 * Writes one checkpoint of a run in another runtime's format. The checkpoint is verified as for a
 * restore (a damaged one is refused with its reason), and an existing output is checked before
 * any model is loaded, so a mistyped --out fails at once.
 */
export async function exportCheckpoint(
  root: string,
  request: ExportRequest,
): Promise<ExportResult> {
  const out = path.resolve(request.out);
  const asFolder = request.format === 'tfjs' && !out.toLowerCase().endsWith('.zip');
  checkTarget(out, request.overwrite, asFolder ? TFJS_FILES : null);
  const loaded = await loadCheckpoint(root, request.runId, request.epoch);
  const { model } = loaded;
  try {
    let bytes: number;
    let files: string[];
    if (request.format === 'tfjs') {
      const contents = await tfjsFiles(model, request.withOptimizer);
      files = Object.keys(contents);
      if (asFolder) {
        bytes = writeExportFolder(out, contents, request.overwrite);
      } else {
        bytes = writeExportFile(out, tfjsZip(contents), request.overwrite);
        files = [path.basename(out)];
      }
    } else {
      const described = describeModel(model);
      const data =
        request.format === 'keras' ? await kerasArchive(described) : onnxModel(described);
      bytes = writeExportFile(out, data, request.overwrite);
      files = [path.basename(out)];
    }
    return {
      runId: request.runId,
      epoch: loaded.epoch,
      format: request.format,
      path: out,
      bytes,
      files,
    };
  } finally {
    model.optimizer?.dispose();
    model.dispose();
  }
}
