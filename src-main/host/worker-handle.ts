/**
 * What the host needs from a worker process, whatever started it: Node's child_process.fork
 * (CLI, serve, tests) or Electron's utilityProcess.fork (the desktop app).
 */
export interface WorkerExit {
  code: number | null;
  signal: string | null;
  /** A sentence for the user: "killed by SIGKILL", "exited with code 70: worker error: …". */
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

export function describeExit(
  code: number | null,
  signal: string | null,
  stderrTail: string,
): string {
  const base = signal ? `killed by ${signal}` : `exited with code ${code}`;
  const lastLine = stderrTail.trim().split('\n').filter(Boolean).pop();
  return lastLine ? `${base}: ${lastLine.slice(0, 300)}` : base;
}
