import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/**
 * Who a process is, beyond its pid: pids are reused, so a lock or a run that names only a pid can
 * mistake an unrelated process for its owner (a run listed `running` forever because its pid now
 * belonged to a shell). The pid plus the process's start time names one process for good.
 */

export interface ProcessIdentity {
  pid: number;
  /** Opaque; equal for the same process, different for a later one with the same pid. */
  startTime: string | null;
  host: string;
}

let bootId: string | null | undefined;

function linuxBootId(): string | null {
  if (bootId === undefined) {
    try {
      bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      bootId = null;
    }
  }
  return bootId;
}

/**
 * Linux: the start time in clock ticks since boot (field 22 of /proc/PID/stat), with the boot id,
 * since ticks restart at every boot. macOS and the BSDs: `ps -o lstart=`. Windows has no cheap
 * equivalent from Node, so there the pid alone identifies the process (null).
 */
export function processStartTime(pid: number): string | null {
  if (process.platform === 'linux') {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = fields[19];
      return ticks ? `${linuxBootId() ?? 'boot'}:${ticks}` : null;
    } catch {
      return null;
    }
  }
  if (process.platform === 'win32') return null;
  try {
    const out = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], {
      encoding: 'utf8',
      timeout: 2000,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return out || null;
  } catch {
    return null;
  }
}

export function currentProcess(): ProcessIdentity {
  return { pid: process.pid, startTime: processStartTime(process.pid), host: os.hostname() };
}

export type Liveness = 'alive' | 'gone' | 'unknown';

/**
 * `unknown` for a process on another machine (a checkpoints folder on a shared drive): it cannot
 * be checked from here, so callers treat it as alive rather than take work from it.
 */
export function liveness(identity: ProcessIdentity): Liveness {
  if (identity.host !== os.hostname()) return 'unknown';
  try {
    process.kill(identity.pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return 'gone';
  }
  if (identity.startTime === null) return 'alive';
  const now = processStartTime(identity.pid);
  // Same pid, another start time: the owner died and the pid was handed to a new process.
  return now === null || now === identity.startTime ? 'alive' : 'gone';
}
