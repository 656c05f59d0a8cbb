import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';

/**
 * Writes that fail because of the disk, not because of a bug: a full disk, a read-only or
 * unwritable folder. They end a run as `failed` with a reason a user can act on, instead of a
 * raw errno message or a run left `running`.
 */

export class StorageError extends Error {
  override name = 'StorageError';
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

const FULL = new Set(['ENOSPC', 'EDQUOT']);
// Not EPERM: Windows reports a file held open by another program (a virus scanner, an indexer)
// that way, and calling that folder read-only would send the user looking in the wrong place.
const READ_ONLY = new Set(['EROFS', 'EACCES']);

const errnoCode = (error: unknown): string | undefined =>
  (error as NodeJS.ErrnoException | null)?.code;

export const isStorageFailure = (error: unknown): boolean => {
  const code = errnoCode(error);
  return code !== undefined && (FULL.has(code) || READ_ONLY.has(code));
};

/** The plain reason for a failed write, or null when the error is not about storage. */
export function storageReason(error: unknown, doing: string, folder: string): string | null {
  const code = errnoCode(error);
  if (code === undefined) return null;
  if (FULL.has(code)) return `disk full (${code}) while ${doing}; free some space and resume`;
  if (READ_ONLY.has(code))
    return `the checkpoints folder ${folder} is read-only (${code}) while ${doing}; make it writable or choose another folder`;
  return null;
}

const asStorageError = (error: unknown, doing: string, folder: string): unknown => {
  if (error instanceof StorageError) return error;
  const reason = storageReason(error, doing, folder);
  return reason === null ? error : new StorageError(reason, errnoCode(error)!);
};

/** Runs a write; a storage failure comes out as a StorageError saying what was being written. */
export function writing<T>(doing: string, folder: string, write: () => T): T {
  try {
    return write();
  } catch (error) {
    throw asStorageError(error, doing, folder);
  }
}

export async function writingAsync<T>(
  doing: string,
  folder: string,
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    throw asStorageError(error, doing, folder);
  }
}

/**
 * mkdir one level at a time: Node's recursive mkdir reports a read-only file system as ENOENT,
 * which is how a read-only folder used to be reported as a missing one.
 */
export function makeDirs(dir: string): void {
  if (existsSync(dir)) return;
  const parent = path.dirname(dir);
  if (parent !== dir) makeDirs(parent);
  try {
    mkdirSync(dir);
  } catch (error) {
    if (errnoCode(error) !== 'EEXIST') throw error;
  }
}

/**
 * Proves a folder takes a write (creating it if needed) before a command says it started, so a
 * read-only or full folder is refused up front instead of failing after an ok.
 */
export function probeWritable(dir: string, doing: string): void {
  writing(doing, dir, () => {
    makeDirs(dir);
    const probe = path.join(dir, `.write-probe-${process.pid}-${randomBytes(3).toString('hex')}`);
    const fd = openSync(probe, 'wx');
    try {
      writeSync(fd, 'ok');
    } finally {
      closeSync(fd);
      unlinkSync(probe);
    }
  });
}
