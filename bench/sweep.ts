/**
 * `npm run bench:sweep`: what a sweep buys and what it costs, measured through the sweep's own
 * code path (startSweep, a worker process per trial, checkpoints and all).
 *
 *   npm run bench:sweep -- [--parts asha,default,queue] [--trials N] [--epochs N] [--limit N]
 *                          [--seed N] [--queue-trials N] [--queue-epochs N] [--queue-limit N]
 *
 * - asha: the same seeded random trials over the mlp preset twice, with ASHA early stopping and
 *   without; for each, wall time and the best trial's checkpoint (runner.ts bestTrial) scored on
 *   the 10,000 test images.
 * - default: the mlp preset's own run (its default hyper-parameters, the same epochs and limit),
 *   trained through runTraining as the worker trains it, scored the same way.
 * - queue: trials an hour on this machine (LocalTrialLauncher, parallelism auto) against two
 *   `worker` processes taking the same trials from BullMQ on a loopback redis-server started
 *   here (in memory, stopped at the end), with --parallel auto sized from the workers.
 *
 * Parts run one after another, never concurrently. Results go to bench/results/ (gitignored).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { resolveTrainConfig } from '../src-main/contract/config';
import { parseSweepSpec, type SweepEvent, type SweepSpec } from '../src-main/contract/sweep';
import { defaultLoaders, selectBackend } from '../src-main/engine/backend';
import { loadCheckpoint } from '../src-main/engine/checkpoints';
import { loadDataset, type Dataset } from '../src-main/engine/data';
import { evaluateSet } from '../src-main/engine/evaluate';
import { openQueueLauncher } from '../src-main/engine/sweeps/queue/launcher';
import { parseQueueUrl } from '../src-main/engine/sweeps/queue/connection';
import { bestTrial } from '../src-main/engine/sweeps/best';
import {
  startSweep,
  trialCounts,
  type SweepOutcome,
  type TrialLauncher,
} from '../src-main/engine/sweeps/runner';
import { runTraining } from '../src-main/engine/trainer';
import { forkWorker } from '../src-main/host/fork-worker';
import { LocalTrialLauncher } from '../src-main/host/trial-launcher';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const RESULTS_DIR = path.join(HERE, 'results');
const CLI = path.join(HERE, '..', 'src-main', 'cli.ts');
const PARTS = ['asha', 'default', 'queue'] as const;
type Part = (typeof PARTS)[number];

const USAGE = `usage: npm run bench:sweep -- [options]
  --parts LIST        asha,default,queue (default: all three)
  --trials N          trials of each asha sweep (default 20)
  --epochs N          epochs a trial trains unless pruned, and the default run's (default 10)
  --limit N           training images per epoch (default: all 54,000)
  --seed N            the sweeps' seed: both asha sweeps propose the same trials (default 1)
  --asha M[:ETA]      early stopping of the pruned sweep (default 1:3)
  --queue-trials N    trials of each throughput sweep (default 8)
  --queue-epochs N    their epochs (default 2)
  --queue-limit N     their training images per epoch (default 20000)`;

/** The space: the mlp preset's learning rate, width, dropout and batch size. */
const SPACE = {
  learningRate: { kind: 'log-uniform', min: 1e-4, max: 1e-2 },
  hiddenUnits: { kind: 'choice', values: [64, 128, 256] },
  dropout: { kind: 'uniform', min: 0, max: 0.5 },
  batchSize: { kind: 'choice', values: [32, 64, 128] },
} as const;

interface Options {
  parts: Part[];
  trials: number;
  epochs: number;
  limit: number | null;
  seed: number;
  asha: { minEpochs: number; reductionFactor: number };
  queueTrials: number;
  queueEpochs: number;
  queueLimit: number;
}

function fail(message: string): never {
  process.stderr.write(`bench:sweep: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function whole(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1) fail(`--${name} must be a whole number ≥ 1`);
  return Number(value);
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      parts: { type: 'string' },
      trials: { type: 'string' },
      epochs: { type: 'string' },
      limit: { type: 'string' },
      seed: { type: 'string' },
      asha: { type: 'string' },
      'queue-trials': { type: 'string' },
      'queue-epochs': { type: 'string' },
      'queue-limit': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const parts = (values.parts ?? PARTS.join(',')).split(',').map((p) => p.trim());
  for (const p of parts) if (!PARTS.includes(p as Part)) fail(`unknown part "${p}"`);
  const asha = /^(\d+)(?::(\d+))?$/.exec(values.asha ?? '1:3');
  if (!asha) fail('--asha must be MIN_EPOCHS or MIN_EPOCHS:ETA');
  return {
    parts: parts as Part[],
    trials: whole(values.trials, 'trials', 20),
    epochs: whole(values.epochs, 'epochs', 10),
    limit: values.limit === undefined ? null : whole(values.limit, 'limit', 1),
    seed: values.seed === undefined ? 1 : Number(values.seed),
    asha: { minEpochs: Number(asha[1]), reductionFactor: Number(asha[2] ?? 3) },
    queueTrials: whole(values['queue-trials'], 'queue-trials', 8),
    queueEpochs: whole(values['queue-epochs'], 'queue-epochs', 2),
    queueLimit: whole(values['queue-limit'], 'queue-limit', 20_000),
  };
}

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
}

function spec(
  opts: Options,
  trials: number,
  epochs: number,
  limit: number | null,
  asha: boolean,
): SweepSpec {
  return parseSweepSpec({
    preset: 'mlp',
    base: { epochs, ...(limit === null ? {} : { limit }), backend: 'wasm' },
    space: SPACE,
    // Random, not TPE: with and without pruning the sweeps then propose the very same trials.
    strategy: 'random',
    budget: { maxTrials: trials },
    parallelism: 'auto',
    earlyStopping: asha ? { kind: 'asha', ...opts.asha } : { kind: 'none' },
    seed: opts.seed,
  });
}

interface SweepResult {
  label: string;
  seconds: number;
  trials: ReturnType<typeof trialCounts>;
  epochsTrained: number;
  best: {
    trial: number;
    runId: string;
    epoch: number;
    valAccuracy: number;
    point: unknown;
  } | null;
  bestTestAccuracy: number | null;
}

async function runSweep(
  label: string,
  sweepSpec: SweepSpec,
  root: string,
  launcher: TrialLauncher,
): Promise<{ outcome: SweepOutcome; seconds: number }> {
  const started = performance.now();
  const session = startSweep(sweepSpec, {
    root,
    launcher,
    owner: 'bench/sweep.ts',
    onEvent: (e: SweepEvent) => {
      if (e.type === 'trial-finished' || e.type === 'trial-pruned' || e.type === 'trial-failed')
        log(`${label}: trial ${e.trial} ${e.type.slice(6)}`);
    },
  });
  const outcome = await session.done;
  return { outcome, seconds: (performance.now() - started) / 1000 };
}

async function testAccuracy(
  dataset: Dataset,
  root: string,
  runId: string,
  epoch: number,
): Promise<number> {
  const { model } = await loadCheckpoint(root, runId, epoch);
  try {
    return (await evaluateSet(model, dataset.test)).accuracy;
  } finally {
    model.dispose();
  }
}

async function summarize(
  label: string,
  run: { outcome: SweepOutcome; seconds: number },
  dataset: Dataset,
  root: string,
): Promise<SweepResult> {
  const { journal } = run.outcome;
  const best = bestTrial(journal);
  return {
    label,
    seconds: run.seconds,
    trials: trialCounts(journal),
    epochsTrained: journal.trials.reduce((n, t) => n + (t.scores.at(-1)?.epoch ?? 0), 0),
    best: best && best.runId !== null ? { ...best, runId: best.runId } : null,
    bestTestAccuracy:
      best && best.runId !== null
        ? await testAccuracy(dataset, root, best.runId, best.epoch)
        : null,
  };
}

function localLauncher(root: string): LocalTrialLauncher {
  return new LocalTrialLauncher({
    spawn: forkWorker(),
    checkpointsDir: root,
    dataDir: null,
    backend: 'wasm',
    owner: 'bench/sweep.ts, a trial',
  });
}

async function ashaPart(opts: Options, dataset: Dataset, work: string): Promise<SweepResult[]> {
  const results: SweepResult[] = [];
  for (const asha of [true, false]) {
    const label = asha ? `ASHA ${opts.asha.minEpochs}:${opts.asha.reductionFactor}` : 'no pruning';
    const root = path.join(work, asha ? 'asha' : 'full');
    log(`${label}: ${opts.trials} trials × ≤ ${opts.epochs} epochs`);
    const s = spec(opts, opts.trials, opts.epochs, opts.limit, asha);
    const run = await runSweep(label, s, root, localLauncher(root));
    results.push(await summarize(label, run, dataset, root));
    log(`${label}: ${JSON.stringify(results.at(-1))}`);
  }
  return results;
}

interface DefaultResult {
  seconds: number;
  testAccuracy: number;
  bestValAccuracy: number | null;
}

async function defaultPart(opts: Options, dataset: Dataset, work: string): Promise<DefaultResult> {
  const backend = await selectBackend('wasm', defaultLoaders());
  const root = path.join(work, 'default');
  const config = resolveTrainConfig({
    model: 'mlp',
    epochs: opts.epochs,
    limit: opts.limit,
    backend: 'wasm',
  });
  log(`default mlp: ${JSON.stringify(config)}`);
  let last = 0;
  let bestVal: number | null = null;
  const started = performance.now();
  await runTraining({
    root,
    dataset,
    config,
    backend,
    runId: 'default-mlp',
    emit: (event) => {
      if (event.type === 'checkpoint') last = event.epoch;
      if (event.type === 'epoch' && event.valAccuracy !== null)
        bestVal = Math.max(bestVal ?? 0, event.valAccuracy);
    },
    signal: { stopRequested: false },
  });
  const seconds = (performance.now() - started) / 1000;
  // The app's default run is used as trained: its last checkpoint.
  const test = await testAccuracy(dataset, root, 'default-mlp', last);
  return { seconds, testAccuracy: test, bestValAccuracy: bestVal };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** In memory, loopback only, as the queue tests start it. */
async function startRedis(): Promise<{ url: string; child: ChildProcess }> {
  if (spawnSync('redis-server', ['--version']).status !== 0)
    throw new Error('redis-server was not found (apt-get install redis-server)');
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ready to accept connections')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
  return { url: `redis://127.0.0.1:${port}`, child };
}

function startWorker(url: string, root: string, name: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      CLI,
      'worker',
      '--queue',
      url,
      '--concurrency',
      '1',
      '--name',
      name,
      '--checkpoints',
      root,
      '--json',
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, MNIST_STUDIO_WORKER_STDERR: '0' },
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('"worker-ready"')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`worker ${name} exited with ${code}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

interface ThroughputResult {
  label: string;
  trials: number;
  epochs: number;
  limit: number;
  seconds: number;
  trialsPerHour: number;
  finished: number;
}

async function queuePart(opts: Options, work: string): Promise<ThroughputResult[]> {
  const results: ThroughputResult[] = [];
  const s = spec(opts, opts.queueTrials, opts.queueEpochs, opts.queueLimit, false);
  const record = (label: string, run: { outcome: SweepOutcome; seconds: number }) => {
    const r: ThroughputResult = {
      label,
      trials: opts.queueTrials,
      epochs: opts.queueEpochs,
      limit: opts.queueLimit,
      seconds: run.seconds,
      trialsPerHour: (opts.queueTrials / run.seconds) * 3600,
      finished: trialCounts(run.outcome.journal).finished,
    };
    results.push(r);
    log(`${label}: ${JSON.stringify(r)}`);
  };
  const localRoot = path.join(work, 'local');
  record('local processes', await runSweep('local', s, localRoot, localLauncher(localRoot)));

  const redis = await startRedis();
  const workers: ChildProcess[] = [];
  try {
    for (const n of [1, 2])
      workers.push(await startWorker(redis.url, path.join(work, `worker-${n}`), `bench-${n}`));
    const root = path.join(work, 'queued');
    const launcher = await openQueueLauncher({
      target: parseQueueUrl(redis.url),
      root,
      log: (line) => log(`queue: ${line}`),
    });
    record('2 workers, BullMQ', await runSweep('queue', s, root, launcher));
  } finally {
    await Promise.all(workers.map(stop));
    await stop(redis.child);
  }
  return results;
}

function pct(x: number | null): string {
  return x === null ? '–' : `${(x * 100).toFixed(2)} %`;
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const work = mkdtempSync(path.join(os.tmpdir(), 'mnist-bench-sweep-'));
  const load = () => os.loadavg().map((l) => l.toFixed(2));
  const loadBefore = load();
  const dataset = loadDataset(null);
  const out: Record<string, unknown> = {
    date: new Date().toISOString(),
    options: opts,
    cores: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? '?',
    loadBefore,
  };
  try {
    if (opts.parts.includes('default')) out.default = await defaultPart(opts, dataset, work);
    if (opts.parts.includes('asha')) out.asha = await ashaPart(opts, dataset, work);
    if (opts.parts.includes('queue')) out.queue = await queuePart(opts, work);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  out.loadAfter = load();

  const lines: string[] = [];
  const d = out.default as DefaultResult | undefined;
  if (d) lines.push(`default mlp: test ${pct(d.testAccuracy)} in ${d.seconds.toFixed(0)} s`);
  for (const r of (out.asha as SweepResult[] | undefined) ?? [])
    lines.push(
      `${r.label}: ${r.seconds.toFixed(0)} s, ${r.epochsTrained} epochs trained, ` +
        `${r.trials.finished} finished / ${r.trials.pruned} pruned / ${r.trials.failed} failed; ` +
        `best trial ${r.best?.trial ?? '–'} epoch ${r.best?.epoch ?? '–'} ` +
        `val ${pct(r.best?.valAccuracy ?? null)} test ${pct(r.bestTestAccuracy)}`,
    );
  for (const r of (out.queue as ThroughputResult[] | undefined) ?? [])
    lines.push(
      `${r.label}: ${r.trials} trials × ${r.epochs} epochs (limit ${r.limit}) in ` +
        `${r.seconds.toFixed(0)} s = ${r.trialsPerHour.toFixed(0)} trials/h`,
    );
  lines.push(`load average before ${loadBefore.join(' ')}, after ${load().join(' ')}`);
  process.stdout.write(lines.join('\n') + '\n');

  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `sweep-${out.date as string}.json`.replaceAll(':', '-'));
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  log(`results: ${path.relative(process.cwd(), file)}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench:sweep: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
