import type { ExportCheckpointRequest, ExportOutcome } from '../contract/api';
import { readRun } from '../engine/runs';
import { exportFileName } from '../shared/export-names';
import type { ExportDestination } from './export-destination';
import { HostCommandError, type WorkerHost } from './worker-host';

/**
 * A page's export: the host names the file and picks where it goes (`destination`), the worker
 * loads, verifies and writes the checkpoint there (the engine's work stays off this event loop).
 * A run that is gone fails before any dialog opens; anything the worker refuses (a damaged
 * checkpoint, a full disk) comes back as the request's error, with the place let go.
 */
export async function exportForPage(
  host: WorkerHost,
  request: ExportCheckpointRequest,
  destination: ExportDestination | null,
  checkpointsDir: string,
): Promise<ExportOutcome> {
  if (!destination) throw new HostCommandError('this host cannot export checkpoints');
  const { runId, epoch, format, withOptimizer } = request;
  const { name } = readRun(checkpointsDir, runId);
  const place = await destination.choose({
    fileName: exportFileName({ runId, name }, epoch, format),
    format,
  });
  if (!place) return { status: 'cancelled' };
  try {
    const written = await host.request({
      type: 'writeExport',
      runId,
      epoch,
      format,
      withOptimizer,
      out: place.path,
      overwrite: place.overwrite,
    });
    return place.done(written.bytes);
  } catch (error) {
    place.discard();
    throw error;
  }
}
