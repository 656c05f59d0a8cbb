import { parentPort } from 'node:worker_threads';

// A gradient thread that throws an uncaught error on its second request: registered before the
// real thread's listener, so that request never gets an answer.
let requests = 0;
parentPort?.on('message', () => {
  if (++requests === 2) throw new Error('boom on purpose');
});
await import('../../../src-main/engine/parallel/gradient-thread');
