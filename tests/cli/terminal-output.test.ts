import { describe, expect, it } from 'vitest';
import type { Streams } from '../../src-main/cli/output';
import { CLEAR_LINE } from '../../src-main/cli/terminal-line';
import { TerminalOutput } from '../../src-main/cli/terminal-output';
import { rendered } from './terminal-screen';
import { batch, epoch, evaluation, runId, started } from './events';

/** Streams that record what was written, at a clock the test moves. */
function fakeStreams(columns: number | undefined = 120) {
  const written: { stream: 'out' | 'err'; text: string }[] = [];
  let now = 0;
  const streams: Streams = {
    out: (text) => void written.push({ stream: 'out', text }),
    err: (text) => void written.push({ stream: 'err', text }),
    columns: () => columns,
    now: () => now,
  };
  return {
    streams,
    written,
    out: () =>
      written
        .filter((w) => w.stream === 'out')
        .map((w) => w.text)
        .join(''),
    tick: (ms: number) => (now += ms),
  };
}

describe('TerminalOutput', () => {
  it('erases the progress line before each epoch line, so the two never share a line', () => {
    const io = fakeStreams();
    const output = new TerminalOutput(io.streams, '/ck');
    output.event(started);
    output.event(batch(1));
    io.tick(200);
    output.event(batch(94));
    output.event(epoch(1));
    output.event({ type: 'checkpoint', runId, epoch: 1, path: `/ck/${runId}/epoch-001` });
    output.event({ type: 'finished', runId, epochs: 12 });
    output.close();
    const text = io.out();
    // Every epoch line starts on a line the bar was erased from.
    expect(text).toContain(`84.38 %${CLEAR_LINE}epoch  1/12   loss`);
    expect(text.endsWith(`Finished run ${runId}: 12 epochs; checkpoints in /ck/${runId}.\n`)).toBe(
      true,
    );
    // What a terminal shows once the \r redraws are done: no bar left behind.
    expect(rendered(text)).toEqual([
      `Training run ${runId} (mlp): 12 epochs of 94 batches of 32.`,
      '3,000 training and 500 validation images; 2 threads on WASM.',
      'epoch  1/12   loss 0.4322   accuracy  87.65 %   val loss 0.3210   val accuracy  90.12 %   12.3 s',
      `Finished run ${runId}: 12 epochs; checkpoints in /ck/${runId}.`,
    ]);
    expect(io.written.every((w) => w.stream === 'out')).toBe(true);
  });

  it('redraws at most every 100 ms, but always draws the last batch of an epoch', () => {
    const io = fakeStreams();
    const output = new TerminalOutput(io.streams, '/ck');
    output.event(started);
    for (let b = 1; b <= 94; b++) {
      output.event(batch(b));
      io.tick(10);
    }
    const draws = io
      .out()
      .split(CLEAR_LINE)
      .filter((d) => d.includes('/94'));
    // batch 1, then one every ten batches (100 ms), then the 94th
    expect(draws.map((d) => /(\d+)\/94/.exec(d)![1])).toEqual([
      '1',
      '11',
      '21',
      '31',
      '41',
      '51',
      '61',
      '71',
      '81',
      '91',
      '94',
    ]);
  });

  it('fits the progress line to the terminal width', () => {
    const io = fakeStreams(40);
    const output = new TerminalOutput(io.streams, '/ck');
    output.event(started);
    output.event(batch(3));
    expect(io.written.at(-1)!.text.startsWith(CLEAR_LINE)).toBe(true);
    expect([...io.written.at(-1)!.text.slice(CLEAR_LINE.length)]).toHaveLength(39);
  });

  it('shows evaluation progress from the start, then the results in its place', () => {
    const io = fakeStreams();
    const output = new TerminalOutput(io.streams, '/ck');
    output.evaluating(runId);
    io.tick(2000);
    output.event({ type: 'evaluateProgress', runId, done: 5000, total: 10_000 });
    io.tick(500);
    output.event({ type: 'evaluateProgress', runId, done: 10_000, total: 10_000 });
    output.evaluation(evaluation);
    output.close();
    const text = io.out();
    expect(text).toContain(`Evaluating run ${runId}: loading…`);
    expect(text).toContain('5,000/10,000 test images');
    expect(rendered(text)[0]).toMatch(/^Run .*, epoch 2: accuracy 88\.93 %/);
    expect(rendered(text)).toHaveLength(16);
  });

  it('erases the progress line before an error, which goes to stderr', () => {
    const io = fakeStreams();
    const output = new TerminalOutput(io.streams, '/ck');
    output.event(started);
    output.event(batch(5));
    output.event({ type: 'error', message: 'disk full', runId, fatal: false });
    expect(io.written.at(-2)).toEqual({ stream: 'out', text: CLEAR_LINE });
    expect(io.written.at(-1)).toEqual({ stream: 'err', text: 'error: disk full\n' });
  });

  it('leaves nothing half-drawn when the command ends mid-progress', () => {
    const io = fakeStreams();
    const output = new TerminalOutput(io.streams, '/ck');
    output.evaluating(runId);
    output.close();
    expect(io.written.at(-1)).toEqual({ stream: 'out', text: CLEAR_LINE });
    expect(rendered(io.out())).toEqual([]);
  });
});
