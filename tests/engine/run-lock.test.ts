import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { currentProcess, liveness, processStartTime } from '../../src-main/engine/process-identity';
import {
  LOCK_FILE,
  RunLockedError,
  acquireRunLock,
  removeStaleLock,
  runLockState,
  type LockInfo,
} from '../../src-main/engine/run-lock';
import { tempDir } from '../helpers';

const root = tempDir();
let counter = 0;
const freshRun = () => `lock-run-${++counter}`;
const lockPath = (runId: string) => path.join(root, runId, LOCK_FILE);

/** The identity of a process that has exited: its pid is (almost surely) free now. */
function deadProcess(): LockInfo {
  const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], {
    encoding: 'utf8',
  });
  return {
    pid: Number(child.stdout.trim()),
    startTime: 'boot:1',
    host: currentProcess().host,
    owner: 'the CLI (npm run cli -- train)',
    acquiredAt: '2026-11-30T01:02:03.000Z',
  };
}

function plant(runId: string, info: LockInfo | string): void {
  acquireRunLock(root, runId, 'setup').release(); // creates the folder
  writeFileSync(lockPath(runId), typeof info === 'string' ? info : JSON.stringify(info));
}

describe('process identity', () => {
  it('names this process by pid and start time, stable across calls', () => {
    const me = currentProcess();
    expect(me.pid).toBe(process.pid);
    expect(me.startTime).not.toBeNull();
    expect(processStartTime(process.pid)).toBe(me.startTime);
    expect(liveness(me)).toBe('alive');
  });

  it('tells a live process from a gone one, and from a reused pid', () => {
    expect(liveness(deadProcess())).toBe('gone');
    // This very pid, but a start time it never had: the recorded owner is someone else.
    expect(liveness({ ...currentProcess(), startTime: 'boot:1' })).toBe('gone');
    expect(liveness({ ...currentProcess(), host: 'elsewhere.example' })).toBe('unknown');
  });
});

describe('run locks', () => {
  it('is held by one owner at a time, and the refusal names the owner', () => {
    const runId = freshRun();
    const lock = acquireRunLock(root, runId, 'serve mode at http://127.0.0.1:4321');
    const written = JSON.parse(readFileSync(lockPath(runId), 'utf8')) as LockInfo;
    expect(written).toMatchObject({
      pid: process.pid,
      host: currentProcess().host,
      owner: 'serve mode at http://127.0.0.1:4321',
    });
    expect(written.startTime).toBe(currentProcess().startTime);
    expect(runLockState(root, runId)).toMatchObject({ state: 'held', liveness: 'alive' });

    let refusal: unknown;
    try {
      acquireRunLock(root, runId, 'the CLI (npm run cli -- resume)');
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(RunLockedError);
    expect((refusal as Error).message).toMatch(
      new RegExp(
        `^run ${runId} is being trained by serve mode at http://127\\.0\\.0\\.1:4321 \\(pid ${process.pid} on .+, since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC\\); stop it there first`,
      ),
    );
    lock.release();
    expect(existsSync(lockPath(runId))).toBe(false);
    acquireRunLock(root, runId, 'again').release();
  });

  it('takes over a lock whose owner is gone, and says so', () => {
    const runId = freshRun();
    plant(runId, deadProcess());
    expect(runLockState(root, runId)).toMatchObject({ state: 'stale' });
    const lock = acquireRunLock(root, runId, 'the CLI (npm run cli -- resume)');
    expect(lock.takeover).toMatch(
      new RegExp(
        `^took over run ${runId}: the CLI \\(npm run cli -- train\\) \\(pid \\d+ .*is no longer running$`,
      ),
    );
    expect((JSON.parse(readFileSync(lockPath(runId), 'utf8')) as LockInfo).pid).toBe(process.pid);
    lock.release();
  });

  it('waits while another process takes over, and clears a breaker a crash left behind', () => {
    const runId = freshRun();
    plant(runId, deadProcess());
    const breaker = `${lockPath(runId)}.break`;
    // Another process is in the middle of a takeover (it holds the breaker): no one else removes
    // the stale lock meanwhile; after its attempts this one gives up with a clear error.
    writeFileSync(breaker, '12345');
    expect(() => acquireRunLock(root, runId, 'the CLI')).toThrow(/keeps changing hands/);
    expect(runLockState(root, runId)).toMatchObject({ state: 'stale' });
    // A breaker older than any takeover was left by a crash: it is cleared and the lock taken.
    const old = new Date(Date.now() - 60_000);
    utimesSync(breaker, old, old);
    const lock = acquireRunLock(root, runId, 'the CLI');
    expect(lock.takeover).toMatch(/^took over run/);
    expect(existsSync(breaker)).toBe(false);
    lock.release();
  });

  it('never takes a reused pid for the live owner', () => {
    const runId = freshRun();
    // The pid is alive (it is ours), but it started at another time: the owner died long ago.
    plant(runId, { ...deadProcess(), pid: process.pid, startTime: 'boot:1' });
    const lock = acquireRunLock(root, runId, 'me');
    expect(lock.takeover).toMatch(/is no longer running/);
    lock.release();
  });

  it('takes over a lock of its own that it failed to remove (the folder had turned read-only)', () => {
    const runId = freshRun();
    const me = currentProcess();
    plant(runId, { ...me, runId, owner: 'me', acquiredAt: '2026-11-30T01:02:03.000Z' });
    const lock = acquireRunLock(root, runId, 'me');
    expect(lock.takeover).toBe(
      `took over run ${runId}: this process had ended that run without removing its lock`,
    );
    // One it does hold is live, even to itself.
    expect(() => acquireRunLock(root, runId, 'me again')).toThrow(RunLockedError);
    lock.release();
  });

  it('takes over an unreadable lock, and refuses one held on another machine', () => {
    const garbled = freshRun();
    plant(garbled, '\u0000\u0000{not json');
    const lock = acquireRunLock(root, garbled, 'me');
    expect(lock.takeover).toBe(`took over run ${garbled}: its lock file is unreadable`);
    lock.release();

    const remote = freshRun();
    plant(remote, { ...deadProcess(), host: 'lab-pc.example' });
    expect(() => acquireRunLock(root, remote, 'me')).toThrow(
      /on lab-pc\.example.*if nothing trains it on lab-pc\.example any more, delete .*run\.lock/,
    );
  });

  it('release leaves a lock alone that another process has taken since', () => {
    const runId = freshRun();
    const lock = acquireRunLock(root, runId, 'first');
    const other: LockInfo = {
      ...deadProcess(),
      pid: process.pid,
      startTime: currentProcess().startTime,
    };
    writeFileSync(
      lockPath(runId),
      JSON.stringify({ ...other, owner: 'second', acquiredAt: '2030-01-01T00:00:00.000Z' }),
    );
    lock.release();
    expect(existsSync(lockPath(runId))).toBe(true);
  });

  it('removeStaleLock removes a dead owner’s lock and keeps a live one', () => {
    const dead = freshRun();
    plant(dead, deadProcess());
    removeStaleLock(root, dead);
    expect(existsSync(lockPath(dead))).toBe(false);
    const live = freshRun();
    const lock = acquireRunLock(root, live, 'me');
    removeStaleLock(root, live);
    expect(existsSync(lockPath(live))).toBe(true);
    lock.release();
  });

  it('lets exactly one of several racing processes take over a stale lock', async () => {
    const runId = freshRun();
    plant(runId, deadProcess());
    const go = path.join(root, `${runId}.go`);
    const done = path.join(root, `${runId}.done`);
    const script = `
      import { existsSync } from 'node:fs';
      import { acquireRunLock } from ${JSON.stringify(path.resolve('src-main/engine/run-lock.ts'))};
      const until = async (file) => { while (!existsSync(file)) await new Promise((r) => setTimeout(r, 2)); };
      await until(${JSON.stringify(go)});
      try {
        const lock = acquireRunLock(${JSON.stringify(root)}, ${JSON.stringify(runId)}, 'racer ' + process.pid);
        process.stdout.write('won ' + (lock.takeover ? 'takeover' : 'plain') + '\\n');
        // Held until every racer has tried.
        await until(${JSON.stringify(done)});
        lock.release();
      } catch (error) {
        process.stdout.write((error.name === 'RunLockedError' ? 'refused' : 'failed ' + error.message) + '\\n');
      }
    `;
    const racers = Array.from({ length: 6 }, () =>
      spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
    const results: string[] = [];
    const allTried = new Promise<void>((resolve) => {
      for (const child of racers)
        child.stdout!.on('data', (c: Buffer) => {
          results.push(...c.toString().trim().split('\n'));
          if (results.length === racers.length) resolve();
        });
    });
    const exited = Promise.all(racers.map((c) => new Promise((r) => c.on('exit', r))));
    // Let every racer load before the start signal, so they really race.
    await new Promise((r) => setTimeout(r, 2500));
    writeFileSync(go, '');
    await allTried;
    writeFileSync(done, '');
    await exited;
    // Exactly one holder (two were seen in CI when a takeover moved the lock aside and back: a
    // third racer created one in that instant). Usually the racer that removed the stale lock wins
    // and says so; one arriving between that removal and the remover's own create finds no lock
    // and wins plainly: only the notice is lost.
    const won = results.filter((r) => r.startsWith('won'));
    expect(won).toHaveLength(1);
    expect(['won takeover', 'won plain']).toContain(won[0]);
    expect(results.filter((r) => r === 'refused')).toHaveLength(5);
  });
});
