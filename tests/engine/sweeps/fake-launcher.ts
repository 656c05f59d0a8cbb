import type { TrainConfig } from '../../../src-main/contract/config';
import type { SweepTag } from '../../../src-main/contract/messages';
import type {
  TrialHandle,
  TrialLauncher,
  TrialListener,
} from '../../../src-main/engine/sweeps/runner';

/**
 * Trials in this process, one timer tick per epoch: a run keeps its epochs done (its
 * "checkpoints") after it stops, so a resume continues from there, as the worker's does.
 */

interface FakeRun {
  runId: string;
  config: TrainConfig;
  tag: SweepTag;
  /** Epochs done: the latest checkpoint. */
  done: number;
  stopReasons: string[];
  active: boolean;
}

export interface FakeLauncherOptions {
  epochMs?: number;
  /** The validation accuracy a trial reaches at an epoch (default: best at learning rate 1e-3). */
  score?: (config: TrainConfig, epoch: number) => number;
  /** A run that dies (emits error) as it reaches this epoch. */
  dies?: (tag: SweepTag, epoch: number) => boolean;
  /** start() rejects for this trial. */
  refuses?: (tag: SweepTag) => boolean;
  resumable?: boolean;
}

export const defaultScore = (config: TrainConfig, epoch: number): number =>
  Math.min(0.99, 0.9 - Math.abs(Math.log10(config.learningRate) + 3) * 0.1 + 0.01 * epoch);

export class FakeLauncher implements TrialLauncher {
  readonly runs = new Map<string, FakeRun>();
  readonly resumed: { runId: string; fromEpoch: number }[] = [];
  running = 0;
  maxRunning = 0;
  closed = 0;
  private next = 0;
  resume?: TrialLauncher['resume'];

  constructor(private readonly options: FakeLauncherOptions = {}) {
    if (options.resumable !== false)
      this.resume = (runId, tag, listener) => this.resumeRun(runId, tag, listener);
  }

  start(config: TrainConfig, tag: SweepTag, listener: TrialListener): Promise<TrialHandle> {
    if (this.options.refuses?.(tag)) return Promise.reject(new Error('no worker could start'));
    const runId = `run-${++this.next}`;
    const run: FakeRun = { runId, config, tag, done: 0, stopReasons: [], active: false };
    this.runs.set(runId, run);
    return Promise.resolve(this.drive(run, listener));
  }

  private resumeRun(runId: string, tag: SweepTag, listener: TrialListener): Promise<TrialHandle> {
    const run = this.runs.get(runId);
    if (!run || run.done === 0 || run.active)
      return Promise.reject(new Error(`run ${runId} has no checkpoint`));
    this.resumed.push({ runId, fromEpoch: run.done });
    run.tag = tag;
    return Promise.resolve(this.drive(run, listener));
  }

  async kill(): Promise<void> {
    for (const run of this.runs.values()) if (run.active) run.stopReasons.push('<killed>');
  }

  close(): Promise<void> {
    this.closed++;
    return Promise.resolve();
  }

  private drive(run: FakeRun, listener: TrialListener): TrialHandle {
    const fromEpoch = run.done;
    let stopping = false;
    run.active = true;
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    const end = () => {
      run.active = false;
      this.running--;
    };
    const tick = () => {
      if (run.stopReasons.at(-1) === '<killed>') {
        end();
        return listener({ type: 'error', message: 'the training worker was killed (SIGKILL)' });
      }
      if (stopping) {
        end();
        return listener({ type: 'stopped', epoch: run.done });
      }
      const epoch = run.done + 1;
      if (this.options.dies?.(run.tag, epoch)) {
        end();
        return listener({ type: 'error', message: 'the training worker was killed (SIGKILL)' });
      }
      run.done = epoch;
      const score = (this.options.score ?? defaultScore)(run.config, epoch);
      listener({ type: 'epoch', epoch, valAccuracy: score, seconds: 0.01 });
      if (epoch >= run.config.epochs) {
        end();
        return listener({ type: 'finished', epochs: epoch });
      }
      setTimeout(tick, this.options.epochMs ?? 2);
    };
    setTimeout(tick, this.options.epochMs ?? 2);
    return {
      runId: run.runId,
      fromEpoch,
      stop: (reason) => {
        stopping = true;
        run.stopReasons.push(reason);
      },
    };
  }
}
