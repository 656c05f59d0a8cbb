import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cliPath } from '../cli-runner';
import { tempDir } from '../helpers';
import { rendered } from './terminal-screen';

/**
 * The CLI with stdout and stderr on a real pseudo-terminal, as a person runs it: util-linux's
 * `script` runs the command on a new pty and copies everything written to it to our stdout.
 * The pty is given 100 columns (a pty made without a terminal behind it has none).
 */
const root = tempDir();

const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

function inTerminal(...args: string[]) {
  const command = [process.execPath, '--import', 'tsx', cliPath, ...args, '--checkpoints', root]
    .map(quote)
    .join(' ');
  const result = spawnSync('script', ['-qec', `stty cols 100 && exec ${command}`, '/dev/null'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MNIST_STUDIO_WORKER_STDERR: '0' },
    timeout: 120_000,
  });
  if (result.error) throw result.error;
  return { code: result.status, raw: result.stdout, screen: rendered(result.stdout) };
}

const small = ['--limit', '600', '--validation-size', '200', '--hidden-units', '16'];

describe('the CLI in a terminal', () => {
  let runId = '';

  it('train prints a line per epoch, with a progress bar between them that it erases', () => {
    const { code, raw, screen } = inTerminal(
      'train',
      '--epochs',
      '2',
      '--backend',
      'cpu',
      ...small,
    );
    expect(code).toBe(0);
    expect(raw).not.toContain('{"type"');
    runId = /^Training run (\S+) \(mlp\)/m.exec(screen.join('\n'))![1]!;
    expect(screen).toEqual([
      'Engine ready on JavaScript CPU — chosen by you.',
      `Training run ${runId} (mlp): 2 epochs of 19 batches of 32.`,
      expect.stringMatching(
        /^600 training and 200 validation images; \d+ threads? on JavaScript CPU\.$/,
      ),
      expect.stringMatching(
        /^epoch 1\/2 {3}loss \d\.\d{4} {3}accuracy +\d+\.\d\d % {3}val loss \d\.\d{4} {3}val accuracy +\d+\.\d\d % {3}\d+\.\d s$/,
      ),
      expect.stringMatching(/^epoch 2\/2 {3}loss /),
      `Finished run ${runId}: 2 epochs; checkpoints in ${root}/${runId}.`,
    ]);
    // The bar was drawn (and fit the 100 columns) before the screen above was left.
    const bars = raw.split('\r\x1b[2K').filter((part) => part.includes('█') || part.includes('░'));
    expect(bars.length).toBeGreaterThan(0);
    expect(bars.every((bar) => /^epoch [12]\/2 {2}[█░]{30} {2}\d+\/19 {2}loss /.test(bar))).toBe(
      true,
    );
    expect(Math.max(...bars.map((bar) => [...bar].length))).toBeLessThan(100);
  });

  it('eval shows progress, then the accuracy and a table by digit', () => {
    const { code, raw, screen } = inTerminal('eval', '--run', runId);
    expect(code).toBe(0);
    expect(raw).toContain(`Evaluating run ${runId}: loading…`);
    expect(raw).toMatch(/Evaluating {2}[█░]{30} {2}[\d,]+\/10,000 test images/);
    expect(screen[0]).toMatch(
      new RegExp(
        `^Run ${runId}, epoch 2: accuracy \\d+\\.\\d\\d % on 10,000 test images \\([\\d,]+ wrong\\), loss \\d\\.\\d{4}$`,
      ),
    );
    expect(screen[2]).toBe('digit  images  accuracy  most often read as');
    expect(screen.slice(3, 13).map((row) => row.split(/\s+/).filter(Boolean).slice(0, 2))).toEqual([
      ['0', '980'],
      ['1', '1,135'],
      ['2', '1,032'],
      ['3', '1,010'],
      ['4', '982'],
      ['5', '892'],
      ['6', '958'],
      ['7', '1,028'],
      ['8', '974'],
      ['9', '1,009'],
    ]);
    expect(
      screen.slice(3, 13).every((row) => /\d+\.\d\d % {2}(\d \([\d,]+ times?\)|—)$/.test(row)),
    ).toBe(true);
  });

  it('list prints the run and its checkpoints', () => {
    const { code, screen } = inTerminal('list');
    expect(code).toBe(0);
    expect(screen[0]).toMatch(
      new RegExp(`^${runId} {2}· {2}mlp {2}· .* {2}· {2}finished {2}· {2}2 epochs`),
    );
    expect(screen.slice(1)).toEqual([
      expect.stringMatching(/^ {2}epoch 1 {2}val accuracy \d+\.\d\d % {2}\d+ kB$/),
      expect.stringMatching(/^ {2}epoch 2 {2}val accuracy /),
    ]);
  });

  it('--json keeps the JSON lines in a terminal, with no progress drawn between them', () => {
    const { code, raw } = inTerminal('list', '--json');
    expect(code).toBe(0);
    const lines = raw.split('\r\n').filter(Boolean);
    expect(lines.map((l) => (JSON.parse(l) as { type: string }).type)).toEqual([
      'run',
      'checkpoint',
      'checkpoint',
    ]);
    const trained = inTerminal('train', '--json', '--epochs', '1', '--backend', 'cpu', ...small);
    expect(trained.code).toBe(0);
    expect(trained.raw).not.toContain('█');
    const types = trained.raw
      .split('\r\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { type: string }).type);
    expect(types[0]).toBe('ready');
    expect(types.at(-1)).toBe('finished');
  });

  it('a usage error is still one line and exit 2', () => {
    const { code, screen } = inTerminal('eval', '--run', 'x', '--epoch', '0x2');
    expect(code).toBe(2);
    expect(screen).toEqual([
      'error: --epoch must be a whole number in decimal digits, not "0x2"',
      'run with --help for usage',
    ]);
  });
});
