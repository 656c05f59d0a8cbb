import { describe, expect, it } from 'vitest';
import { ClientRequestSchema } from '../../src-main/contract/api';
import { describeZodError } from '../../src-main/contract/config';
import {
  CommandSchema,
  ModelFilesSchema,
  TestExampleSchema,
} from '../../src-main/contract/messages';

/** The panels' requests, as an untrusted page could send them. */
const problem = (raw: unknown): string | null => {
  const parsed = ClientRequestSchema.safeParse(raw);
  return parsed.success ? null : describeZodError(parsed.error);
};

describe('panel requests', () => {
  it('accepts well-formed ones, filling defaults', () => {
    expect(problem({ type: 'restore', runId: 'r1', epoch: null })).toBeNull();
    expect(problem({ type: 'modelFiles', runId: 'r1', epoch: 3 })).toBeNull();
    const examples = ClientRequestSchema.parse({
      type: 'examples',
      runId: 'r1',
      epoch: 2,
      actual: 7,
      predicted: 1,
    });
    expect(examples).toMatchObject({ limit: 60 });
  });

  it.each([
    [{ type: 'restore', runId: '../etc', epoch: null }, /runId/],
    [{ type: 'restore', runId: 'r1' }, /epoch/],
    [{ type: 'modelFiles', runId: 'r1', epoch: 0 }, /epoch/],
    [{ type: 'modelFiles', runId: 'r1', epoch: null }, /epoch/],
    [{ type: 'examples', runId: 'r1', epoch: 2, actual: 10, predicted: 1 }, /actual/],
    [{ type: 'examples', runId: 'r1', epoch: 2, actual: 1, predicted: -1 }, /predicted/],
    [{ type: 'examples', runId: 'r1', epoch: 2, actual: 1, predicted: 1, limit: 501 }, /limit/],
    [{ type: 'examples', runId: 'r1', epoch: 2, actual: 1.5, predicted: 1 }, /actual/],
    [{ type: 'resume', runId: 'r1', epoch: 1, epochs: 0 }, /epochs/],
  ])('rejects %j naming the field', (raw, field) => {
    expect(problem(raw)).toMatch(field);
  });
});

describe('results the worker sends back', () => {
  it('test images must be 784 base64 bytes', () => {
    const ok = {
      index: 3,
      label: 7,
      predicted: 1,
      probabilities: Array(10).fill(0.1),
      pixels: Buffer.alloc(784, 255).toString('base64'),
    };
    expect(TestExampleSchema.safeParse(ok).success).toBe(true);
    const short = { ...ok, pixels: Buffer.alloc(700).toString('base64') };
    expect(TestExampleSchema.safeParse(short).success).toBe(false);
    const html = { ...ok, pixels: '<img src=x>'.padEnd(1048, 'A') };
    expect(TestExampleSchema.safeParse(html).success).toBe(false);
  });

  it('model files must carry base64 weights and numeric shapes', () => {
    const files = {
      runId: 'r1',
      epoch: 1,
      topology: { class_name: 'Sequential' },
      weightSpecs: [{ name: 'dense/kernel', shape: [784, 128], dtype: 'float32' }],
      weights: 'AAAA',
    };
    expect(ModelFilesSchema.safeParse(files).success).toBe(true);
    expect(ModelFilesSchema.safeParse({ ...files, weights: 'not base64!' }).success).toBe(false);
    const badShape = { ...files, weightSpecs: [{ name: 'k', shape: [-1], dtype: 'float32' }] };
    expect(ModelFilesSchema.safeParse(badShape).success).toBe(false);
  });
});

describe('the worker’s export command', () => {
  const command = {
    type: 'writeExport',
    requestId: 4,
    runId: 'run-1',
    epoch: 1,
    format: 'keras',
    withOptimizer: false,
    out: '/tmp/exports/run-1-epoch1.keras',
    overwrite: false,
  };
  const commandProblem = (raw: unknown) => {
    const parsed = CommandSchema.safeParse(raw);
    return parsed.success ? null : describeZodError(parsed.error);
  };

  it('takes an absolute path, POSIX or Windows', () => {
    expect(commandProblem(command)).toBeNull();
    expect(commandProblem({ ...command, out: 'C:\\Users\\me\\m.keras' })).toBeNull();
  });

  it.each([
    [{ ...command, out: 'm.keras' }, /^out must be an absolute path/],
    [{ ...command, out: '../m.keras' }, /^out must be an absolute path/],
    [{ ...command, out: '' }, /^out: /],
    [{ ...command, out: '/tmp/a\0b.keras' }, /^out must not contain NUL/],
    [{ ...command, out: undefined }, /^out: /],
    [{ ...command, overwrite: undefined }, /^overwrite: /],
    [{ ...command, format: 'h5' }, /^format: /],
    [{ ...command, runId: '../x' }, /^runId may only contain/],
    [{ ...command, epoch: null }, /^epoch: /],
  ])('rejects %j naming the field', (raw, message) => {
    expect(commandProblem(raw)).toMatch(message);
  });
});
