import { describe, expect, it } from 'vitest';
import {
  ClientEventSchema,
  ClientRequestSchema,
  ClientResultSchemas,
  HostRequestSchemas,
} from '../../src-main/contract/api';
import { REQUEST_TYPES } from '../../src-main/contract/channels';
import { describeZodError, resolveTrainConfig } from '../../src-main/contract/config';
import { parseSweepSpec } from '../../src-main/contract/sweep';
import type { SweepView } from '../../src-main/contract/sweep-view';

/** The host's own requests and events (status, sweeps), as an untrusted page could send them. */

const spec = parseSweepSpec({
  preset: 'mlp',
  base: { epochs: 2, limit: 512 },
  space: { learningRate: { kind: 'log-uniform', min: 1e-4, max: 1e-2 } },
  budget: { maxTrials: 3 },
});

const view: SweepView = {
  id: 'sweep-1',
  spec,
  status: 'running',
  createdAt: '2026-11-30T12:00:00.000Z',
  rungs: [],
  maxEpochs: 2,
  trials: [
    {
      trial: 1,
      runId: 'run-1',
      point: { learningRate: 0.001 },
      config: resolveTrainConfig({ model: 'mlp', epochs: 2, limit: 512, learningRate: 0.001 }),
      status: 'running',
      epochsDone: 1,
      valAccuracy: 0.8,
      bestEpoch: 1,
      seconds: 3,
      reason: null,
    },
  ],
  importance: null,
  bestTrial: null,
};

const requestProblem = (raw: unknown): string | null => {
  const parsed = ClientRequestSchema.safeParse(raw);
  return parsed.success ? null : describeZodError(parsed.error);
};

describe('sweep requests', () => {
  it('accepts well-formed ones', () => {
    expect(requestProblem({ type: 'startSweep', spec })).toBeNull();
    expect(requestProblem({ type: 'resumeSweep', sweepId: 'sweep-1' })).toBeNull();
    expect(requestProblem({ type: 'stopSweep' })).toBeNull();
    expect(requestProblem({ type: 'sweepStatus' })).toBeNull();
    expect(requestProblem({ type: 'deleteSweep', sweepId: 'sweep-1', runs: true })).toBeNull();
    expect(requestProblem({ type: 'deleteSweep', sweepId: 'sweep-1', runs: false })).toBeNull();
  });

  it('fills a spec’s defaults as the engine would', () => {
    const request = ClientRequestSchema.parse({
      type: 'startSweep',
      spec: {
        preset: 'mlp',
        space: { dropout: { kind: 'uniform', min: 0, max: 0.5 } },
        budget: { maxTrials: 2 },
      },
    });
    expect(request).toMatchObject({ spec: { strategy: 'tpe', parallelism: 'auto', seed: 0 } });
  });

  it.each([
    [{ type: 'startSweep' }, /^spec: /],
    [
      { type: 'startSweep', spec: { ...spec, budget: {} } },
      /^spec\.budget: budget needs maxTrials/,
    ],
    [{ type: 'startSweep', spec: { ...spec, preset: 'resnet' } }, /^spec\.preset: preset must be/],
    [
      { type: 'startSweep', spec: { ...spec, space: { seed: { kind: 'choice', values: [1] } } } },
      /^spec\.space\.seed: seed is not a hyper-parameter/,
    ],
    [{ type: 'startSweep', spec: { ...spec, parallelism: 0 } }, /^spec\.parallelism: /],
    [{ type: 'resumeSweep' }, /^sweepId: /],
    [{ type: 'resumeSweep', sweepId: '../../etc' }, /^sweepId: runId may only contain/],
    [{ type: 'resumeSweep', sweepId: 7 }, /^sweepId: /],
    [{ type: 'deleteSweep', runs: true }, /^sweepId: /],
    [{ type: 'deleteSweep', sweepId: '../x', runs: true }, /^sweepId: runId may only contain/],
    [{ type: 'deleteSweep', sweepId: 'sweep-1' }, /^runs: /],
    [{ type: 'deleteSweep', sweepId: 'sweep-1', runs: 'yes' }, /^runs: /],
  ])('rejects %j naming the field', (raw, message) => {
    expect(requestProblem(raw)).toMatch(message);
  });

  it('are named in the preload’s list of request types', () => {
    for (const schema of HostRequestSchemas)
      expect(REQUEST_TYPES).toContain(schema.shape.type.value);
  });
});

describe('sweep results', () => {
  it('sweepStatus carries the view and the sweeps a resume can take up', () => {
    const status = { sweep: view, resumable: [] };
    expect(ClientResultSchemas.sweepStatus.parse(status)).toEqual(status);
    expect(ClientResultSchemas.sweepStatus.parse({ sweep: null, resumable: [] }).sweep).toBeNull();
    const resumable = [
      { sweepId: 's-2', status: 'interrupted', trials: 3, createdAt: '2026-11-30T12:00:00Z' },
    ];
    expect(ClientResultSchemas.sweepStatus.safeParse({ sweep: null, resumable }).success).toBe(
      true,
    );
    const finished = [{ ...resumable[0], status: 'finished' }];
    expect(
      ClientResultSchemas.sweepStatus.safeParse({ sweep: null, resumable: finished }).success,
    ).toBe(false);
  });

  it('startSweep answers with a valid view, stopSweep with whether one was stopping', () => {
    expect(ClientResultSchemas.startSweep.safeParse(view).success).toBe(true);
    expect(ClientResultSchemas.startSweep.safeParse({ ...view, id: '../x' }).success).toBe(false);
    expect(ClientResultSchemas.stopSweep.parse({ stopping: true })).toEqual({ stopping: true });
    expect(ClientResultSchemas.stopSweep.safeParse({}).success).toBe(false);
  });

  it('deleteSweep answers with the sweep and the runs it deleted', () => {
    const result = { sweepId: 'sweep-1', runsDeleted: ['run-1', 'run-2'] };
    expect(ClientResultSchemas.deleteSweep.parse(result)).toEqual(result);
    expect(ClientResultSchemas.deleteSweep.safeParse({ sweepId: 'sweep-1' }).success).toBe(false);
    expect(
      ClientResultSchemas.deleteSweep.safeParse({ sweepId: 'sweep-1', runsDeleted: ['../x'] })
        .success,
    ).toBe(false);
  });
});

describe('the sweep event', () => {
  it('is a client event carrying a view, with no error by default', () => {
    expect(ClientEventSchema.parse({ type: 'sweep', sweep: view })).toEqual({
      type: 'sweep',
      sweep: view,
      error: null,
    });
    expect(
      ClientEventSchema.parse({ type: 'sweep', sweep: view, error: 'disk full' }),
    ).toMatchObject({ error: 'disk full' });
  });

  it('is rejected when its view is malformed', () => {
    const bad = (sweep: unknown) =>
      ClientEventSchema.safeParse({ type: 'sweep', sweep, error: null }).success;
    expect(bad(null)).toBe(false);
    expect(bad({ ...view, status: 'exploded' })).toBe(false);
    expect(bad({ ...view, trials: [{ ...view.trials[0], valAccuracy: 1.5 }] })).toBe(false);
    expect(bad({ ...view, extra: 1 })).toBe(false);
  });

  it('sweepDeleted names the sweep and the runs that went with it', () => {
    const event = { type: 'sweepDeleted', sweepId: 'sweep-1', runsDeleted: ['run-1'] };
    expect(ClientEventSchema.parse(event)).toEqual(event);
    expect(ClientEventSchema.safeParse({ ...event, sweepId: '../x' }).success).toBe(false);
    expect(ClientEventSchema.safeParse({ ...event, runsDeleted: undefined }).success).toBe(false);
  });

  it('leaves the worker’s events as they were', () => {
    const stopped = { type: 'stopped', runId: 'r1', epoch: 2, batch: 5 };
    expect(ClientEventSchema.parse(stopped)).toEqual(stopped);
    expect(ClientEventSchema.safeParse({ ...stopped, runId: '../x' }).success).toBe(false);
  });
});

describe('the export request', () => {
  const good = { type: 'exportCheckpoint', runId: 'run-1', epoch: 2, format: 'onnx' };

  it('accepts a checkpoint and a format, and the optimizer with tfjs only', () => {
    expect(requestProblem({ ...good, withOptimizer: false })).toBeNull();
    expect(requestProblem({ ...good, format: 'keras', withOptimizer: false })).toBeNull();
    expect(requestProblem({ ...good, format: 'tfjs', withOptimizer: true })).toBeNull();
  });

  it.each([
    [{ ...good, withOptimizer: true }, /^withOptimizer: only the tfjs format can carry/],
    [{ ...good, format: 'keras', withOptimizer: true }, /^withOptimizer: /],
    [{ ...good }, /^withOptimizer: /],
    [{ ...good, withOptimizer: 'no' }, /^withOptimizer: /],
    [{ ...good, withOptimizer: false, format: 'pytorch' }, /^format: /],
    [{ ...good, withOptimizer: false, format: 'ONNX' }, /^format: /],
    [{ ...good, withOptimizer: false, epoch: 0 }, /^epoch: /],
    [{ ...good, withOptimizer: false, epoch: 1.5 }, /^epoch: /],
    [{ ...good, withOptimizer: false, epoch: null }, /^epoch: /],
    [{ ...good, withOptimizer: false, runId: '../../etc' }, /^runId may only contain/],
    [{ ...good, withOptimizer: false, runId: ['run-1'] }, /^runId must be a string/],
  ])('rejects %j naming the field', (raw, message) => {
    expect(requestProblem(raw)).toMatch(message);
  });

  it.each([
    [{ out: '/home/user/.bashrc' }, 'out'],
    [{ path: '/tmp/x.onnx' }, 'path'],
    [{ overwrite: true }, 'overwrite'],
    [{ out: '/tmp/x.onnx', overwrite: true }, 'out, overwrite'],
  ])('refuses a page that names where the file goes: %j', (extra, fields) => {
    expect(requestProblem({ ...good, withOptimizer: false, ...extra })).toBe(
      `unknown field(s): ${fields}`,
    );
  });

  it('is the only way in: the worker’s path-taking command is not a client request', () => {
    const command = {
      type: 'writeExport',
      runId: 'run-1',
      epoch: 2,
      format: 'onnx',
      withOptimizer: false,
      out: '/tmp/evil.onnx',
      overwrite: true,
    };
    expect(requestProblem(command)).toMatch(/^type: /);
    expect(ClientRequestSchema.options.map((o) => o.shape.type.value)).not.toContain('writeExport');
    expect(REQUEST_TYPES).not.toContain('writeExport');
    expect(Object.keys(ClientResultSchemas)).not.toContain('writeExport');
  });
});

describe('the export outcome', () => {
  const parse = (raw: unknown) => ClientResultSchemas.exportCheckpoint.safeParse(raw);

  it('is cancelled, saved at a path, or a download from our own route', () => {
    expect(parse({ status: 'cancelled' }).success).toBe(true);
    expect(parse({ status: 'saved', path: '/home/u/m.onnx', bytes: 12 }).success).toBe(true);
    const download = {
      status: 'download',
      url: '/downloads/AbCdEfGhIjKlMnOpQrStUvWx',
      fileName: 'run-epoch1.onnx',
      bytes: 12,
    };
    expect(parse(download).success).toBe(true);
    expect(parse({ ...download, bytes: -1 }).success).toBe(false);
    expect(parse({ ...download, fileName: '' }).success).toBe(false);
    expect(parse({ status: 'saved', bytes: 12 }).success).toBe(false);
    expect(parse({ status: 'done' }).success).toBe(false);
  });

  it.each([
    'https://evil.example/downloads/AbCdEfGhIjKlMnOpQrStUvWx',
    '//evil.example/downloads/AbCdEfGhIjKlMnOpQrStUvWx',
    'javascript:alert(1)',
    '/downloads/short',
    '/downloads/../index.html',
    '/downloads/AbCdEfGhIjKlMnOpQrStUvWx?x=1',
    '/ws',
  ])('never sends a page to %s', (url) => {
    expect(parse({ status: 'download', url, fileName: 'm.onnx', bytes: 1 }).success).toBe(false);
  });
});
