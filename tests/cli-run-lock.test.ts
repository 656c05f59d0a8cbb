import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { resolveTrainConfig } from '../src-main/contract/config';
import { LOCK_FILE } from '../src-main/engine/run-lock';
import { startServe, type ServeProcess } from './e2e/browser';
import { runCli } from './cli-runner';
import { tempDir } from './helpers';

/**
 * One writer per run, across processes: while serve mode trains a run, the CLI (both default to
 * checkpoints/) may read it but not resume or delete it; a lock left by a dead process is taken
 * over, and said so.
 */

const root = tempDir();
const cli = (...args: string[]) => runCli(root, ...args);

let serve: ServeProcess | null = null;
afterAll(() => serve?.stop());

interface Wire {
  id?: number | null;
  ok?: boolean;
  result?: Record<string, unknown>;
  error?: string;
  event?: Record<string, unknown>;
}

function connect(url: string): Promise<{ ws: WebSocket; messages: Wire[] }> {
  const { host, searchParams } = new URL(url);
  const ws = new WebSocket(`ws://${host}/ws?token=${searchParams.get('token')}`);
  const messages: Wire[] = [];
  ws.on('message', (data) => messages.push(JSON.parse(data.toString()) as Wire));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, messages }));
    ws.once('error', reject);
  });
}

async function until<T>(find: () => T | undefined, what: string, ms = 90_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('run locks across processes', () => {
  it('refuses a CLI resume or delete of the run serve mode is training, naming serve', async () => {
    serve = await startServe(root);
    const port = new URL(serve.url).port;
    const { ws, messages } = await connect(serve.url);
    ws.send(
      JSON.stringify({
        id: 1,
        request: {
          type: 'train',
          config: resolveTrainConfig({
            model: 'mlp',
            epochs: 40,
            limit: 600,
            validationSize: 100,
            batchSize: 8,
            hiddenUnits: 16,
            backend: 'cpu',
          }),
        },
      }),
    );
    const reply = await until(() => messages.find((m) => m.id === 1), 'the train reply');
    expect(reply).toMatchObject({ ok: true });
    const runId = reply.result!.runId as string;
    const batchesSeen = () =>
      messages.filter((m) => m.event?.type === 'batch' && m.event.runId === runId).length;
    await until(() => (batchesSeen() > 0 ? true : undefined), 'a batch of the serve run');

    const owner = new RegExp(
      `run ${runId} is being trained by serve mode at http://127\\.0\\.0\\.1:${port} \\(pid \\d+ on ${os.hostname()}, since .* UTC\\); stop it there first`,
    );
    const resume = cli('resume', '--run', runId, '--epochs', '60');
    expect(resume.code).toBe(1);
    expect(resume.stderr).toMatch(owner);
    const del = cli('delete', '--run', runId);
    expect(del.code).toBe(1);
    expect(del.stderr).toMatch(owner);
    // Reading is fine while it trains.
    const listed = cli('list').lines.find((l) => l.type === 'run' && l.runId === runId);
    expect(listed).toMatchObject({
      status: 'running',
      reason: expect.stringMatching(
        new RegExp(`^being trained by serve mode at http://127\\.0\\.0\\.1:${port} \\(pid`),
      ),
    });

    // Serve's run went on untouched and ends as serve decides.
    const before = batchesSeen();
    await until(() => (batchesSeen() > before ? true : undefined), 'serve training on');
    ws.send(JSON.stringify({ id: 2, request: { type: 'stop' } }));
    await until(
      () => messages.find((m) => m.event?.type === 'stopped' && m.event.runId === runId),
      'the serve run to stop',
    );
    ws.close();
    expect(JSON.parse(readFileSync(path.join(root, runId, 'run.json'), 'utf8'))).toMatchObject({
      status: 'stopped',
    });
    expect(existsSync(path.join(root, runId, LOCK_FILE))).toBe(false);
  });

  it('takes over the lock of a process that died, and says so', () => {
    const trained = cli(
      'train',
      '--limit',
      '300',
      '--validation-size',
      '100',
      '--epochs',
      '1',
      '--hidden-units',
      '16',
      '--backend',
      'cpu',
    );
    expect(trained.code).toBe(0);
    const runId = trained.lines.find((l) => l.type === 'finished')!.runId as string;
    const exited = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], {
      encoding: 'utf8',
    });
    writeFileSync(
      path.join(root, runId, LOCK_FILE),
      JSON.stringify({
        pid: Number(exited.stdout.trim()),
        startTime: 'boot:1',
        host: os.hostname(),
        owner: 'serve mode at http://127.0.0.1:9',
        acquiredAt: '2026-11-30T01:02:03.000Z',
      }),
    );
    const resumed = cli('resume', '--run', runId, '--epochs', '2');
    expect(resumed.code).toBe(0);
    expect(resumed.lines.find((l) => l.type === 'started')).toMatchObject({
      runId,
      startEpoch: 2,
      notices: [
        expect.stringMatching(
          new RegExp(
            `^took over run ${runId}: serve mode at http://127\\.0\\.0\\.1:9 \\(pid \\d+ .*\\) is no longer running$`,
          ),
        ),
      ],
    });
    expect(resumed.lines.at(-1)).toMatchObject({ type: 'finished', runId, epochs: 2 });
    expect(existsSync(path.join(root, runId, LOCK_FILE))).toBe(false);
  });
});
