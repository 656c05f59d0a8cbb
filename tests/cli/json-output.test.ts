import { describe, expect, it } from 'vitest';
import { JsonOutput } from '../../src-main/cli/json-output';
import { wantsJson, type Streams } from '../../src-main/cli/output';
import { batch, epoch, evaluation, run, runId, started } from './events';

function fakeStreams() {
  const out: string[] = [];
  const err: string[] = [];
  const streams: Streams = {
    out: (text) => void out.push(text),
    err: (text) => void err.push(text),
    columns: () => 80,
    now: () => 0,
  };
  return { streams, out, err };
}

describe('JSON lines', () => {
  it('are chosen when piped or with --json, never for a terminal without it', () => {
    expect(wantsJson(undefined, undefined)).toBe(true);
    expect(wantsJson(undefined, false)).toBe(true);
    expect(wantsJson(true, true)).toBe(true);
    expect(wantsJson(undefined, true)).toBe(false);
    expect(wantsJson(false, true)).toBe(false);
  });

  it('print every event as it came, one object per line, errors on stderr', () => {
    const io = fakeStreams();
    const output = new JsonOutput(io.streams, false);
    output.event(started);
    output.event(batch(1));
    output.event({ type: 'evaluateProgress', runId, done: 1, total: 2 });
    output.event(epoch(1));
    output.event({ type: 'error', message: 'disk full', runId, fatal: false });
    expect(io.out.map((l) => JSON.parse(l) as unknown)).toEqual([started, batch(1), epoch(1)]);
    expect(io.out.every((l) => l.endsWith('}\n') && l.split('\n').length === 2)).toBe(true);
    expect(io.err).toEqual(['error: disk full\n']);
  });

  it('print results with a type, and a run per line followed by its checkpoints', () => {
    const io = fakeStreams();
    const output = new JsonOutput(io.streams, false);
    output.evaluating(runId);
    output.evaluation(evaluation);
    output.prediction({ runId, epoch: 2, digit: 7, probabilities: Array(10).fill(0.1) });
    output.resumed({ runId, branchedFrom: null, epoch: 1, skipped: [] });
    output.deleted({ runId, epoch: null });
    output.runs([run]);
    const lines = io.out.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.type)).toEqual([
      'evaluation',
      'prediction',
      'resumed',
      'deleted',
      'run',
      'checkpoint',
      'checkpoint',
    ]);
    expect(Object.keys(lines[0]!)).toEqual(['type', ...Object.keys(evaluation)]);
    expect(lines[4]).toMatchObject({ type: 'run', runId, checkpoints: 2 });
    expect(lines[6]).toEqual({
      type: 'checkpoint',
      runId,
      epoch: 2,
      status: 'damaged',
      reason: 'weights.bin is 10 bytes, expected 159488 (truncated)',
      valAccuracy: null,
      accuracy: null,
      bytes: 10,
      savedAt: null,
    });
  });

  it('draws a progress bar on stderr only when asked to (stdout elsewhere, stderr a terminal)', () => {
    const quiet = fakeStreams();
    new JsonOutput(quiet.streams, false).event(batch(1));
    expect(quiet.err).toEqual([]);
    const io = fakeStreams();
    const output = new JsonOutput(io.streams, true);
    output.event(started);
    output.event(batch(47));
    output.event(epoch(1));
    expect(io.err).toEqual([
      `\repoch 1/12 ${'█'.repeat(15)}${'░'.repeat(15)} 47/94 loss 0.5123 acc 0.8438 `,
      '\r\x1b[2K',
    ]);
    expect(io.out).toHaveLength(3);
  });
});
