/**
 * The engine's own probabilities for the 10,000 MNIST test images, for bench/check-export.py to
 * compare with what Keras and onnxruntime compute from the exported files.
 *
 *   npx tsx bench/export-probabilities.ts --run ID [--epoch N] [--checkpoints DIR]
 *       [--backend auto|wasm|cpu|…] --out FILE.npy
 *
 * Writes a float32 .npy of shape [10000, 10] (NumPy's format 1.0: a header, then the values in
 * little-endian row-major order) and prints one JSON line naming the backend that computed it.
 */
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BACKEND_CHOICES, type BackendChoice } from '../src-main/contract/config';
import { selectBackend } from '../src-main/engine/backend';
import { loadCheckpoint } from '../src-main/engine/checkpoints';
import { defaultDataDir, IDX_FILES, loadImageSet } from '../src-main/engine/data';

const BATCH = 500;

function npy(values: Float32Array, shape: number[]): Uint8Array {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}), }`;
  // Magic, version 1.0, header length; the header padded with spaces to a multiple of 64 bytes.
  const unpadded = 10 + dict.length + 1;
  const header = dict + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + values.byteLength);
  out.set([0x93, ...Buffer.from('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), 10 + header.length);
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      run: { type: 'string' },
      epoch: { type: 'string' },
      checkpoints: { type: 'string' },
      backend: { type: 'string' },
      out: { type: 'string' },
    },
  });
  if (!values.run || !values.out) throw new Error('needs --run ID and --out FILE.npy');
  const choice = (values.backend ?? 'auto') as BackendChoice;
  if (!BACKEND_CHOICES.includes(choice)) throw new Error(`unknown backend ${choice}`);
  tf.enableProdMode();
  const backend = await selectBackend(choice);
  const root = path.resolve(values.checkpoints ?? 'checkpoints');
  const { model, epoch } = await loadCheckpoint(
    root,
    values.run,
    values.epoch ? Number(values.epoch) : null,
  );
  const test = loadImageSet(defaultDataDir(), IDX_FILES.testImages, IDX_FILES.testLabels);
  const probabilities = new Float32Array(test.count * 10);
  for (let start = 0; start < test.count; start += BATCH) {
    const n = Math.min(BATCH, test.count - start);
    const batch = tf.tidy(() => {
      const images = tf.tensor4d(test.images.subarray(start * 784, (start + n) * 784), [
        n,
        28,
        28,
        1,
      ]);
      return model.predict(images) as tf.Tensor;
    });
    probabilities.set(await batch.data(), start * 10);
    batch.dispose();
  }
  writeFileSync(values.out, npy(probabilities, [test.count, 10]));
  process.stdout.write(
    JSON.stringify({ type: 'probabilities', run: values.run, epoch, backend: backend.name }) + '\n',
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`error: ${(error as Error).message}\n`);
  process.exit(1);
});
