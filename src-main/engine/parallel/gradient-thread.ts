import * as tf from '@tensorflow/tfjs';
import { parentPort, workerData } from 'node:worker_threads';
import { defaultLoaders, selectBackend } from '../backend';
import { evaluateSet } from '../evaluate';
import {
  batchViews,
  layout,
  type EvaluateRequest,
  type FromFollower,
  type GradientThreadInit,
  type StepRequest,
  type ToFollower,
  type UpdateRequest,
} from './protocol';
import { reduceAndUpdate } from './shard-update';
import { peekFloat32, shareGradients, tensorFromShared } from './share';

/**
 * Entry of a gradient thread (a data-parallel follower): its own TensorFlow.js with the leader's
 * backend (wasm + our kernels), and a replica of the leader's model built from its topology.
 * For every request it loads the leader's weights if they changed, computes the gradients of
 * its share of the batch into shared memory and answers with the loss and accuracy counts. It
 * keeps no state that matters between steps: its BatchNorm moving statistics drift unused (the
 * leader's are the ones that get saved, and the ones it is sent to validate with), and it has no
 * optimizer.
 */

const port = parentPort;
if (port === null) throw new Error('gradient-thread must run as a worker thread');
const init = workerData as GradientThreadInit;
const { sizes, offsets, total } = layout(init.weightShapes);
const weights = new Float32Array(init.weights, 0, total);
const grads = new Float32Array(init.grads, 0, total);
const allGrads = init.allGrads.map((b) => new Float32Array(b, 0, total));
const m = new Float32Array(init.moments, 0, total);
const v = new Float32Array(init.moments, total * 4, total);
let batch: { xs: Float32Array; ys: Int32Array } | null = null;

const post = (message: FromFollower) => port.postMessage(message);
const describe = (error: unknown) =>
  error instanceof Error ? (error.stack ?? error.message) : String(error);
const slot = (view: Float32Array, i: number) => view.subarray(offsets[i], offsets[i]! + sizes[i]!);

interface Replica {
  model: tf.LayersModel;
  variables: tf.Variable[];
}

async function setup(): Promise<Replica> {
  await selectBackend(init.backend, defaultLoaders(init.tuning));
  const model = await tf.models.modelFromJSON({
    modelTopology: init.topology as tf.io.ModelJSON['modelTopology'],
  });
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const shapes = variables.map((v) => v.shape.join('×')).join(', ');
  const expected = init.weightShapes.map((s) => s.join('×')).join(', ');
  if (shapes !== expected) {
    throw new Error(
      `the model replica's weights [${shapes}] differ from the leader's [${expected}]`,
    );
  }
  return { model, variables };
}

function step({ model, variables }: Replica, request: StepRequest): void {
  const started = performance.now();
  if (request.batch) {
    const { buffer, capacity } = request.batch;
    batch = batchViews(buffer, capacity, request.rows * request.cols);
  }
  if (batch === null) throw new Error('step request before any batch buffer');
  if (request.weightsChanged) {
    tf.tidy(() =>
      variables.forEach((v, i) => v.assign(tensorFromShared(slot(weights, i), v.shape))),
    );
  }
  const share = shareGradients(
    model,
    variables,
    batch.xs,
    batch.ys,
    request,
    request.divisor,
    init.labelSmoothing,
  );
  let lossSum: number;
  let correct: number;
  try {
    share.grads.forEach((g, i) => g !== null && slot(grads, i).set(peekFloat32(g)));
    lossSum = share.loss.dataSync()[0]! * request.divisor;
    correct = share.correct.dataSync()[0]!;
  } finally {
    tf.dispose([
      ...share.grads.filter((g): g is tf.Tensor => g !== null),
      share.loss,
      share.correct,
    ]);
  }
  post({
    type: 'result',
    id: request.id,
    hasGrad: share.grads.map((g) => g !== null),
    lossSum,
    correct,
    ms: performance.now() - started,
    tensors: tf.memory().numTensors,
  });
}

async function evaluate({ model, variables }: Replica, request: EvaluateRequest): Promise<void> {
  const started = performance.now();
  tf.tidy(() => {
    variables.forEach((v, i) => v.assign(tensorFromShared(slot(weights, i), v.shape)));
    const stats = model.nonTrainableWeights;
    if (stats.length !== request.nonTrainable.length) {
      throw new Error(
        `the replica has ${stats.length} non-trainable weights, the leader sent ${request.nonTrainable.length}`,
      );
    }
    stats.forEach((w, i) => w.write(tf.tensor(request.nonTrainable[i]!, w.read().shape)));
  });
  // The weights just loaded are the shared ones: the next step need not load them again, and
  // loading them then does no harm either (the leader decides by its own version count).
  const { n } = request.share;
  const px = request.rows * request.cols;
  const views = batchViews(request.share.buffer, n, px);
  const metrics = await evaluateSet(model, {
    images: views.xs,
    labels: Uint8Array.from(views.ys),
    count: n,
    rows: request.rows,
    cols: request.cols,
  });
  post({
    type: 'evaluated',
    id: request.id,
    lossSum: n > 0 ? metrics.loss * n : 0,
    confusion: metrics.confusion,
    ms: performance.now() - started,
  });
}

function update(request: UpdateRequest): void {
  const started = performance.now();
  reduceAndUpdate(
    allGrads.slice(0, request.contributors),
    weights,
    m,
    v,
    request.ranges,
    request.adam,
  );
  post({ type: 'updated', id: request.id, ms: performance.now() - started });
}

const ready = setup();
ready.then(
  () => post({ type: 'ready' }),
  (error: unknown) => post({ type: 'error', id: null, message: describe(error) }),
);

port.on('message', (request: ToFollower) => {
  ready
    .then((replica) =>
      request.type === 'step'
        ? step(replica, request)
        : request.type === 'evaluate'
          ? evaluate(replica, request)
          : update(request),
    )
    .catch((error: unknown) => post({ type: 'error', id: request.id, message: describe(error) }));
});
