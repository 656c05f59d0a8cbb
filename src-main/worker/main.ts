import { EventSchema } from '../contract/messages';
import { GracefulExit } from './graceful-exit';
import { connectToHost } from './port';
import { WorkerService } from './service';

/** Entry of the engine worker process (Electron utility process, or a Node fork). */
const port = connectToHost();
// Commands run one at a time in arrival order, so two `train`s cannot both pass the idle check.
// `train` returns once the run has started, and `stop` skips the queue: it must never wait
// behind a long evaluation.
let queue: Promise<void> = Promise.resolve();
/** The type of the queued command being handled now, if any. */
let handling: unknown;
const service = new WorkerService((event) => {
  // Outgoing events are checked too: a bug here should fail loudly in tests, not confuse the UI.
  const checked = EventSchema.parse(event);
  if (leaving.observe(checked)) port.post(checked);
});

const leaving = new GracefulExit({
  handle: (command) => service.handle(command),
  runStarted: () => (handling === 'train' || handling === 'resume' ? queue : Promise.resolve()),
  exit: (code) => process.exit(code),
  log: (line) => process.stderr.write(`${line}\n`),
});
port.onMessage((message) => {
  if ((message as { type?: unknown } | null)?.type === 'stop') {
    void service.handle(message);
    return;
  }
  queue = queue.then(async () => {
    if (leaving.leaving) return;
    handling = (message as { type?: unknown } | null)?.type;
    await service.handle(message);
    handling = undefined;
  });
});

port.onDisconnect(() => void leaving.leave('the host is gone'));
process.on('SIGTERM', () => void leaving.leave('received SIGTERM'));
process.on('SIGHUP', () => void leaving.leave('received SIGHUP'));
// Ctrl-C in a terminal signals the whole process group, this worker included: the host decides
// what an interrupt means (stop after the batch, or kill on the second), so it is ignored here.
process.on('SIGINT', () => {});

// With its host gone, the pipes to it are closed too: a write then fails with EPIPE, which must
// not end the clean stop above as an uncaught error.
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});

// An unexpected exception leaves the engine in an unknown state: say why on stderr (the host
// puts the worker's own line into its error event) and exit, so the next command gets a fresh
// worker.
const die = (error: unknown) => {
  process.stderr.write(
    `worker error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(70);
};
process.on('uncaughtException', die);
process.on('unhandledRejection', die);
