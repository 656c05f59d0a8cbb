import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { BACKEND_CHOICES } from '../contract/config';
import type { ClientEvent } from '../contract/api';
import { forkWorker } from '../host/fork-worker';
import { exitOnStopSignals } from '../host/shutdown';
import { SweepHost } from '../host/sweep-host';
import { WorkerHost } from '../host/worker-host';
import { startServer } from './server';

/**
 * `npm run serve -- [--port N] [--checkpoints DIR] [--data DIR] [--backend NAME] [--token T]`:
 * the app in a browser, for headless and remote machines (reach it through an SSH tunnel) and for
 * the e2e tests. Prints one line, the URL with its token. `--token` (or MNIST_STUDIO_TOKEN) keeps
 * the token of an earlier start, so open tabs reconnect after a restart on the same port.
 */
const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    checkpoints: { type: 'string' },
    data: { type: 'string' },
    backend: { type: 'string' },
    static: { type: 'string' },
    token: { type: 'string' },
  },
  strict: true,
});

const fail = (message: string): never => {
  process.stderr.write(`error: ${message}\n`);
  process.exit(2);
};

const port = values.port === undefined ? 0 : Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535)
  fail('--port must be a whole number from 0 to 65535');
const backend = z.enum(BACKEND_CHOICES).safeParse(values.backend ?? 'auto');
if (!backend.success) fail(`backend must be one of ${BACKEND_CHOICES.join(', ')}`);
const checkpointsDir = path.resolve(values.checkpoints ?? 'checkpoints');
// It travels in URLs and a cookie, and guards the user's files: URL-safe and hard to guess.
const token = z
  .string()
  .regex(/^[\w-]{32,}$/)
  .optional()
  .safeParse(values.token ?? process.env.MNIST_STUDIO_TOKEN);
if (!token.success) fail('--token must be at least 32 letters, digits, "-" or "_"');

let broadcast: (event: ClientEvent) => void = () => {};
let listeningPort: number | null = null;
const engine = {
  spawn: forkWorker(),
  checkpointsDir,
  dataDir: values.data ? path.resolve(values.data) : null,
  backend: backend.data!,
  // No token here: lock files are readable by anyone who can read the runs.
  owner: () => `serve mode at http://127.0.0.1:${listeningPort ?? port}`,
  onEvent: (event: ClientEvent) => broadcast(event),
};
const host = new WorkerHost(engine);
const sweeps = new SweepHost({ ...engine, trainingNow: () => host.busyWith });

try {
  const server = await startServer({
    host,
    sweeps,
    staticDir: path.resolve(values.static ?? 'out/renderer'),
    checkpointsDir,
    port,
    token: token.data,
  });
  broadcast = server.broadcast;
  listeningPort = server.port;
  process.stdout.write(`${server.url}\n`);
  exitOnStopSignals({ host, sweeps, name: 'serve mode', close: () => server.close() });
} catch (error) {
  host.dispose();
  fail(error instanceof Error ? error.message : String(error));
}
