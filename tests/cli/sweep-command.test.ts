import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src-main/cli';

/** The sweep command line is checked whole before any worker starts: exit 2, options named. */

async function run(...argv: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const code = await runCli(argv);
  vi.restoreAllMocks();
  return { code, stderr };
}

const space = '{"learningRate":{"kind":"log-uniform","min":1e-4,"max":1e-2}}';

describe('CLI sweep usage', () => {
  afterEach(() => vi.restoreAllMocks());

  it('names each bad field by its option', async () => {
    const { code, stderr } = await run(
      ...['sweep', '--space', '{"learningRate":{"kind":"log-uniform","min":0,"max":1}}'],
      ...['--trials', '0', '--asha', '5', '--epochs', '3', '--parallel', '0'],
    );
    expect(code).toBe(2);
    expect(stderr).toContain('--trials: maxTrials must be between 1 and 100000');
    expect(stderr).toContain('--space: learningRate.min: a log-uniform range');
    expect(stderr).toContain('--parallel: ');
    expect(stderr).toContain('--asha: minEpochs must be below');
  });

  it.each([
    [['sweep', '--trials', '2'], 'sweep needs a search space'],
    [['sweep', '--space', '{', '--trials', '2'], '--space is not valid JSON'],
    [['sweep', '--space', space], '--trials/--max-seconds: budget needs maxTrials'],
    [['sweep', '--space', space, '--trials', '2', '--asha', 'x'], '--asha must be MIN_EPOCHS'],
    [['sweep', '--space', space, '--trials', '2', '--validation-size', '0'], '--validation-size'],
    [['sweep', '--space', space, '--trials', '2', '--queue', 'http://h:1'], '--queue'],
    [['sweep', 'resume'], '--sweep ID is required'],
    [['sweep', 'resume', '--sweep', 'x', '--trials', '2'], 'sweep resume does not take --trials'],
    [['sweep', 'pause'], 'unknown sweep command "pause"'],
    [['sweep', 'delete', '--sweep', '../x'], '--sweep must be a sweep id'],
  ])('%j: %s', async (argv, message) => {
    const { code, stderr } = await run(...argv);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
  });

  it('--help lists the sweep commands', async () => {
    const { code, stderr } = await run('--help');
    expect(code).toBe(0);
    expect(stderr).toContain('sweep resume --sweep ID');
    expect(stderr).toContain('[--asha MIN_EPOCHS[:ETA]]');
  });
});
