import { EventSchema } from '../contract/messages';
import { connectToHost } from './port';
import { WorkerService } from './service';

/** Entry of the engine worker process (Electron utility process, or a Node fork). */
const port = connectToHost();
const service = new WorkerService((event) => {
  // Outgoing events are checked too: a bug here should fail loudly in tests, not confuse the UI.
  port.post(EventSchema.parse(event));
});

// Commands run one at a time in arrival order, so two `train`s cannot both pass the idle check.
// `train` returns once the run has started, and `stop` skips the queue: it must never wait
// behind a long evaluation.
let queue: Promise<void> = Promise.resolve();
port.onMessage((message) => {
  if ((message as { type?: unknown } | null)?.type === 'stop') {
    void service.handle(message);
    return;
  }
  queue = queue.then(() => service.handle(message));
});

// An unexpected exception leaves the engine in an unknown state: say why on stderr (the host
// puts the last line into its error event) and exit, so the next command gets a fresh worker.
const die = (error: unknown) => {
  process.stderr.write(
    `worker error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(70);
};
process.on('uncaughtException', die);
process.on('unhandledRejection', die);
