import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveTrainConfig } from '../../src-main/contract/config';
import {
  createRun,
  newRunId,
  readRun,
  recordEvaluation,
  renameRun,
  runDir,
} from '../../src-main/engine/runs';
import { tempDir } from '../helpers';

// A run's name and test results live in its run.json beside its settings (engine/runs.ts).

const root = tempDir();
const fresh = () => {
  const runId = newRunId('mlp');
  createRun(root, runId, resolveTrainConfig({ model: 'mlp' }), 'wasm');
  return runId;
};

describe('run names and test results in run.json', () => {
  it('reads a run.json written before either existed as unnamed and unevaluated', () => {
    const runId = fresh();
    const file = path.join(runDir(root, runId), 'run.json');
    const old = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    delete old['name'];
    delete old['evaluations'];
    writeFileSync(file, JSON.stringify(old));
    expect(readRun(root, runId)).toMatchObject({ name: null, evaluations: [] });
  });

  it('keeps a trimmed name, clears it when blank, and leaves the rest of run.json alone', () => {
    const runId = fresh();
    const before = readRun(root, runId);
    expect(renameRun(root, runId, '  wide batch ')).toBe('wide batch');
    expect(readRun(root, runId)).toMatchObject({
      ...before,
      name: 'wide batch',
      updatedAt: expect.any(String),
    });
    expect(renameRun(root, runId, ' \t ')).toBeNull();
    expect(readRun(root, runId).name).toBeNull();
  });

  it('keeps one test result per epoch, the latest, in epoch order', () => {
    const runId = fresh();
    recordEvaluation(root, runId, { epoch: 3, accuracy: 0.97, loss: 0.1, at: 't1' });
    recordEvaluation(root, runId, { epoch: 1, accuracy: 0.9, loss: 0.3, at: 't2' });
    recordEvaluation(root, runId, { epoch: 3, accuracy: 0.975, loss: 0.09, at: 't3' });
    expect(readRun(root, runId).evaluations).toEqual([
      { epoch: 1, accuracy: 0.9, loss: 0.3, at: 't2' },
      { epoch: 3, accuracy: 0.975, loss: 0.09, at: 't3' },
    ]);
  });
});
