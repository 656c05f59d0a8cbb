import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type {
  EvaluateRequest,
  FromFollower,
  GradientThreadInit,
  StepRequest,
  ToFollower,
  UpdateRequest,
} from './protocol';

/**
 * The gradient threads of one training run: started together, each answering one request at a
 * time, all terminated by `close()`. A thread that throws, exits or fails to start turns every
 * pending and later request into a GradientThreadError that says which thread and why.
 */

export class GradientThreadError extends Error {
  override name = 'GradientThreadError';
}

export type StepResult = Extract<FromFollower, { type: 'result' }>;
export type UpdateResult = Extract<FromFollower, { type: 'updated' }>;
export type EvaluateResult = Extract<FromFollower, { type: 'evaluated' }>;
type Answer = StepResult | UpdateResult | EvaluateResult;

export interface GradientPoolOptions {
  /** Number of gradient threads (followers), not counting the leader. */
  count: number;
  /** workerData of thread `index` (1-based). */
  init: (index: number) => GradientThreadInit;
  /**
   * The thread's entry module. A .ts entry (from sources) is started through tsx; a bundled
   * build passes its compiled .js entry.
   */
  threadEntry?: string | URL;
}

export const defaultThreadEntry = (): URL => new URL('./gradient-thread.ts', import.meta.url);

interface Pending {
  id: number;
  resolve: (result: Answer) => void;
  reject: (error: Error) => void;
}

class Follower {
  pending: Pending | null = null;
  failure: GradientThreadError | null = null;
  closing = false;
  private started = false;
  /** Settles when the thread has its backend and replica, or fails to get them. */
  readonly ready: Promise<void>;
  private settleReady!: (error?: Error) => void;

  constructor(
    readonly worker: Worker,
    readonly index: number,
  ) {
    this.ready = new Promise((resolve, reject) => {
      this.settleReady = (error) => (error ? reject(error) : resolve());
    });
    this.ready.catch(() => {}); // observed through start(); never an unhandled rejection
    worker.on('message', (message: FromFollower) => this.onMessage(message));
    worker.on('error', (error: Error) =>
      this.fail(
        `gradient thread ${index} ${this.started ? 'crashed' : 'could not start'}: ${error.stack ?? error.message}`,
      ),
    );
    worker.on('exit', (code) =>
      this.fail(
        `gradient thread ${index} ${this.started ? 'exited unexpectedly' : 'exited while starting'} (exit code ${code})`,
      ),
    );
    // The thread's stdout must never reach ours (the CLI's stdout carries JSON lines only).
    worker.stdout.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  }

  request(request: ToFollower): Promise<Answer> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      if (this.pending) {
        return reject(new GradientThreadError(`gradient thread ${this.index} is busy`));
      }
      this.pending = { id: request.id, resolve, reject };
      this.worker.postMessage(request);
    });
  }

  private onMessage(message: FromFollower): void {
    if (message.type === 'ready') {
      this.started = true;
      this.settleReady();
    } else if (message.type === 'error') {
      const what = message.id === null ? 'could not start' : 'failed';
      this.fail(`gradient thread ${this.index} ${what}: ${message.message}`);
      void this.worker.terminate();
    } else {
      const pending = this.pending;
      if (pending?.id !== message.id) {
        this.fail(`gradient thread ${this.index} answered request ${message.id} out of turn`);
        return;
      }
      this.pending = null;
      pending.resolve(message);
    }
  }

  private fail(reason: string): void {
    if (this.closing || this.failure) return;
    this.failure = new GradientThreadError(reason);
    this.settleReady(this.failure);
    this.pending?.reject(this.failure);
    this.pending = null;
  }
}

export class GradientPool {
  private closed = false;

  private constructor(private readonly followers: Follower[]) {}

  static async start(options: GradientPoolOptions): Promise<GradientPool> {
    const entry = options.threadEntry ?? defaultThreadEntry();
    const followers: Follower[] = [];
    const pool = new GradientPool(followers);
    try {
      for (let i = 1; i <= options.count; i++) {
        followers.push(new Follower(spawn(entry, options.init(i)), i));
      }
      await Promise.all(followers.map((f) => f.ready));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  get size(): number {
    return this.followers.length;
  }

  /** Sends a request to follower i (0-based) and resolves with its answer. */
  request(i: number, request: StepRequest): Promise<StepResult>;
  request(i: number, request: UpdateRequest): Promise<UpdateResult>;
  request(i: number, request: EvaluateRequest): Promise<EvaluateResult>;
  request(i: number, request: ToFollower): Promise<Answer> {
    if (this.closed) {
      return Promise.reject(new GradientThreadError('the gradient threads are closed'));
    }
    return this.followers[i]!.request(request);
  }

  /** The underlying threads, for tests that need to break one. */
  get workers(): readonly Worker[] {
    return this.followers.map((f) => f.worker);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const f of this.followers) f.closing = true;
    await Promise.all(this.followers.map((f) => f.worker.terminate()));
    for (const f of this.followers) {
      f.pending?.reject(new GradientThreadError('the gradient threads were closed'));
      f.pending = null;
    }
  }
}

function spawn(entry: string | URL, init: GradientThreadInit): Worker {
  const url =
    typeof entry !== 'string'
      ? entry
      : entry.startsWith('file:')
        ? new URL(entry)
        : pathToFileURL(entry);
  const options = { workerData: init, stdout: true };
  if (!/\.[cm]?ts$/.test(url.pathname)) return new Worker(url, options);
  // With Node 20.20 and tsx 4.23, an inherited `--import tsx` does not make a worker thread able
  // to load TypeScript (its entry fails with ERR_UNKNOWN_FILE_EXTENSION), nor does importing
  // 'tsx' inside the thread; registering tsx's ESM API in the thread does. So a .ts entry gets a
  // bootstrap that does that first. execArgv stays inherited: an explicit one is validated and
  // rejects V8 flags such as --max-old-space-size; and should a Node honour the inherited
  // --import tsx in workers, registering tsx a second time works too (checked on Node 20).
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap =
    `import(${JSON.stringify(tsx)})` +
    `.then((api) => { api.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
