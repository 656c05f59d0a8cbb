import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fsyncDir, writeDurable } from '../runs';
import { makeDirs } from '../storage';
import { ExportError } from './model-layers';

/**
 * Puts an export where the user asked without ever losing what was there: everything is written
 * beside it under a dot-name and renamed into place only when complete, an existing output is
 * replaced only when asked to, and a folder only when it holds nothing but an export's own files.
 */

const errnoCode = (error: unknown): string | undefined =>
  (error as NodeJS.ErrnoException | null)?.code;

function explain(error: unknown, target: string): unknown {
  const code = errnoCode(error);
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new ExportError(
      `disk full (${code}) while writing ${target}; nothing was changed there`,
    );
  if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM')
    return new ExportError(
      `cannot write ${target}: its folder is not writable (${code}); choose another folder`,
    );
  if (code === 'ENOTDIR')
    return new ExportError(`cannot write ${target}: part of its path is a file, not a folder`);
  return error;
}

const sibling = (target: string, what: string) =>
  path.join(
    path.dirname(target),
    `.${path.basename(target)}.${what}-${process.pid}-${randomBytes(3).toString('hex')}`,
  );

/**
 * Whether the target exists and may be replaced; throws when it may not. `folderFiles` are the
 * files a folder export writes (null for a single file): a folder holding anything else is
 * never replaced. Cheap: run before a model is loaded too, so a mistyped --out fails at once.
 */
export function checkTarget(
  target: string,
  overwrite: boolean,
  folderFiles: readonly string[] | null,
): boolean {
  let stat;
  try {
    stat = statSync(target);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw explain(error, target);
  }
  if (folderFiles && !stat.isDirectory())
    throw new ExportError(`${target} is a file; a tfjs export without .zip is a folder`);
  if (!folderFiles && stat.isDirectory())
    throw new ExportError(`${target} is a folder; give a file name for this format`);
  if (folderFiles) {
    const held = readdirSync(target);
    // An empty folder holds nothing to lose.
    if (held.length === 0) return true;
    const foreign = held.filter((name) => !folderFiles.includes(name));
    if (foreign.length > 0)
      throw new ExportError(
        `${target} holds other files than an export's (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}); choose a new or empty folder`,
      );
  }
  if (!overwrite) throw new ExportError(`${target} already exists; pass --overwrite to replace it`);
  return true;
}

/** Writes one file; returns its size. */
export function writeExportFile(target: string, data: Uint8Array, overwrite: boolean): number {
  checkTarget(target, overwrite, null);
  const tmp = sibling(target, 'tmp');
  try {
    makeDirs(path.dirname(target));
    writeDurable(tmp, data);
    renameSync(tmp, target);
    fsyncDir(path.dirname(target));
  } catch (error) {
    rmSync(tmp, { force: true });
    throw explain(error, target);
  }
  return data.length;
}

/**
 * Writes a folder of files; returns their total size. An existing folder is replaced only when
 * every file in it is one this export writes (a re-export of the same format), never a folder
 * that holds anything else.
 */
export function writeExportFolder(
  target: string,
  files: Record<string, Uint8Array>,
  overwrite: boolean,
): number {
  const exists = checkTarget(target, overwrite, Object.keys(files));
  const tmp = sibling(target, 'tmp');
  const old = sibling(target, 'old');
  try {
    makeDirs(path.dirname(target));
    mkdirSync(tmp);
    for (const [name, data] of Object.entries(files)) writeDurable(path.join(tmp, name), data);
    fsyncDir(tmp);
    // Swapped, not deleted first: a failure between the two renames leaves the old export
    // beside its place under a dot-name instead of nothing.
    if (exists) renameSync(target, old);
    try {
      renameSync(tmp, target);
    } catch (error) {
      if (exists) renameSync(old, target);
      throw error;
    }
    fsyncDir(path.dirname(target));
  } catch (error) {
    rmSync(tmp, { recursive: true, force: true });
    throw explain(error, target);
  }
  if (existsSync(old)) rmSync(old, { recursive: true, force: true });
  return Object.values(files).reduce((sum, data) => sum + data.length, 0);
}
