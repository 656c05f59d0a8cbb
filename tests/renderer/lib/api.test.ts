import { describe, expect, it, vi } from 'vitest';
import { validEvent } from '../../../src-renderer/src/lib/api';

describe('events arriving in the renderer', () => {
  it('pass when they match the contract', () => {
    const event = {
      type: 'batch',
      runId: 'r1',
      epoch: 1,
      batch: 2,
      batches: 10,
      loss: 0.3,
      accuracy: 0.9,
    };
    expect(validEvent(event)).toEqual(event);
  });

  it('are dropped with a warning when malformed, or when they are replies', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(validEvent({ type: 'batch', runId: 'r1', epoch: 'one' })).toBeNull();
    expect(
      validEvent({ type: 'reply', requestId: 1, ok: true, result: null, error: null }),
    ).toBeNull();
    expect(validEvent('hello')).toBeNull();
    expect(warn).toHaveBeenCalledTimes(3);
    warn.mockRestore();
  });
});
