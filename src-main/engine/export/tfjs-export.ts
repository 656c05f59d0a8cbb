import * as tf from '@tensorflow/tfjs';
import { strToU8, zipSync } from 'fflate';
import { modelArtifacts, serialise, weightBytes } from '../checkpoints';

/**
 * A TensorFlow.js LayersModel as `tf.loadLayersModel` reads it: model.json and weights.bin. Like
 * tfjs' own `save()`, the optimizer (its training config and Adam's moments) only when asked.
 */

export const TFJS_MODEL_FILE = 'model.json';
export const TFJS_WEIGHTS_FILE = 'weights.bin';

export async function tfjsFiles(
  model: tf.LayersModel,
  withOptimizer: boolean,
): Promise<Record<string, Uint8Array>> {
  const artifacts = withOptimizer ? await serialise(model) : await modelArtifacts(model);
  const modelJson = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: 'MNIST Studio',
    modelTopology: artifacts.modelTopology,
    ...(withOptimizer ? { trainingConfig: artifacts.trainingConfig } : {}),
    weightsManifest: [{ paths: [TFJS_WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
  };
  return {
    [TFJS_MODEL_FILE]: strToU8(JSON.stringify(modelJson)),
    [TFJS_WEIGHTS_FILE]: weightBytes(artifacts),
  };
}

/** The same two files in a zip, for a single download. */
export const tfjsZip = (files: Record<string, Uint8Array>): Uint8Array => zipSync(files);
