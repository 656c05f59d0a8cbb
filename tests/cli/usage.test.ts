import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src-main/cli';

describe('CLI usage', () => {
  afterEach(() => vi.restoreAllMocks());

  it('--help names --json and says when each output is used', async () => {
    let stderr = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      stderr += String(chunk);
      return true;
    });
    expect(await runCli(['--help'])).toBe(0);
    expect(stderr).toContain(
      'common:    [--checkpoints DIR] [--data DIR] [--backend NAME] [--json]',
    );
    expect(stderr).toContain('JSON lines, one object with a "type" per');
    expect(stderr).toContain('when stdout is not a terminal or with --json');
  });
});
