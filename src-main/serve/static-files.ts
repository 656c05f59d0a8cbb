import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';

/**
 * Files of the built renderer. They are read whole before the status line is sent (the largest
 * is a few MB): a read that fails then becomes a 500 instead of a truncated 200, and there is no
 * stream whose 'error' could go unheard.
 */

/** Thrown for a path whose %-escapes do not decode (`/%`, `/%zz`, `/%E0%A4%A`). */
export class MalformedPathError extends Error {}

// Errors that mean "there is no such file here", as opposed to one we failed to read.
const ABSENT = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'ELOOP', 'ENAMETOOLONG']);

/** The file under `root` that a URL path names, or null when it names none. */
export function resolveStaticPath(root: string, pathname: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch (error) {
    if (error instanceof URIError) throw new MalformedPathError(`malformed URL path ${pathname}`);
    throw error;
  }
  if (decoded.includes('\0')) return null;
  const file = path.resolve(root, decoded === '/' ? 'index.html' : decoded.slice(1));
  return file.startsWith(root + path.sep) ? file : null;
}

/**
 * The file's bytes, or null when there is no regular file there. Other failures (EACCES, EIO)
 * are thrown for the caller to log and answer with a 500.
 */
export async function readStaticFile(file: string): Promise<Buffer | null> {
  let handle;
  try {
    // O_NONBLOCK: opening a FIFO would otherwise wait for a writer, holding a libuv thread.
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    if (ABSENT.has((error as NodeJS.ErrnoException).code ?? '')) return null;
    throw error;
  }
  try {
    // fstat the opened file: a file swapped between a stat and the open cannot fool it.
    if (!(await handle.stat()).isFile()) return null;
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
