/**
 * `npm run bench`: MNIST Studio's training speed next to PyTorch on the same model, batch size,
 * data split and optimizer, measured in one run (this machine is noisy, so the ratios matter,
 * not the absolute seconds), plus full-run accuracy with `--accuracy`.
 *
 *   npm run bench -- [--models mlp,cnn] [--backends wasm,cpu] [--epochs N] [--limit N]
 *                    [--torch-threads 2,1] [--repeats N] [--python /usr/bin/python3] [--no-torch]
 *                    [--accuracy] [--markdown] [--tfjs-ops] [--no-winograd]
 *
 * TF.js numbers come from the engine's own code path: `runTraining` (trainer.ts) with a temporary
 * checkpoints folder, exactly as the worker runs it, and `evaluateSet` on the 10,000 test images.
 * The PyTorch peer is bench/torch_peer.py (Debian's python3-torch; benchmark-only). Jobs run one
 * after another, never concurrently. Results go to bench/results/ (gitignored).
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  MODEL_PRESETS,
  PRESET_DEFAULTS,
  resolveTrainConfig,
  type BackendName,
  type ModelPreset,
} from '../src-main/contract/config';
import type { BackendInfo, WorkerEvent } from '../src-main/contract/messages';
import { accelTuning, DEFAULT_TUNING, type AccelTuning } from '../src-main/engine/accel/tuning';
import {
  BACKEND_LABELS,
  BackendUnavailableError,
  defaultLoaders,
  selectBackend,
} from '../src-main/engine/backend';
import { adapterLabel } from '../src-main/contract/backend-labels';
import { loadCheckpoint } from '../src-main/engine/checkpoints';
import { loadDataset, type Dataset } from '../src-main/engine/data';
import { evaluateSet } from '../src-main/engine/evaluate';
import { runTraining } from '../src-main/engine/trainer';
import { defaultPython, peerPresetArgs, runPeer } from './peer';
import { tfjsCurve, timeToAccuracyRows, torchCurve, type AccuracyCurve } from './time-to-accuracy';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const RESULTS_DIR = path.join(HERE, 'results');
const ALL_BACKENDS: readonly BackendName[] = [
  'tensorflow-gpu',
  'tensorflow',
  'webgpu',
  'wasm',
  'cpu',
];
/** A full epoch: 60,000 training images minus the 6,000 held back for validation. */
const FULL_EPOCH = 54_000;
/** Images timed per epoch when --limit is not given (null = the full 54,000). */
const DEFAULT_LIMIT: Record<ModelPreset, number | null> = {
  mlp: null,
  cnn: 12_000,
  'cnn-fast': 12_000,
  'cnn-strong': 6_000,
};
/**
 * tfjs-backend-cpu's Conv2DBackpropFilter takes ~50 s per batch of 128 on the cnn: conv models
 * run on 'cpu' only when --backends names it, and then on two batches.
 */
const CPU_CONV_LIMIT = 256;
/** TF.js ÷ PyTorch seconds per epoch; cnn-strong has an accuracy target only. */
const TARGET_RATIO: Record<ModelPreset, number | null> = {
  mlp: 1.2,
  cnn: 1,
  'cnn-fast': 1,
  'cnn-strong': null,
};
const TARGET_ACCURACY: Record<ModelPreset, number | null> = {
  mlp: 0.98,
  cnn: null,
  'cnn-fast': 0.995,
  'cnn-strong': 0.996,
};
const ACCURACY_EPOCHS = 10;
/** Steady state: batches before this fraction of an epoch are warm-up and not timed. */
const WARMUP_FRACTION = 0.1;

const USAGE = `usage: npm run bench -- [options]
  --models LIST         models to time (default mlp,cnn; with --accuracy: mlp,cnn-strong)
  --backends LIST       TF.js backends (default: every one that loads here)
  --epochs N            epochs per timing job (default 1)
  --limit N             training images per epoch (default: mlp 54000, cnn 12000,
                        cnn-strong 6000; ${CPU_CONV_LIMIT} for conv models on cpu, which
                        runs them only when --backends names it)
  --torch-threads LIST  torch.set_num_threads values to compare against (default 2,1)
  --repeats N           repeat every timing job N times, interleaved (default 1)
  --python PATH         Python with torch (default bench/.venv/bin/python from
                        npm run bench:setup, else /usr/bin/python3)
  --no-torch            TF.js only
  --accuracy            full ${ACCURACY_EPOCHS}-epoch runs on the best backend + 10k test accuracy
                        (PyTorch peer with the smallest --torch-threads value)
  --time-to-accuracy    each model's preset trained in full (default cnn-fast) on the best
                        backend and in PyTorch (the largest --torch-threads value): seconds to
                        99.0 % and 99.5 % test accuracy, data loading, validation and
                        checkpoints included (bench/time-to-accuracy.ts)
  --markdown            print README-ready markdown tables
  --tfjs-ops            also time the mlp on wasm with tfjs' own gradients (the fused Dense
                        step off), interleaved with the fused runs: a before/after in one run
  --no-winograd         also time the conv models on wasm with the Winograd Conv2D off (the
                        built-in XNNPACK one), interleaved: a before/after in one run`;

// ------------------------------------------------------------------------------------ options

interface Options {
  models: ModelPreset[];
  backends: BackendName[] | null;
  epochs: number;
  limit: number | null;
  torchThreads: number[];
  repeats: number;
  python: string;
  torch: boolean;
  accuracy: boolean;
  timeToAccuracy: boolean;
  markdown: boolean;
  tfjsOps: boolean;
  noWinograd: boolean;
}

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function list<T extends string>(value: string, allowed: readonly T[], what: string): T[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items) {
    if (!allowed.includes(item as T))
      fail(`unknown ${what} "${item}" (one of ${allowed.join(', ')})`);
  }
  return items as T[];
}

function positiveInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) fail(`--${name} must be a whole number ≥ 1`);
  return n;
}

function parseOptions(argv: string[]): Options {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        models: { type: 'string' },
        backends: { type: 'string' },
        epochs: { type: 'string' },
        limit: { type: 'string' },
        'torch-threads': { type: 'string' },
        repeats: { type: 'string' },
        python: { type: 'string' },
        'no-torch': { type: 'boolean' },
        accuracy: { type: 'boolean' },
        'time-to-accuracy': { type: 'boolean' },
        markdown: { type: 'boolean' },
        'tfjs-ops': { type: 'boolean' },
        'no-winograd': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    fail((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    process.exit(0);
  }
  const accuracy = values.accuracy ?? false;
  const timeToAccuracy = values['time-to-accuracy'] ?? false;
  if (accuracy && timeToAccuracy) fail('--accuracy and --time-to-accuracy are separate runs');
  const threads = (values['torch-threads'] ?? '2,1')
    .split(',')
    .map((t) => positiveInt(t, 'torch-threads')!);
  return {
    models: values.models
      ? list(values.models, MODEL_PRESETS, 'model')
      : timeToAccuracy
        ? ['cnn-fast']
        : accuracy
          ? ['mlp', 'cnn-strong']
          : ['mlp', 'cnn'],
    backends: values.backends ? list(values.backends, ALL_BACKENDS, 'backend') : null,
    epochs: positiveInt(values.epochs, 'epochs') ?? 1,
    limit: positiveInt(values.limit, 'limit') ?? null,
    torchThreads: threads,
    repeats: positiveInt(values.repeats, 'repeats') ?? 1,
    python: values.python ?? defaultPython(),
    torch: !values['no-torch'],
    accuracy,
    timeToAccuracy,
    markdown: values.markdown ?? false,
    tfjsOps: values['tfjs-ops'] ?? false,
    noWinograd: values['no-winograd'] ?? false,
  };
}

// ------------------------------------------------------------------------------------ helpers

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
const loadavg = () => os.loadavg().map((l) => Number(l.toFixed(2)));
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const batchesPerFullEpoch = (batchSize: number) => Math.ceil(FULL_EPOCH / batchSize);

/** One epoch's timing, the same shape for both frameworks. */
interface EpochTiming {
  epoch: number;
  images: number;
  batches: number;
  /** Wall time of the training batches (shuffle, batch assembly, forward, backward, Adam). */
  trainSeconds: number;
  /** The rest of the epoch: validation on 6,000 images (TF.js: plus checkpoint and logs). */
  afterSeconds: number;
  /** The epoch as the framework reports it (TF.js: EpochMetrics.seconds). */
  seconds: number;
  /** Mean seconds per batch after the first 10 % of the epoch; null when too few batches. */
  steadySecondsPerBatch: number | null;
  loss: number;
  accuracy: number;
  valAccuracy: number | null;
}

interface JobResult {
  framework: 'tfjs' | 'torch';
  model: ModelPreset;
  /** TF.js backend name, or `torch-<threads>t`. */
  engine: string;
  /** 'tfjs ops': a Dense stack trained with tfjs' gradients instead of the fused step. */
  variant: string | null;
  threads: number | null;
  batchSize: number;
  limit: number | null;
  epochs: EpochTiming[];
  testAccuracy: number | null;
  testLoss: number | null;
  loadavgBefore: number[];
  loadavgAfter: number[];
  wallSeconds: number;
  notes: string[];
}

/** Seconds per batch at steady state, or the whole epoch's average when it is too short. */
function secondsPerBatch(e: EpochTiming): number {
  return e.steadySecondsPerBatch ?? e.trainSeconds / e.batches;
}

/** Training seconds for a 54,000-image epoch at this job's steady-state speed (median over epochs). */
function fullEpochTrainSeconds(job: JobResult): number {
  return median(job.epochs.map(secondsPerBatch)) * batchesPerFullEpoch(job.batchSize);
}

/** The same plus the per-epoch validation (and, for TF.js, checkpoint) time as measured. */
function fullEpochSeconds(job: JobResult): number {
  return fullEpochTrainSeconds(job) + median(job.epochs.map((e) => e.afterSeconds));
}

// ------------------------------------------------------------------------------------ TF.js

function trainLimit(opts: Options, model: ModelPreset, backend: BackendName): number | null {
  if (opts.limit !== null) return opts.limit;
  const limit = DEFAULT_LIMIT[model];
  if (backend === 'cpu' && model !== 'mlp') return Math.min(limit ?? FULL_EPOCH, CPU_CONV_LIMIT);
  return limit;
}

async function activate(backend: BackendName, tuning: AccelTuning): Promise<BackendInfo> {
  return selectBackend(backend, defaultLoaders(tuning));
}

/** Trains through `runTraining` exactly as the worker does; test accuracy from the last checkpoint. */
async function runTfjsJob(
  dataset: Dataset,
  model: ModelPreset,
  backend: BackendName,
  epochs: number,
  limit: number | null,
  withTest: boolean,
  fusedStep = true,
  winograd = true,
): Promise<JobResult> {
  // Registered with this run's kernels, and handed to its gradient threads by the trainer.
  const tuning = winograd ? DEFAULT_TUNING : accelTuning({ winograd: false });
  const info = await activate(backend, tuning);
  const config = resolveTrainConfig({ model, epochs, limit, backend });
  const root = mkdtempSync(path.join(os.tmpdir(), 'mnist-bench-'));
  const runId = `bench-${model}-${backend}`;
  const marks: { t: number; event: WorkerEvent }[] = [];
  const tensorsBefore = tf.memory().numTensors;
  const loadavgBefore = loadavg();
  const started = performance.now();
  try {
    await runTraining({
      root,
      dataset,
      config,
      backend: info,
      runId,
      emit: (event) => marks.push({ t: performance.now(), event }),
      signal: { stopRequested: false },
      fusedStep,
      tuning,
    });
    const notes: string[] = [];
    const leaked = tf.memory().numTensors - tensorsBefore;
    if (leaked !== 0) notes.push(`${leaked} tensor(s) still allocated after runTraining returned`);
    let testAccuracy: number | null = null;
    let testLoss: number | null = null;
    if (withTest) {
      const { model: trained } = await loadCheckpoint(root, runId, null);
      try {
        const test = await evaluateSet(trained, dataset.test);
        testAccuracy = test.accuracy;
        testLoss = test.loss;
      } finally {
        trained.dispose();
      }
    }
    return {
      framework: 'tfjs',
      model,
      engine: backend,
      variant: !fusedStep ? 'tfjs ops' : winograd ? null : 'no Winograd',
      // The trainer's threads (gradient threads for a CNN), as its 'started' event reports them.
      threads: startedThreads(marks),
      batchSize: config.batchSize,
      limit,
      epochs: tfjsEpochTimings(marks),
      testAccuracy,
      testLoss,
      loadavgBefore,
      loadavgAfter: loadavg(),
      wallSeconds: (performance.now() - started) / 1000,
      notes,
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * Splits the event stream into epochs. An epoch starts at 'started' (or the previous epoch's
 * 'checkpoint', the trainer's last event before the next epoch begins) and its training ends at
 * its last 'batch' event, which the trainer always emits after the final batch.
 */
function tfjsEpochTimings(marks: { t: number; event: WorkerEvent }[]): EpochTiming[] {
  const out: EpochTiming[] = [];
  let epochStart = marks.find((m) => m.event.type === 'started')?.t ?? NaN;
  let batchMarks: { t: number; batch: number; batches: number }[] = [];
  for (const { t, event } of marks) {
    if (event.type === 'batch') batchMarks.push({ t, batch: event.batch, batches: event.batches });
    if (event.type === 'epoch') {
      const last = batchMarks[batchMarks.length - 1]!;
      const trainSeconds = (last.t - epochStart) / 1000;
      const skip = Math.max(1, Math.floor(last.batches * WARMUP_FRACTION));
      const first = batchMarks.find((b) => b.batch >= skip);
      const steady =
        first && last.batch > first.batch
          ? (last.t - first.t) / 1000 / (last.batch - first.batch)
          : null;
      out.push({
        epoch: event.epoch,
        images: 0, // filled in below from 'started'
        batches: last.batches,
        trainSeconds,
        afterSeconds: event.seconds - trainSeconds,
        seconds: event.seconds,
        steadySecondsPerBatch: steady,
        loss: event.loss,
        accuracy: event.accuracy,
        valAccuracy: event.valAccuracy,
      });
    }
    if (event.type === 'checkpoint') {
      epochStart = t;
      batchMarks = [];
    }
  }
  const started = marks.find((m) => m.event.type === 'started')?.event;
  if (started?.type === 'started') for (const e of out) e.images = started.trainSize;
  return out;
}

function startedThreads(marks: { event: WorkerEvent }[]): number | null {
  for (const { event } of marks) if (event.type === 'started') return event.threads;
  return null;
}

// ------------------------------------------------------------------------------------ PyTorch

interface TorchProbe {
  ok: boolean;
  reason: string | null;
  torch: string | null;
  blas: string | null;
}

function probeTorch(python: string): TorchProbe {
  const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], {
    encoding: 'utf8',
  });
  if (r.error)
    return { ok: false, reason: `${python}: ${r.error.message}`, torch: null, blas: null };
  if (r.status !== 0) {
    const why = r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`;
    return {
      ok: false,
      reason: `${python} cannot import torch (${why}); npm run bench:setup (PyTorch 2.13) or apt-get install python3-torch`,
      torch: null,
      blas: null,
    };
  }
  let blas: string | null = null;
  try {
    // Debian's torch uses whatever libblas.so.3 the alternatives system points at.
    blas = realpathSync('/usr/lib/x86_64-linux-gnu/libblas.so.3');
  } catch {
    blas = null;
  }
  return { ok: true, reason: null, torch: r.stdout.trim(), blas };
}

async function runTorchJob(
  python: string,
  model: ModelPreset,
  threads: number,
  epochs: number,
  limit: number | null,
  withTest: boolean,
): Promise<JobResult> {
  const args = [...peerPresetArgs(model), '--epochs', String(epochs)];
  args.push('--threads', String(threads));
  if (limit !== null) args.push('--limit', String(limit));
  if (!withTest) args.push('--no-test');
  const loadavgBefore = loadavg();
  const started = performance.now();
  const lines = await runPeer(python, args);
  const num = (v: unknown) => v as number;
  const epochsOut: EpochTiming[] = lines
    .filter((l) => l.type === 'epoch')
    .map((l) => ({
      epoch: num(l.epoch),
      images: num(l.images),
      batches: num(l.batches),
      trainSeconds: num(l.trainSeconds),
      afterSeconds: num(l.valSeconds),
      seconds: num(l.seconds),
      steadySecondsPerBatch: (l.steadySecondsPerBatch as number | null) ?? null,
      loss: num(l.loss),
      accuracy: num(l.accuracy),
      valAccuracy: num(l.valAccuracy),
    }));
  const test = lines.find((l) => l.type === 'test');
  return {
    framework: 'torch',
    model,
    engine: `torch-${threads}t`,
    variant: null,
    threads,
    batchSize: PRESET_DEFAULTS[model].batchSize,
    limit,
    epochs: epochsOut,
    testAccuracy: test ? num(test.accuracy) : null,
    testLoss: test ? num(test.loss) : null,
    loadavgBefore,
    loadavgAfter: loadavg(),
    wallSeconds: (performance.now() - started) / 1000,
    notes: [],
  };
}

// ------------------------------------------------------------------------------------ tables

const fmtS = (s: number) => (s >= 100 ? s.toFixed(0) : s >= 10 ? s.toFixed(1) : s.toFixed(2));
const fmtX = (r: number) => `${r.toFixed(2)}x`;
const fmtPct = (a: number | null) => (a === null ? '—' : `${(a * 100).toFixed(2)} %`);
const fmtN = (n: number) => n.toLocaleString('en-US');

function renderTable(header: string[], rows: string[][], markdown: boolean): string {
  if (markdown) {
    const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
    const align = header.map((_, i) => (i < 3 ? '---' : '---:'));
    return [line(header), line(align), ...rows.map(line)].join('\n');
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

interface SpeedRow {
  model: ModelPreset;
  backend: BackendName;
  variant: string | null;
  batchSize: number;
  imagesTimed: number;
  epochsTimed: number;
  tfjsTrain: number;
  tfjsEpoch: number;
  torch: { threads: number; train: number; epoch: number }[];
  target: number | null;
}

function speedRows(jobs: JobResult[], opts: Options): SpeedRow[] {
  const rows: SpeedRow[] = [];
  for (const model of opts.models) {
    const tfjsJobs = jobs.filter((j) => j.framework === 'tfjs' && j.model === model);
    for (const [backend, variant] of ALL_BACKENDS.flatMap((b) =>
      [null, 'tfjs ops', 'no Winograd'].map((v) => [b, v] as const),
    )) {
      const mine = tfjsJobs.filter((j) => j.engine === backend && j.variant === variant);
      if (mine.length === 0) continue;
      const torch = opts.torchThreads.flatMap((threads) => {
        const peers = jobs.filter(
          (j) => j.framework === 'torch' && j.model === model && j.threads === threads,
        );
        if (peers.length === 0) return [];
        return [
          {
            threads,
            train: median(peers.map(fullEpochTrainSeconds)),
            epoch: median(peers.map(fullEpochSeconds)),
          },
        ];
      });
      rows.push({
        model,
        backend,
        variant,
        batchSize: mine[0]!.batchSize,
        imagesTimed: mine[0]!.epochs[0]?.images ?? 0,
        epochsTimed: mine[0]!.epochs.length,
        tfjsTrain: median(mine.map(fullEpochTrainSeconds)),
        tfjsEpoch: median(mine.map(fullEpochSeconds)),
        torch,
        target: TARGET_RATIO[model],
      });
    }
  }
  return rows;
}

function speedTable(rows: SpeedRow[], opts: Options, markdown: boolean): string {
  const header = ['Model', 'Backend', 'Timed on', 'TF.js train s/epoch'];
  for (const t of opts.torchThreads) header.push(`PyTorch ${t}T s/epoch`);
  for (const t of opts.torchThreads) header.push(`Ratio vs ${t}T`);
  header.push('Target', 'TF.js epoch incl. val+ckpt');
  for (const t of opts.torchThreads) header.push(`Ratio incl. val vs ${t}T`);
  const body = rows.map((r) => {
    const timed =
      r.imagesTimed >= FULL_EPOCH
        ? `${fmtN(r.imagesTimed)} img × ${r.epochsTimed}`
        : `${fmtN(r.imagesTimed)} img × ${r.epochsTimed}, extrapolated`;
    const cells = [
      r.model,
      BACKEND_LABELS[r.backend] + (r.variant ? ` (${r.variant})` : ''),
      `${timed} (batch ${r.batchSize})`,
      fmtS(r.tfjsTrain),
    ];
    const peer = (t: number) => r.torch.find((p) => p.threads === t);
    for (const t of opts.torchThreads) cells.push(peer(t) ? fmtS(peer(t)!.train) : '—');
    for (const t of opts.torchThreads) {
      const p = peer(t);
      if (!p) cells.push('—');
      else if (r.target === null) cells.push(fmtX(r.tfjsTrain / p.train));
      else
        cells.push(
          `${fmtX(r.tfjsTrain / p.train)} ${r.tfjsTrain / p.train <= r.target ? '✅' : '❌'}`,
        );
    }
    cells.push(r.target === null ? '—' : `≤ ${r.target}x`, fmtS(r.tfjsEpoch));
    for (const t of opts.torchThreads)
      cells.push(peer(t) ? fmtX(r.tfjsEpoch / peer(t)!.epoch) : '—');
    return cells;
  });
  return renderTable(header, body, markdown);
}

function accuracyTable(jobs: JobResult[], markdown: boolean): string {
  const header = [
    'Model',
    'Framework',
    'Epochs',
    'Test accuracy (10k)',
    'Target',
    'Best val accuracy',
    'Mean s/epoch',
  ];
  const body = jobs.map((j) => {
    const target = TARGET_ACCURACY[j.model];
    const pass =
      target === null || j.testAccuracy === null ? '' : j.testAccuracy >= target ? ' ✅' : ' ❌';
    const fw =
      j.framework === 'tfjs'
        ? `TF.js ${BACKEND_LABELS[j.engine as BackendName]}`
        : `PyTorch ${j.threads}T`;
    const vals = j.epochs.map((e) => e.valAccuracy ?? 0);
    const mean = j.epochs.reduce((a, e) => a + e.seconds, 0) / Math.max(1, j.epochs.length);
    return [
      j.model,
      fw,
      String(j.epochs.length),
      fmtPct(j.testAccuracy) + pass,
      target === null ? '—' : `≥ ${(target * 100).toFixed(1)} %`,
      fmtPct(vals.length ? Math.max(...vals) : null),
      fmtS(mean),
    ];
  });
  return renderTable(header, body, markdown);
}

// ------------------------------------------------------------------------------------ main

async function availableBackends(
  opts: Options,
): Promise<{ ok: BackendName[]; skipped: { name: BackendName; why: string }[] }> {
  const ok: BackendName[] = [];
  const skipped: { name: BackendName; why: string }[] = [];
  for (const name of opts.backends ?? ALL_BACKENDS) {
    try {
      const info = await activate(name, DEFAULT_TUNING);
      // As in the app: a software WebGPU adapter (SwiftShader…) runs only when asked for by name.
      if (info.adapter?.software && opts.backends === null) {
        skipped.push({
          name,
          why: `only a software adapter, ${adapterLabel(info.adapter)} (name webgpu in --backends to bench it)`,
        });
        continue;
      }
      ok.push(name);
    } catch (error) {
      skipped.push({
        name,
        why: error instanceof BackendUnavailableError ? error.message : String(error),
      });
    }
  }
  return { ok, skipped };
}

async function environment(torch: TorchProbe | null) {
  let wasm: Record<string, unknown> = {};
  try {
    wasm = {
      simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
      multithread: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
    };
  } catch {
    wasm = {};
  }
  const pkg = JSON.parse(readFileSync(path.join(HERE, '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return {
    date: new Date().toISOString(),
    app: pkg.version,
    node: process.version,
    tfjs: tf.version.tfjs,
    wasm,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    torch: torch?.torch ?? null,
    blas: torch?.blas ?? null,
  };
}

async function timeToAccuracyMain(
  opts: Options,
  backends: BackendName[],
  torch: TorchProbe | null,
): Promise<void> {
  // The best backend that loads, as `auto` would pick it.
  const best = ALL_BACKENDS.find((b) => backends.includes(b))!;
  const info = await activate(best, DEFAULT_TUNING);
  const threads = Math.max(...opts.torchThreads);
  const loadBefore = loadavg();
  const curves: AccuracyCurve[] = [];
  const record = (label: string, curve: AccuracyCurve) => {
    const points = curve.points.map(
      (p) => `${p.epoch}: ${fmtPct(p.testAccuracy)} at ${fmtS(p.elapsed)} s`,
    );
    log(`${label}: ${points.join(', ')}`);
    curves.push(curve);
  };
  for (const model of opts.models) {
    log(`${model} on ${best}, full preset run … (load ${loadavg().join(' ')})`);
    record(`${model} on ${best}`, await tfjsCurve(model, info));
    if (torch) {
      log(`${model} on torch ${threads}T, full preset run … (load ${loadavg().join(' ')})`);
      record(`${model} on torch ${threads}T`, await torchCurve(opts.python, model, threads));
    }
  }
  const env = await environment(torch);
  const { header, rows } = timeToAccuracyRows(curves);
  const output =
    renderTable(header, rows, opts.markdown) +
    '\n\n' +
    `TF.js ${env.tfjs} (runTraining) vs PyTorch ${env.torch ?? 'n/a'} (bench/torch_peer.py), the same ` +
    `preset recipe; seconds from before reading the IDX files to the first checkpoint at that test ` +
    `accuracy (validation, checkpoints and logs included; test scoring not). ` +
    `${env.cores} cores (${env.cpu}), Node ${env.node}, load ${loadBefore.join(' ')} before, ${loadavg().join(' ')} after.`;
  process.stdout.write(output + '\n');
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `time-to-accuracy-${env.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify({ env, options: opts, curves, table: output }, null, 2) + '\n',
  );
  log(`results: ${path.relative(process.cwd(), file)}`);
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const { ok: backends, skipped } = await availableBackends(opts);
  for (const s of skipped) log(`skipping ${s.name}: ${s.why}`);
  if (backends.length === 0) fail('no TF.js backend could start');

  const probe = opts.torch ? probeTorch(opts.python) : null;
  if (probe && !probe.ok) log(`skipping PyTorch: ${probe.reason}`);
  const torchOk = probe?.ok === true;
  if (probe?.blas && /\/blas\/libblas/.test(probe.blas)) {
    log(
      `warning: torch uses the reference BLAS (${probe.blas}); apt-get install libopenblas0-openmp for a fair peer`,
    );
  }

  if (opts.timeToAccuracy) {
    await timeToAccuracyMain(opts, backends, torchOk ? probe : null);
    return;
  }

  log('loading MNIST');
  const dataset = loadDataset(null);
  const jobs: JobResult[] = [];
  const cpuConvSkipped = new Set<ModelPreset>();
  const run = async (label: string, job: () => Promise<JobResult>) => {
    log(`${label} … (load ${loadavg().join(' ')})`);
    const result = await job();
    const e = result.epochs[result.epochs.length - 1];
    log(
      `${label}: ${fmtS(result.wallSeconds)} s wall` +
        (e
          ? `, last epoch train ${fmtS(e.trainSeconds)} s, ${(secondsPerBatch(e) * 1000).toFixed(2)} ms/batch`
          : '') +
        (result.testAccuracy !== null ? `, test ${fmtPct(result.testAccuracy)}` : '') +
        (result.notes.length ? ` (${result.notes.join('; ')})` : ''),
    );
    jobs.push(result);
  };

  if (opts.accuracy) {
    // The best backend that loads, as `auto` would pick it.
    const best = ALL_BACKENDS.find((b) => backends.includes(b))!;
    for (const model of opts.models) {
      await run(`accuracy ${model} on ${best}, ${ACCURACY_EPOCHS} epochs`, () =>
        runTfjsJob(dataset, model, best, ACCURACY_EPOCHS, null, true),
      );
      if (torchOk) {
        const threads = Math.min(...opts.torchThreads); // one thread: fastest here under load
        await run(`accuracy ${model} on torch ${threads}T, ${ACCURACY_EPOCHS} epochs`, () =>
          runTorchJob(opts.python, model, threads, ACCURACY_EPOCHS, null, true),
        );
      }
    }
  } else {
    for (const model of opts.models) {
      for (let rep = 1; rep <= opts.repeats; rep++) {
        const tag = opts.repeats > 1 ? ` (repeat ${rep}/${opts.repeats})` : '';
        const torchLimits = new Set<number | null>();
        for (const backend of backends) {
          if (backend === 'cpu' && model !== 'mlp' && opts.backends === null) {
            if (rep === 1) {
              log(
                `skipping ${model} on cpu: ~50 s per batch (pass --backends cpu to time ${CPU_CONV_LIMIT} images)`,
              );
              cpuConvSkipped.add(model);
            }
            continue;
          }
          const limit = trainLimit(opts, model, backend);
          await run(
            `${model} on ${backend}, ${fmtN(limit ?? FULL_EPOCH)} img × ${opts.epochs}${tag}`,
            () => runTfjsJob(dataset, model, backend, opts.epochs, limit, false),
          );
          // The mlp is the preset that is a Dense stack, the one the fused step trains.
          if (opts.tfjsOps && backend === 'wasm' && model === 'mlp') {
            await run(
              `${model} on ${backend} with tfjs ops, ${fmtN(limit ?? FULL_EPOCH)} img × ${opts.epochs}${tag}`,
              () => runTfjsJob(dataset, model, backend, opts.epochs, limit, false, false),
            );
          }
          if (opts.noWinograd && backend === 'wasm' && model !== 'mlp') {
            await run(
              `${model} on ${backend} without Winograd, ${fmtN(limit ?? FULL_EPOCH)} img × ${opts.epochs}${tag}`,
              () => runTfjsJob(dataset, model, backend, opts.epochs, limit, false, true, false),
            );
          }
          torchLimits.add(limit);
        }
        if (!torchOk) continue;
        // One peer per thread count, on the largest subset any backend used.
        const limits = [...torchLimits];
        const limit = limits.includes(null) ? null : Math.max(...(limits as number[]));
        for (const threads of opts.torchThreads) {
          await run(
            `${model} on torch ${threads}T, ${fmtN(limit ?? FULL_EPOCH)} img × ${opts.epochs}${tag}`,
            () => runTorchJob(opts.python, model, threads, opts.epochs, limit, false),
          );
        }
      }
    }
  }

  const env = await environment(probe);
  const notes = [
    ...skipped.map((s) => `${s.name} skipped: ${s.why}`),
    ...(probe && !probe.ok ? [`PyTorch skipped: ${probe.reason}`] : []),
    ...[...cpuConvSkipped].map(
      (m) => `${m} on cpu skipped: tfjs-backend-cpu's Conv2DBackpropFilter takes ~50 s per batch`,
    ),
  ];
  const loads = jobs.flatMap((j) => [j.loadavgBefore[0]!, j.loadavgAfter[0]!]);
  if (loads.length) {
    notes.push(
      `1-minute load average during the run: ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)} on ${os.cpus().length} cores.`,
    );
  }
  let output: string;
  if (opts.accuracy) {
    output = accuracyTable(jobs, opts.markdown);
  } else {
    const rows = speedRows(jobs, opts);
    output = speedTable(rows, opts, opts.markdown);
    output +=
      '\n\n' +
      [
        `TF.js ${env.tfjs} (runTraining, the engine's code path) vs PyTorch ${env.torch ?? 'n/a'} (bench/torch_peer.py), ` +
          `same model, batch size, Adam and 54,000/6,000 split; ${env.cores} cores (${env.cpu}), Node ${env.node}.`,
        `s/epoch = steady-state seconds per batch (first ${WARMUP_FRACTION * 100} % of each epoch not timed) × batches in a 54,000-image epoch; ` +
          `"extrapolated" rows were timed on a subset. "Incl. val+ckpt" adds the measured per-epoch validation on 6,000 images ` +
          `(and for TF.js the checkpoint write). NT = torch.set_num_threads(N); TF.js threads (auto): ` +
          `${jobs
            .filter((j) => j.framework === 'tfjs')
            .map((j) => `${j.model} ${j.threads ?? '?'}`)
            .filter((v, i, all) => all.indexOf(v) === i)
            .join(', ')}.`,
      ].join('\n');
  }
  for (const n of notes) output += `\n${n}`;
  process.stdout.write(output + '\n');

  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(
    RESULTS_DIR,
    `${opts.accuracy ? 'accuracy' : 'speed'}-${env.date.replace(/[:.]/g, '-')}.json`,
  );
  writeFileSync(
    file,
    JSON.stringify(
      {
        env,
        options: opts,
        skipped,
        rows: opts.accuracy ? undefined : speedRows(jobs, opts),
        jobs,
        table: output,
      },
      null,
      2,
    ) + '\n',
  );
  log(`results: ${path.relative(process.cwd(), file)}`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
