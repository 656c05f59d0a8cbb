import { workerData } from 'node:worker_threads';
import type { GradientThreadInit } from '../../../src-main/engine/parallel/protocol';

// A gradient thread that fails to start, saying which tuning it was given: what the leader's
// kernels were registered with must reach the thread's own registration.
const { tuning } = workerData as GradientThreadInit;
throw new Error(`tuning ${JSON.stringify(tuning)}`);
