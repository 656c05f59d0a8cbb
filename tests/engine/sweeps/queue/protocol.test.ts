import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveTrainConfig } from '../../../../src-main/contract/config';
import {
  appendMetricsLog,
  createRun,
  readRun,
  recordRunEnd,
} from '../../../../src-main/engine/runs';
import {
  checkRedis,
  parseQueueUrl,
  QueueUrlError,
} from '../../../../src-main/engine/sweeps/queue/connection';
import {
  QueueError,
  TrialJobDataSchema,
  TrialProgressSchema,
  TrialResultSchema,
  trialJobId,
} from '../../../../src-main/engine/sweeps/queue/protocol';
import { landRun, packRun } from '../../../../src-main/engine/sweeps/queue/run-files';
import { freePort } from './processes';

describe('parseQueueUrl', () => {
  it('reads host, port, database, user and password', () => {
    expect(parseQueueUrl('redis://10.0.0.5').options).toMatchObject({
      host: '10.0.0.5',
      port: 6379,
    });
    const full = parseQueueUrl('redis://me:p%40ss@queue.lan:6380/2');
    expect(full.options).toMatchObject({
      host: 'queue.lan',
      port: 6380,
      db: 2,
      username: 'me',
      password: 'p@ss',
    });
    // The password never reaches a message or a log.
    expect(full.display).toBe('redis://me:***@queue.lan:6380/2');
    expect(parseQueueUrl('rediss://[::1]:7000').options).toMatchObject({
      host: '::1',
      port: 7000,
      tls: { servername: '::1' },
    });
  });

  it('names what is wrong with a URL it refuses', () => {
    const cases: [string, RegExp][] = [
      ['queue.lan:6379', /must start with redis:\/\//],
      ['http://queue.lan:6379', /must start with redis:\/\/ or rediss:\/\/, not "http:\/\/"/],
      ['not a url', /must be a Redis URL like redis:\/\/HOST:6379/],
      ['redis://queue.lan:99999', /must be a Redis URL/],
      ['redis://queue.lan:6379/jobs', /the path is a database number/],
      ['redis://queue.lan:6379/?db=1', /no query string/],
    ];
    for (const [url, said] of cases) {
      expect(() => parseQueueUrl(url), url).toThrow(QueueUrlError);
      expect(() => parseQueueUrl(url), url).toThrow(said);
    }
  });
});

describe('checkRedis', () => {
  it('fails at once, naming the URL, when nothing listens there', async () => {
    const target = parseQueueUrl(`redis://127.0.0.1:${await freePort()}`);
    const t0 = Date.now();
    await expect(checkRedis(target)).rejects.toThrow(QueueError);
    await expect(checkRedis(target)).rejects.toThrow(`cannot reach Redis at ${target.display}`);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });
});

describe('the queue payloads', () => {
  const config = resolveTrainConfig({ model: 'mlp', epochs: 2, limit: 512 });
  const result = {
    version: 1,
    attempt: 1,
    worker: 'A',
    workerRunId: '20261130-145140-mlp-12a6',
    outcome: { type: 'finished', epochs: 2 },
    epochs: [{ epoch: 1, valAccuracy: 0.9, seconds: 1 }],
    checkpointEpoch: 1,
    note: null,
    files: [{ path: 'run.json', base64: 'e30=' }],
  };

  it('gives each trial attempt a job id BullMQ accepts', () => {
    const id = trialJobId('20261130-145140-sweep-mlp-b1bf', 3, 2);
    expect(id).toBe('20261130-145140-sweep-mlp-b1bf-t3-a2');
    expect(id).not.toContain(':');
  });

  it('takes a well-formed job, progress and result', () => {
    const tag = { id: '20261130-145140-sweep-mlp-b1bf', trial: 1 };
    const data = { version: 1, tag, attempt: 1, runId: '20261130-145140-mlp-12a6', config };
    expect(TrialJobDataSchema.parse(data)).toEqual(data);
    expect(TrialProgressSchema.safeParse({ attempt: 1, worker: 'A', epochs: [] }).success).toBe(
      true,
    );
    expect(TrialResultSchema.safeParse(result).success).toBe(true);
  });

  it('refuses a job for a config the trainer would refuse, or from another version', () => {
    const tag = { id: 'sweep', trial: 1 };
    const base = { version: 1, tag, attempt: 1, runId: 'r1', config };
    expect(TrialJobDataSchema.safeParse({ ...base, version: 2 }).success).toBe(false);
    expect(
      TrialJobDataSchema.safeParse({ ...base, config: { ...config, model: 'resnet' } }).success,
    ).toBe(false);
    expect(TrialJobDataSchema.safeParse({ ...base, runId: '../etc' }).success).toBe(false);
  });

  it('refuses result files that would land outside their run folder', () => {
    for (const bad of [
      '../other-run/run.json',
      '/etc/passwd',
      'epoch-001/../../x',
      '.hidden',
      'a/b/c/d',
      'epoch-001\\..\\x',
    ])
      expect(
        TrialResultSchema.safeParse({ ...result, files: [{ path: bad, base64: '' }] }).success,
        bad,
      ).toBe(false);
    expect(
      TrialResultSchema.safeParse({ ...result, files: [{ path: 'run.json', base64: '{}' }] })
        .success,
    ).toBe(false);
  });
});

describe('packRun and landRun', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'queue-files-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** A finished two-epoch run whose first epoch validated best. */
  function trainedRun(runId: string): void {
    const config = resolveTrainConfig({ model: 'mlp', epochs: 2, limit: 512 });
    createRun(root, runId, config, 'wasm', null, { id: 'sweep-1', trial: 2 });
    for (const [epoch, valAccuracy] of [
      [1, 0.9],
      [2, 0.8],
    ] as const) {
      appendMetricsLog(root, runId, {
        epoch,
        loss: 1,
        accuracy: 0.5,
        valLoss: 1,
        valAccuracy,
        seconds: 1,
        backend: 'wasm',
      });
      const dir = path.join(root, runId, `epoch-00${epoch}`);
      mkdirSync(dir);
      writeFileSync(path.join(dir, 'weights.bin'), Buffer.alloc(1000, epoch));
      writeFileSync(path.join(dir, 'checkpoint.json'), '{}');
    }
    mkdirSync(path.join(root, runId, 'train'));
    writeFileSync(path.join(root, runId, 'train', 'events.out.tfevents.1.host'), 'events');
    writeFileSync(path.join(root, runId, 'run.lock'), 'held');
    recordRunEnd(root, runId, { status: 'finished', reason: null });
  }

  it("sends the run's records and its best epoch, and lands them under the sweep's run id", () => {
    trainedRun('worker-run');
    const packed = packRun(root, 'worker-run');
    expect(packed.checkpointEpoch).toBe(1);
    expect(packed.note).toBeNull();
    expect(packed.files.map((f) => f.path).sort()).toEqual([
      'epoch-001/checkpoint.json',
      'epoch-001/weights.bin',
      'metrics.jsonl',
      'run.json',
      'train/events.out.tfevents.1.host',
    ]);

    const sweepRoot = path.join(root, 'sweep');
    expect(landRun(sweepRoot, 'sweep-run', packed.files)).toBe(true);
    const run = readRun(sweepRoot, 'sweep-run');
    expect(run).toMatchObject({ runId: 'sweep-run', status: 'finished', pid: null });
    expect(run.sweep).toEqual({ id: 'sweep-1', trial: 2 });
    expect(readdirSync(path.join(sweepRoot, 'sweep-run')).sort()).toEqual([
      'epoch-001',
      'metrics.jsonl',
      'run.json',
      'train',
    ]);
    // Reported twice, kept once.
    expect(landRun(sweepRoot, 'sweep-run', packed.files)).toBe(false);
    expect(readdirSync(sweepRoot)).toEqual(['sweep-run']);
  });

  it('leaves the checkpoint on the worker past the size cap, and says so', () => {
    trainedRun('big');
    const packed = packRun(root, 'big', 1500);
    expect(packed.checkpointEpoch).toBeNull();
    expect(packed.note).toMatch(/checkpoint of epoch 1 .* was left on the worker/);
    expect(packed.files.some((f) => f.path.startsWith('epoch-'))).toBe(false);
  });

  it('lands nothing from a result without a valid run.json', () => {
    const sweepRoot = path.join(root, 'sweep');
    expect(() => landRun(sweepRoot, 'r', [{ path: 'metrics.jsonl', base64: '' }])).toThrow(
      /holds no run.json/,
    );
    expect(() =>
      landRun(sweepRoot, 'r', [
        { path: 'run.json', base64: Buffer.from('{"runId":1}').toString('base64') },
      ]),
    ).toThrow(/run.json is malformed/);
    expect(existsSync(path.join(sweepRoot, 'r'))).toBe(false);
  });
});
