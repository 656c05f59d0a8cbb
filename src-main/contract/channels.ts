/**
 * Names shared by main and preload. Kept free of zod so the sandboxed preload bundle stays tiny;
 * a test checks REQUEST_TYPES against the contract's schemas.
 */
export const IPC_CHANNELS = { request: 'studio:request', event: 'studio:event' } as const;

export const REQUEST_TYPES = [
  'train',
  'resume',
  'stop',
  'listRuns',
  'deleteRun',
  'renameRun',
  'evaluate',
  'restore',
  'examples',
  'modelFiles',
  'predict',
  'status',
  'startSweep',
  'resumeSweep',
  'stopSweep',
  'sweepStatus',
  'deleteSweep',
  'exportCheckpoint',
] as const;
export type RequestType = (typeof REQUEST_TYPES)[number];
