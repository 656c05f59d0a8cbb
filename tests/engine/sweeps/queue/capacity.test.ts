import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseQueueUrl } from '../../../../src-main/engine/sweeps/queue/connection';
import { openQueueLauncher } from '../../../../src-main/engine/sweeps/queue/launcher';
import { QueueWorker } from '../../../../src-main/engine/sweeps/queue/worker';
import type { TrialLauncher } from '../../../../src-main/engine/sweeps/runner';
import { startRedis, type RedisServer } from './processes';

/**
 * `--parallel auto` over a queue: workers announce their concurrency in Redis and the sweep's
 * launcher adds it up, on a real redis-server (no trial is trained here).
 */

let redis: RedisServer;
let dir: string;

beforeAll(async () => {
  redis = await startRedis();
  dir = mkdtempSync(path.join(tmpdir(), 'queue-capacity-'));
});

afterAll(async () => {
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const idle: TrialLauncher = {
  start: () => Promise.reject(new Error('no trial in this test')),
  close: () => Promise.resolve(),
};

const until = async (found: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!found() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
};

describe("a queue launcher's capacity", () => {
  it("is the live workers' total concurrency, and drops when one closes", async () => {
    const target = parseQueueUrl(redis.url);
    const launcher = await openQueueLauncher({ target, root: dir, reconcileMs: 100 });
    try {
      expect(launcher.capacity()).toBe(0);
      const open = (name: string, concurrency: number) =>
        QueueWorker.open({
          target,
          root: path.join(dir, name),
          launcher: idle,
          concurrency,
          name,
          onEvent: () => undefined,
        });
      const a = await open('A', 2);
      const b = await open('B', 3);
      await until(() => launcher.capacity() === 5, 5_000);
      expect(launcher.capacity()).toBe(5);
      await b.close();
      await until(() => launcher.capacity() === 2, 5_000);
      expect(launcher.capacity()).toBe(2);
      await a.close();
    } finally {
      await launcher.close();
    }
  });
});
