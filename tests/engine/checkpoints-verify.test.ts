import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { epochDirName, listRuns, loadCheckpoint } from '../../src-main/engine/checkpoints';
import { updateRun } from '../../src-main/engine/runs';
import { writeRun } from '../fixtures/checkpoints';
import { tempDir } from '../helpers';

/**
 * What a listing decides about a checkpoint from its files: sizes before contents, shapes of the
 * topology against the weights, and reasons that never echo raw bytes of a damaged file.
 */

const root = tempDir();

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const makeRun = (epochs: number) => writeRun(root, epochs);

const file = (runId: string, epoch: number, name: string) =>
  path.join(root, runId, epochDirName(epoch), name);

const checkpointsOf = async (runId: string) =>
  (await listRuns(root)).find((r) => r.runId === runId)!.checkpoints;

/** Edits model.json and records its new size and checksum, as a careful forger would. */
function rewriteModelJson(runId: string, epoch: number, edit: (json: ModelJson) => void): void {
  const json = JSON.parse(readFileSync(file(runId, epoch, 'model.json'), 'utf8')) as ModelJson;
  edit(json);
  const bytes = Buffer.from(JSON.stringify(json));
  writeFileSync(file(runId, epoch, 'model.json'), bytes);
  const manifestFile = file(runId, epoch, 'checkpoint.json');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
  manifest.files['model.json'] = {
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
  writeFileSync(manifestFile, JSON.stringify(manifest));
}

interface ModelJson {
  modelTopology: { config: { layers: { config: { name: string } }[] } };
  weightsManifest: { weights: { name: string; shape: number[] }[] }[];
}

describe('listing checks sizes before reading', () => {
  it('judges a 700 MB weights.bin by its size without reading it', async () => {
    const runId = await makeRun(1);
    const weights = file(runId, 1, 'weights.bin');
    const expected = statSync(weights).size;
    truncateSync(weights, 700 * 2 ** 20); // sparse: takes no disk space
    const before = process.resourceUsage().maxRSS;
    const [checkpoint] = await checkpointsOf(runId);
    const grownMb = (process.resourceUsage().maxRSS - before) / 1024;
    expect(checkpoint).toMatchObject({
      status: 'damaged',
      reason: `weights.bin is ${700 * 2 ** 20} bytes, expected ${expected}`,
    });
    // Reading it took the peak resident size up by the file's 700 MB.
    expect(grownMb).toBeLessThan(100);
  });

  it('judges a 700 MB weights.bin its manifest agrees with by model.json, without reading it', async () => {
    const runId = await makeRun(1);
    const weights = file(runId, 1, 'weights.bin');
    const expected = statSync(weights).size;
    const big = 700 * 2 ** 20;
    truncateSync(weights, big);
    const manifestFile = file(runId, 1, 'checkpoint.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    manifest.files['weights.bin'] = { bytes: big, sha256: 'not computed: that would read it' };
    writeFileSync(manifestFile, JSON.stringify(manifest));
    const before = process.resourceUsage().maxRSS;
    const [checkpoint] = await checkpointsOf(runId);
    expect((process.resourceUsage().maxRSS - before) / 1024).toBeLessThan(100);
    expect(checkpoint).toMatchObject({
      status: 'damaged',
      reason: `weights.bin holds ${big} bytes but model.json describes ${expected}`,
    });
  });

  it('refuses a manifest far larger than any real one without parsing it', async () => {
    const runId = await makeRun(1);
    truncateSync(file(runId, 1, 'checkpoint.json'), 300 * 2 ** 20);
    const before = process.resourceUsage().maxRSS;
    const [checkpoint] = await checkpointsOf(runId);
    expect((process.resourceUsage().maxRSS - before) / 1024).toBeLessThan(100);
    expect(checkpoint).toMatchObject({
      status: 'damaged',
      reason: `checkpoint.json is ${300 * 2 ** 20} bytes, far too large for a manifest`,
    });
  });
});

describe('listing checks the topology against the weights', () => {
  it('shows a checkpoint whose weight shapes are transposed as damaged, with the reason', async () => {
    const runId = await makeRun(2);
    // Layer names count up per process, so the first weight (the hidden kernel) is found by place.
    let name = '';
    rewriteModelJson(runId, 1, (json) => {
      const kernel = json.weightsManifest[0]!.weights[0]!;
      name = kernel.name;
      kernel.shape = [...kernel.shape].reverse();
    });
    const reason = `${name} is [16, 784] in the weights manifest but the topology needs [784, 16]`;
    expect((await checkpointsOf(runId)).map((c) => [c.epoch, c.status, c.reason])).toEqual([
      [1, 'damaged', reason],
      [2, 'ok', null],
    ]);
    await expect(loadCheckpoint(root, runId, 1)).rejects.toThrow(reason);
  });

  it('shows a checkpoint whose topology lost a layer as damaged, with the reason', async () => {
    const runId = await makeRun(1);
    let removed = '';
    rewriteModelJson(runId, 1, (json) => {
      removed = json.modelTopology.config.layers.pop()!.config.name;
    });
    const [checkpoint] = await checkpointsOf(runId);
    expect(checkpoint).toMatchObject({
      status: 'damaged',
      reason: `the weights manifest holds ${removed}/kernel, ${removed}/bias, which model.json's topology does not have`,
    });
    await expect(loadCheckpoint(root, runId, null)).rejects.toThrow(/no valid checkpoint/);
  });
});

describe('reasons built from file contents', () => {
  it('escapes the control characters of a run.json full of NULs', async () => {
    const runId = await makeRun(1);
    writeFileSync(path.join(root, runId, 'run.json'), Buffer.alloc(2048));
    const run = (await listRuns(root)).find((r) => r.runId === runId)!;
    expect(run.status).toBe('damaged');
    expect(run.reason).toMatch(/run\.json is not valid JSON .*\\u0000/);
    // eslint-disable-next-line no-control-regex -- no raw control character may get through
    expect(run.reason).not.toMatch(/[\u0000-\u001f\u007f]/);
  });

  it('escapes control characters in a reason stored in run.json and in weight names', async () => {
    const runId = await makeRun(1);
    updateRun(root, runId, { status: 'stopped', reason: 'stopped\u0000\u001b[31m by hand' });
    rewriteModelJson(runId, 1, (json) => {
      // No bytes (shape [0]), so only the shape check can notice it.
      json.weightsManifest[0]!.weights.push({ name: 'evil\u0007weight', shape: [0] });
    });
    const run = (await listRuns(root)).find((r) => r.runId === runId)!;
    expect(run.reason).toBe('stopped\\u0000\\u001b[31m by hand');
    expect(run.checkpoints[0]!.reason).toMatch(/evil\\u0007/);
    // eslint-disable-next-line no-control-regex -- no raw control character may get through
    expect(run.checkpoints[0]!.reason).not.toMatch(/[\u0000-\u001f\u007f]/);
  });
});
