/**
 * How well photos of paper are read: MNIST test digits made into photos (dark ink on off-white
 * paper, light falling off across the sheet, sensor noise, specks in the margin; see
 * tests/fixtures/paper-photos.ts), saved as JPEG, decoded and read as `predict` and the Draw
 * panel read them, then classified by a checkpoint. Compared side by side with the same digits
 * straight from MNIST and with the plain reading (no evening out of the light, no despeckling).
 *
 *   npx tsx bench/photo-reading.ts --run ID [--epoch N] [--checkpoints DIR] [--count 500]
 *       [--falloff 0.45] [--quality 85]
 */
import * as tf from '@tensorflow/tfjs';
import jpeg from 'jpeg-js';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { selectBackend } from '../src-main/engine/backend';
import { loadCheckpoint } from '../src-main/engine/checkpoints';
import { decodeImageBytes } from '../src-main/engine/image';
import { readDigitPhoto } from '../src-main/shared/digit-photo';
import { preprocess, toGrayscaleInk } from '../src-main/shared/preprocess';
import { mnistTestDigit, paperPhoto } from '../tests/fixtures/paper-photos';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      run: { type: 'string' },
      epoch: { type: 'string' },
      checkpoints: { type: 'string' },
      count: { type: 'string', default: '500' },
      falloff: { type: 'string', default: '0.45' },
      quality: { type: 'string', default: '85' },
    },
  });
  if (!values.run) throw new Error('needs --run ID');
  tf.enableProdMode();
  await selectBackend('wasm');
  const { model, epoch } = await loadCheckpoint(
    path.resolve(values.checkpoints ?? 'checkpoints'),
    values.run,
    values.epoch ? Number(values.epoch) : null,
  );
  const count = Number(values.count);
  const falloff = Number(values.falloff);
  const quality = Number(values.quality);
  // Each photo scenario is read two ways: as `predict` reads files, and plainly.
  const scenarios = [
    ['shaded', { falloff, specks: 6 }],
    ['evenLight', { falloff: 1, specks: 6 }],
    ['clean', { falloff: 1, specks: 0 }],
  ] as const;
  const ways = [
    'mnist',
    ...scenarios.flatMap(([name]) => [name, `${name}Plain`] as const),
  ] as const;
  const inputs = Object.fromEntries(ways.map((w) => [w, new Float32Array(count * 784)])) as Record<
    (typeof ways)[number],
    Float32Array
  >;
  const labels: number[] = [];
  let readMs = 0;
  for (let k = 0; k < count; k++) {
    const digit = mnistTestDigit(k);
    labels.push(digit.label);
    inputs.mnist.set(digit.pixels, k * 784);
    for (const [photoWay, options] of scenarios) {
      const plainWay = `${photoWay}Plain` as const;
      const photo = paperPhoto(digit.pixels, { ...options, seed: k + 1 });
      const file = jpeg.encode({ ...photo, data: Buffer.from(photo.rgba) }, quality).data;
      const decoded = decodeImageBytes(`digit-${k}.jpg`, file);
      const t0 = performance.now();
      inputs[photoWay].set(
        readDigitPhoto(decoded.rgba, decoded.width, decoded.height).pixels,
        k * 784,
      );
      readMs += performance.now() - t0;
      const plain = preprocess(toGrayscaleInk(decoded.rgba, decoded.width, decoded.height));
      inputs[plainWay].set(plain.pixels, k * 784);
    }
  }
  const accuracy: Record<string, number> = {};
  for (const way of ways) {
    const predicted = tf.tidy(() =>
      (model.predict(tf.tensor4d(inputs[way], [count, 28, 28, 1])) as tf.Tensor).argMax(-1),
    );
    const digits = await predicted.data();
    predicted.dispose();
    accuracy[way] = labels.filter((l, i) => digits[i] === l).length / count;
  }
  process.stdout.write(
    JSON.stringify({
      type: 'photoReading',
      run: values.run,
      epoch,
      count,
      falloff,
      quality,
      accuracy,
      readMsPerPhoto: Math.round((readMs / (scenarios.length * count)) * 10) / 10,
    }) + '\n',
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`error: ${(error as Error).message}\n`);
  process.exit(1);
});
