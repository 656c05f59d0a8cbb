import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  connect,
  onConnectionChange,
  retryDelay,
  validEvent,
  type Connection,
} from '../../../src-renderer/src/lib/api';

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
      recentLoss: 0.25,
      recentAccuracy: 0.95,
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

/** Just enough of a browser WebSocket to play the server's side by hand. */
class FakeSocket extends EventTarget {
  static readonly OPEN = 1;
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: string[] = [];
  constructor(readonly url: string) {
    super();
    FakeSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(data);
  }
  open() {
    this.readyState = 1;
    this.dispatchEvent(new Event('open'));
  }
  drop() {
    this.readyState = 3;
    this.dispatchEvent(new Event('close'));
  }
}

describe('the WebSocket transport (serve mode)', () => {
  beforeEach(() => {
    FakeSocket.all = [];
    vi.useFakeTimers();
    vi.stubGlobal('WebSocket', FakeSocket);
    history.replaceState(null, '', '/?token=abc');
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('retries after 0.5 s, doubling, at most 8 s apart', () => {
    expect([0, 1, 2, 3, 4, 5, 10].map(retryDelay)).toEqual([
      500, 1000, 2000, 4000, 8000, 8000, 8000,
    ]);
  });

  it('says the server is gone, retries, and reports the reconnection', async () => {
    vi.stubGlobal('fetch', () => Promise.reject(new TypeError('Failed to fetch')));
    const seen: Connection[] = [];
    const stop = onConnectionChange((c) => seen.push(c));
    const api = connect();
    FakeSocket.all[0]!.open();
    FakeSocket.all[0]!.drop();
    // A request while it is down fails at once instead of waiting forever.
    await expect(api.request({ type: 'status' })).rejects.toThrow(/not connected/);
    await vi.waitFor(() => expect(seen.at(-1)).toEqual({ state: 'lost', retryInMs: 500 }));
    await vi.advanceTimersByTimeAsync(500);
    expect(FakeSocket.all).toHaveLength(2);
    expect(FakeSocket.all[1]!.url).toMatch(/\/ws\?token=abc$/);
    FakeSocket.all[1]!.drop();
    await vi.waitFor(() => expect(seen.at(-1)).toEqual({ state: 'lost', retryInMs: 1000 }));
    await vi.advanceTimersByTimeAsync(1000);
    FakeSocket.all[2]!.open();
    expect(seen.at(-1)).toEqual({ state: 'open', reconnected: true });
    stop();
  });

  it('stops retrying when the server answers with 401: it was restarted with a new token', async () => {
    const probes: string[] = [];
    vi.stubGlobal('fetch', (url: string) => {
      probes.push(url);
      return Promise.resolve(new Response(null, { status: 401 }));
    });
    const seen: Connection[] = [];
    const stop = onConnectionChange((c) => seen.push(c));
    connect();
    FakeSocket.all[0]!.open();
    FakeSocket.all[0]!.drop();
    await vi.waitFor(() => expect(seen.at(-1)).toEqual({ state: 'refused' }));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(probes).toEqual(['/?token=abc']);
    stop();
  });

  it('checks every message and result against the contract: a malformed one never reaches a panel', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const api = connect();
    const socket = FakeSocket.all[0]!;
    socket.open();
    const events: unknown[] = [];
    api.onEvent((e) => events.push(e));
    const receive = (data: string) =>
      socket.dispatchEvent(Object.assign(new Event('message'), { data }));
    const ask = async () => {
      const before = socket.sent.length;
      const answer = api.request({ type: 'stop' });
      await vi.waitFor(() => expect(socket.sent).toHaveLength(before + 1));
      return { answer, id: (JSON.parse(socket.sent.at(-1)!) as { id: number }).id };
    };

    // Not JSON, not an envelope, an envelope with extra keys: dropped with a warning.
    receive('not json');
    receive(JSON.stringify({ hello: 1 }));
    receive(JSON.stringify({ event: {}, id: 1 }));
    expect(events).toEqual([]);
    const first = await ask();
    receive(JSON.stringify({ id: first.id, ok: true, result: { stopping: 'yes' } }));
    await expect(first.answer).rejects.toThrow(
      'the server answered a stop request with a malformed result',
    );
    const second = await ask();
    receive(JSON.stringify({ id: second.id, ok: false, error: 'no run' }));
    await expect(second.answer).rejects.toThrow('no run');
    const third = await ask();
    receive(JSON.stringify({ id: third.id, ok: true, result: { stopping: true } }));
    await expect(third.answer).resolves.toEqual({ stopping: true });
    expect(warn).toHaveBeenCalledTimes(3);
    warn.mockRestore();
  });
});
