import { randomBytes } from 'node:crypto';
import {
  closeSync,
  linkSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { currentProcess, liveness, type Liveness } from './process-identity';
import { CheckpointError, runDir, writeDurable } from './runs';
import { makeDirs } from './storage';

/**
 * One writer per run. A process that trains a run holds `run.lock` in the run's folder, naming
 * itself (pid, start time, host) and its owner as a person would say it ("serve mode at …").
 * Another process may read the run but not resume, delete or train into it. As with git's
 * `index.lock`, the file is created atomically with its content (written aside, then hard-linked
 * into place, which fails if the name exists), so no reader ever sees a half-written lock.
 * Unlike git's, a lock whose owner is gone (pid not running, or reused by a later process) is
 * stale and is taken over, and the new owner says so.
 */

export const LOCK_FILE = 'run.lock';

export const LockInfoSchema = z.object({
  /** The run it locks; with acquiredAt, names one acquisition within a process. */
  runId: z.string().optional(),
  pid: z.number().int().positive(),
  startTime: z.string().nullable(),
  host: z.string(),
  /** Who holds it, for messages: "the CLI (train)", "serve mode at http://127.0.0.1:8080". */
  owner: z.string(),
  acquiredAt: z.string(),
});
export type LockInfo = z.infer<typeof LockInfoSchema>;

export type LockState =
  | { state: 'free' }
  | { state: 'held'; info: LockInfo; liveness: Exclude<Liveness, 'gone'> }
  | { state: 'stale'; info: LockInfo | null; why: string };

export class RunLockedError extends CheckpointError {
  override name = 'RunLockedError';
  constructor(
    readonly runId: string,
    readonly holder: LockInfo,
    readonly file: string,
  ) {
    super(`run ${runId} is being trained by ${describeHolder(holder)}; ${adviceFor(holder, file)}`);
  }
}

export function describeHolder(info: LockInfo): string {
  const since = info.acquiredAt.replace('T', ' ').slice(0, 19);
  return `${info.owner} (pid ${info.pid} on ${info.host}, since ${since} UTC)`;
}

function adviceFor(info: LockInfo, file: string): string {
  if (info.host !== currentProcess().host)
    return `stop it there first; if nothing trains it on ${info.host} any more, delete ${file}`;
  return 'stop it there first, or wait until it finishes';
}

function lockFile(root: string, runId: string): string {
  return path.join(runDir(root, runId), LOCK_FILE);
}

function parseLock(text: string): LockInfo | null {
  try {
    const parsed = LockInfoSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/**
 * Locks this process holds right now. A lock naming this process that is not
 * among them is one it failed to remove (the folder had turned read-only, say): stale, not live.
 */
const heldHere = new Set<string>();
const heldKey = (info: LockInfo) => `${info.runId ?? ''}|${info.acquiredAt}`;

function isOurs(info: LockInfo): boolean {
  const me = currentProcess();
  return info.pid === me.pid && info.startTime === me.startTime && info.host === me.host;
}

function judge(text: string | null): LockState {
  if (text === null) return { state: 'free' };
  const info = parseLock(text);
  // A lock nobody can read protects nothing: an unreadable one is taken over like a dead one.
  if (!info) return { state: 'stale', info: null, why: 'its lock file is unreadable' };
  if (isOurs(info) && !heldHere.has(heldKey(info)))
    return {
      state: 'stale',
      info,
      why: 'this process had ended that run without removing its lock',
    };
  const alive = liveness(info);
  if (alive === 'gone')
    return { state: 'stale', info, why: `${describeHolder(info)} is no longer running` };
  return { state: 'held', info, liveness: alive };
}

/** Who, if anyone, holds the run; a lock whose owner is gone reads as stale. */
export function runLockState(root: string, runId: string): LockState {
  return judge(readText(lockFile(root, runId)));
}

export class RunLock {
  constructor(
    readonly file: string,
    readonly info: LockInfo,
    /** The stale lock this one replaced, said to the user once. */
    readonly takeover: string | null,
  ) {}

  /** Removes the lock if it is still ours (a process that took over a lock we lost keeps it). */
  release(): void {
    heldHere.delete(heldKey(this.info));
    try {
      const held = parseLock(readText(this.file) ?? '');
      if (held && held.pid === this.info.pid && held.acquiredAt === this.info.acquiredAt)
        rmSync(this.file, { force: true });
    } catch {
      // The run folder was deleted or is unreadable: there is no lock left to release.
    }
  }
}

/** Attempts at the lock; a takeover in progress elsewhere costs one (and a millisecond's wait). */
const TAKEOVER_ATTEMPTS = 200;

/**
 * Takes the run's lock, creating the run folder if needed, or throws RunLockedError naming the
 * owner. A stale lock is removed (see removeStale) and the attempt repeated.
 */
export function acquireRunLock(root: string, runId: string, owner: string): RunLock {
  const file = lockFile(root, runId);
  makeDirs(path.dirname(file));
  const info: LockInfo = {
    runId,
    ...currentProcess(),
    owner,
    acquiredAt: new Date().toISOString(),
  };
  const text = JSON.stringify(info, null, 2);
  const staged = `${file}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`;
  writeDurable(staged, text);
  let takeover: string | null = null;
  try {
    for (let attempt = 0; attempt < TAKEOVER_ATTEMPTS; attempt++) {
      if (createExclusive(staged, file, text)) {
        heldHere.add(heldKey(info));
        return new RunLock(file, info, takeover);
      }
      const seen = readText(file);
      const state = judge(seen);
      if (state.state === 'held') throw new RunLockedError(runId, state.info, file);
      if (state.state === 'free') continue;
      const moved = removeStale(file, seen);
      if (moved === 'busy') pause(1);
      if (moved !== 'removed') continue;
      takeover = `took over run ${runId}: ${state.why}`;
    }
    throw new CheckpointError(`could not take the lock of run ${runId}: it keeps changing hands`);
  } finally {
    rmSync(staged, { force: true });
  }
}

/** The lock's name appears with its whole content or not at all; false if it already exists. */
function createExclusive(staged: string, file: string, text: string): boolean {
  try {
    linkSync(staged, file);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // Filesystems without hard links (FAT, some network shares): exclusive create instead; a
    // reader may then briefly see an empty lock, which it judges unreadable, i.e. stale.
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS')
      throw error;
  }
  let fd: number;
  try {
    fd = openSync(file, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeFileSync(fd, text);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Removes the lock only if it still holds `seen`. Takeovers are serialized by a second lock,
 * `run.lock.break`, held only for the instant of one: whoever holds it re-reads the lock and
 * removes it only if unchanged, and nothing else ever removes another process's lock, so a live
 * lock is never moved, even for a moment. (Moving the lock aside and putting it back when it had
 * changed let a third process create one in that moment: two owners, seen in CI.) 'busy': another
 * process is taking over right now; look again.
 */
function removeStale(file: string, seen: string | null): 'removed' | 'changed' | 'busy' {
  const breaker = `${file}.break`;
  if (!takeBreaker(breaker)) return 'busy';
  try {
    if (readText(file) !== seen) return 'changed';
    rmSync(file, { force: true });
    return 'removed';
  } finally {
    rmSync(breaker, { force: true });
  }
}

/** A takeover holds the breaker for microseconds: one older than this was left by a crash. */
const BREAKER_STALE_MS = 10_000;

function takeBreaker(breaker: string): boolean {
  try {
    writeFileSync(breaker, String(process.pid), { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  try {
    if (Date.now() - statSync(breaker).mtimeMs > BREAKER_STALE_MS) rmSync(breaker, { force: true });
  } catch {
    // Gone meanwhile: the next attempt takes it.
  }
  return false;
}

/** Blocks this thread for `ms` (the lock is taken synchronously, and the wait is a millisecond). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Fails if another live process holds the run: used before deleting it. */
export function assertNotLockedByOthers(root: string, runId: string): void {
  const state = runLockState(root, runId);
  if (state.state === 'held') throw new RunLockedError(runId, state.info, lockFile(root, runId));
}

/** For the host after its worker died: the dead worker's lock is removed, a live one is kept. */
export function removeStaleLock(root: string, runId: string): void {
  try {
    const file = lockFile(root, runId);
    const seen = readText(file);
    if (judge(seen).state === 'stale') removeStale(file, seen);
  } catch {
    /* nothing to clean: the run is gone or unreadable */
  }
}
