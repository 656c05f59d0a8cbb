import { vi } from 'vitest';
import type { ClientEvent, ClientRequest, Status, StudioApi } from '$contract/api';
import { resolveTrainConfig } from '$contract/config';
import type { CheckpointInfo, EpochMetrics, RunInfo } from '$contract/messages';

/** A fake transport: answers with `answer`, records requests, lets the test push events. */
export function fakeApi(answer: (request: ClientRequest) => unknown) {
  const listeners = new Set<(e: ClientEvent) => void>();
  const requests: ClientRequest[] = [];
  const api: StudioApi = {
    request: vi.fn(async (request: ClientRequest) => {
      requests.push(request);
      return answer(request);
    }) as StudioApi['request'],
    onEvent: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  return { api, requests, emit: (e: ClientEvent) => listeners.forEach((l) => l(e)) };
}

export function metrics(epoch: number, valAccuracy = 0.9 + epoch / 100): EpochMetrics {
  return {
    epoch,
    loss: 1 / epoch,
    accuracy: valAccuracy - 0.01,
    valLoss: 1.1 / epoch,
    valAccuracy,
    seconds: 2.5,
    backend: 'wasm',
  };
}

export function checkpoint(epoch: number, damaged?: string): CheckpointInfo {
  return damaged
    ? { epoch, status: 'damaged', reason: damaged, metrics: null, bytes: 0, savedAt: null }
    : {
        epoch,
        status: 'ok',
        reason: null,
        metrics: metrics(epoch),
        bytes: 410_000,
        savedAt: '2026-11-25T10:00:00.000Z',
      };
}

/** A run as listRuns reports it; epochs 1..n, some of them damaged. */
export function run(
  runId: string,
  opts: {
    status?: RunInfo['status'];
    epochs?: number;
    damaged?: Record<number, string>;
    createdAt?: string;
  } = {},
): RunInfo {
  const n = opts.epochs ?? 3;
  const checkpoints = Array.from({ length: n }, (_, i) => checkpoint(i + 1, opts.damaged?.[i + 1]));
  const ok = checkpoints.filter((c) => c.status === 'ok');
  return {
    runId,
    name: null,
    evaluations: [],
    branchedFrom: null,
    status: opts.status ?? 'finished',
    reason: null,
    model: 'mlp',
    config: resolveTrainConfig({ model: 'mlp', epochs: n }),
    backend: 'wasm',
    createdAt: opts.createdAt ?? '2026-11-25T10:00:00.000Z',
    updatedAt: opts.createdAt ?? '2026-11-25T10:00:00.000Z',
    epochsDone: ok.length ? ok.at(-1)!.epoch : 0,
    bestValAccuracy: ok.length ? Math.max(...ok.map((c) => c.metrics!.valAccuracy!)) : null,
    checkpoints,
    history: checkpoints.map((c) => metrics(c.epoch)),
  };
}

/** The host's answer to `status` in a serve-mode page with no worker started yet. */
export function status(restored: Status['restored'] = null): Status {
  return {
    backend: null,
    activeRun: null,
    activeRunBatches: [],
    restored,
    mode: 'serve',
    checkpointsDir: '/x',
  };
}

/** Text as a reader sees it: markup line breaks collapse to single spaces. */
export const text = (el: Element): string => (el.textContent ?? '').replace(/\s+/g, ' ');
