import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { BACKEND_CHOICES } from '../contract/config';
import { parseQueueUrl, QueueUrlError, type QueueTarget } from '../engine/sweeps/queue/connection';
import { QueueWorker, type QueueWorkerEvent } from '../engine/sweeps/queue/worker';
import { forkWorker } from '../host/fork-worker';
import { onStopSignals, signalExitCode } from '../host/shutdown';
import { LocalTrialLauncher } from '../host/trial-launcher';
import { processStreams, wantsJson } from './output';
import { UsageError } from './usage-error';

/**
 * `npm run cli -- worker --queue redis://HOST:PORT`: trains the trials of sweeps started with
 * `sweep --queue` on this machine, each in a local training process like a local sweep's, until
 * Ctrl-C. The first Ctrl-C takes no new trial and lets those in hand finish; a second kills them,
 * and the queue gives their jobs to other workers.
 */

export const WORKER_USAGE = `  worker   --queue redis://HOST:PORT [--concurrency N] [--stall-seconds N] [--name TEXT]
           (trains queued sweep trials; --checkpoints is this machine's own folder)`;

const OPTIONS = {
  queue: { type: 'string' },
  concurrency: { type: 'string' },
  'stall-seconds': { type: 'string' },
  name: { type: 'string' },
  checkpoints: { type: 'string' },
  data: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** A Redis URL from the command line, or a usage error (exit 2) saying what is wrong. */
export function queueTargetArg(value: string): QueueTarget {
  try {
    return parseQueueUrl(value);
  } catch (error) {
    if (error instanceof QueueUrlError) throw new UsageError(error.message);
    throw error;
  }
}

function positiveWhole(value: string | undefined, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`--${option} must be a whole number ≥ 1, not ${JSON.stringify(value)}`);
  return n;
}

function describe(event: QueueWorkerEvent): string {
  switch (event.type) {
    case 'worker-ready':
      return `worker ${event.worker}: taking trials from ${event.queue}, ${event.concurrency} at a time`;
    case 'job-started':
      return `${event.jobId}: trial ${event.trial} of ${event.sweepId} (attempt ${event.attempt}) as run ${event.runId}`;
    case 'job-epoch':
      return `${event.jobId}: epoch ${event.epoch}${event.valAccuracy === null ? '' : `, validation ${(event.valAccuracy * 100).toFixed(2)} %`}`;
    case 'job-stopping':
      return `${event.jobId}: stopping (${event.reason})`;
    case 'job-done':
      return `${event.jobId}: ${event.outcome}; sent ${event.bytes} bytes${event.note ? ` (${event.note})` : ''}`;
    case 'worker-error':
      return `queue error: ${event.message}`;
  }
}

export async function workerMain(argv: string[]): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  const parse = (args: string[]) =>
    parseArgs({ args, options: OPTIONS, allowPositionals: false, strict: true });
  try {
    ({ values } = parse(argv));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    process.stderr.write(`usage: npm run cli -- worker …\n${WORKER_USAGE}\n`);
    return 0;
  }
  if (values.queue === undefined) throw new UsageError('worker needs --queue redis://HOST:PORT');
  const target = queueTargetArg(values.queue);
  const concurrency = positiveWhole(values.concurrency, 'concurrency', 1);
  const stallSeconds = positiveWhole(values['stall-seconds'], 'stall-seconds', 30);
  const backend = z.enum(BACKEND_CHOICES).safeParse(values.backend ?? 'auto');
  if (!backend.success)
    throw new UsageError(`--backend must be one of ${BACKEND_CHOICES.join(', ')}`);
  const name = values.name ?? `${os.hostname()}:${process.pid}`;
  if (name.length === 0 || name.length > 200)
    throw new UsageError('--name must be 1 to 200 characters');
  const root = path.resolve(values.checkpoints ?? 'checkpoints');
  const json = wantsJson(values.json, process.stdout.isTTY);
  const out = (event: QueueWorkerEvent) => {
    if (json) processStreams.out(JSON.stringify(event) + '\n');
    else if (event.type === 'worker-error') processStreams.err(describe(event) + '\n');
    else processStreams.out(describe(event) + '\n');
  };

  const launcher = new LocalTrialLauncher({
    spawn: forkWorker(),
    checkpointsDir: root,
    dataDir: values.data ? path.resolve(values.data) : null,
    backend: backend.data,
    owner: `the CLI (npm run cli -- worker), a queued trial`,
  });
  const worker = await QueueWorker.open({
    target,
    root,
    launcher,
    concurrency,
    name,
    lockMs: stallSeconds * 1000,
    onEvent: out,
  });
  const done = new Promise<number>((resolve) => {
    onStopSignals({
      stop: (signal) => {
        if (process.stderr.isTTY)
          process.stderr.write(
            `${signal}: taking no new trial; finishing those in hand (again to kill them)\n`,
          );
        void worker.close().then(async () => {
          await launcher.close();
          resolve(0);
        });
      },
      kill: (signal) => {
        void worker.kill().then(() => resolve(signalExitCode(signal)));
      },
    });
  });
  return await done;
}
