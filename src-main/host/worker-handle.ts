/**
 * What the host needs from a worker process, whatever started it: Node's child_process.fork
 * (CLI, serve, tests) or Electron's utilityProcess.fork (the desktop app).
 */
export interface WorkerExit {
  code: number | null;
  signal: string | null;
  /** Follows "the training worker": "was killed (SIGKILL)", "exited with code 70: worker error: …". */
  reason: string;
}

export interface WorkerHandle {
  readonly pid: number | undefined;
  post(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  onExit(listener: (exit: WorkerExit) => void): void;
  kill(): void;
}

export type SpawnWorker = () => WorkerHandle;

/** The worker's own diagnostics start with this word ("worker error: …", "worker stopping: …"). */
const OWN_LINE = /^worker\b/;

/**
 * Lines that explain nothing: tfjs' cpu backend greets Node users with a box of '=' around
 * "Hi, looks like you are running TensorFlow.js in Node.js…", a stack trace ends in frames, and
 * Dawn's Vulkan loader complains about XDG_RUNTIME_DIR.
 * Either one as the last line turned a crash into "was killed (SIGKILL): ====".
 */
const NOISE = [
  /^[\s=*#~_-]*$/,
  /^Hi, looks like you are running TensorFlow\.js in Node\.js/,
  /^\s+at\s/,
  /^\s*\.\.\. \d+ more lines? matching/,
  // The Vulkan loader's surface code, on every start where webgpu probes for an adapter without
  // a desktop session (SwiftShader in CI, a server over SSH): it says nothing about a crash.
  /^error: XDG_RUNTIME_DIR is invalid or not set in the environment\.?$/,
  // Dawn's and the Vulkan loader's reports of adapters they passed over while probing (a driver
  // too old for Dawn, an ICD file missing), each followed by " - While initializing adapter …"
  // and a native frame: the probe's outcome reaches the user through the backend line instead.
  /^Warning: /,
  /^ - While /,
];

export function describeExit(
  code: number | null,
  signal: string | null,
  stderrTail: string,
): string {
  const base = signal ? `was killed (${signal})` : `exited with code ${code}`;
  const line = meaningfulLine(stderrTail);
  return line ? `${base}: ${line.slice(0, 300)}` : base;
}

/** The worker's last own line, else the last line that says something. */
function meaningfulLine(stderrTail: string): string | undefined {
  // The tail is cut at a byte count, so its first line may be a fragment: never pick it alone.
  const lines = stderrTail.split(/\r?\n/).map((l) => l.trimEnd());
  const complete = stderrTail.length >= STDERR_TAIL_CHARS ? lines.slice(1) : lines;
  const own = complete.filter((l) => OWN_LINE.test(l)).pop();
  if (own) return own;
  return complete.filter((l) => !NOISE.some((n) => n.test(l))).pop();
}

/** How much of the worker's stderr a handle keeps for describeExit. */
export const STDERR_TAIL_CHARS = 4000;

/** Appends a chunk to the kept tail of stderr. */
export const appendTail = (tail: string, chunk: Buffer | string): string =>
  (tail + chunk.toString()).slice(-STDERR_TAIL_CHARS);
