import type { io, Tensor } from '@tensorflow/tfjs-core';
import type { ModelFiles } from '$contract/messages';
import { MNIST_SIDE } from '$shared/preprocess';
import { decodeBase64 } from './base64';
import type { Filters, Inspection, Saliency } from './model-inspect';

/**
 * A checkpoint's model running in this window. Loading is asynchronous (the runtime chunk, the
 * weights); predicting is synchronous, so the Draw panel can answer inside the frame that drew.
 */
export interface LocalModel {
  readonly runId: string;
  readonly epoch: number;
  /** Backend the window runs it on: 'wasm' or 'cpu'. */
  readonly backend: string;
  /** Ten probabilities for a 28×28 image in [0, 1]. */
  predict(pixels: Float32Array): Float32Array;
  /** Every layer's activations for the image and the predicted digit (model-inspect.ts). */
  inspect(pixels: Float32Array): Inspection;
  /** Integrated gradients for `digit`, a part per next(), so the page can breathe between. */
  explain(pixels: Float32Array, digit: number): Generator<void, Saliency, void>;
  /** The first layer's filters, the first `limit` of them. */
  filters(limit: number): Filters | null;
  dispose(): void;
}

export async function loadLocalModel(files: ModelFiles): Promise<LocalModel> {
  const [{ initRuntime, layers, tf }, { ModelInspector }] = await Promise.all([
    import('./tf-runtime'),
    import('./model-inspect'),
  ]);
  const backend = await initRuntime();
  const weights = decodeBase64(files.weights);
  const model = await layers.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: files.topology as io.ModelArtifacts['modelTopology'],
      weightSpecs: files.weightSpecs,
      weightData: weights.buffer as ArrayBuffer,
    }),
  );
  // Built on first use: a window that only predicts never pays for it.
  let inspector: InstanceType<typeof ModelInspector> | null = null;
  const inside = () => (inspector ??= new ModelInspector(model));
  return {
    runId: files.runId,
    epoch: files.epoch,
    backend,
    predict(pixels) {
      return tf.tidy(() => {
        const x = tf.tensor4d(pixels, [1, MNIST_SIDE, MNIST_SIDE, 1]);
        return (model.predict(x) as Tensor).dataSync() as Float32Array;
      });
    },
    inspect(pixels) {
      return inside().inspect(pixels, null);
    },
    explain(pixels, digit) {
      return inside().saliencyInParts(pixels, digit);
    },
    filters(limit) {
      return inside().filters(limit);
    },
    dispose() {
      model.dispose();
    },
  };
}
