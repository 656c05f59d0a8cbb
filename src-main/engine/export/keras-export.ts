import { strToU8, zipSync } from 'fflate';
import h5wasm, { type File as H5File, type Group as H5Group } from 'h5wasm/node';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KERAS_VERSION, kerasConfig, kerasWeights } from './keras-config';
import type { ExportModel } from './model-layers';

/**
 * A Keras 3 `.keras` archive: metadata.json, config.json and model.weights.h5 in an uncompressed
 * zip, as keras.saving.save_model writes one. The HDF5 file is written by the HDF5 library itself
 * (h5wasm), so h5py reads it as it reads Keras's own.
 */

/** `2026-11-30@17:05:32`, saving_lib's date_saved, in local time like Python's datetime.now(). */
function dateSaved(now: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${now.getFullYear()}-${two(now.getMonth() + 1)}-${two(now.getDate())}` +
    `@${two(now.getHours())}:${two(now.getMinutes())}:${two(now.getSeconds())}`
  );
}

/** The group at a slash-separated path, made with its parents: h5wasm makes one level at a time. */
function groupAt(file: H5File, groupPath: string): H5Group {
  let group: H5Group = file;
  for (const name of groupPath.split('/')) {
    const next = group.keys().includes(name) ? group.get(name) : group.create_group(name);
    if (!(next instanceof h5wasm.Group))
      throw new Error(`HDF5: could not make group ${groupPath} in the Keras weights`);
    group = next;
  }
  return group;
}

/** model.weights.h5 as bytes. h5wasm's Node build writes real files: a private temp file it is. */
export async function kerasWeightsFile(model: ExportModel): Promise<Uint8Array> {
  await h5wasm.ready;
  const file = path.join(os.tmpdir(), `mnist-studio-export-${randomBytes(6).toString('hex')}.h5`);
  try {
    const h5 = new h5wasm.File(file, 'w');
    try {
      for (const layer of kerasWeights(model)) {
        const vars = groupAt(h5, `${layer.path}/vars`);
        vars.create_attribute('name', layer.name);
        layer.vars.forEach((weight, i) =>
          vars.create_dataset({
            name: String(i),
            data: weight.values,
            shape: weight.shape,
            dtype: '<f',
          }),
        );
      }
      // The model's own (empty) variables, which saving_lib writes at the top level.
      groupAt(h5, 'vars').create_attribute('name', model.name);
    } finally {
      h5.close();
    }
    return new Uint8Array(readFileSync(file));
  } finally {
    rmSync(file, { force: true });
  }
}

export async function kerasArchive(model: ExportModel, now = new Date()): Promise<Uint8Array> {
  const metadata = {
    keras_version: KERAS_VERSION,
    date_saved: dateSaved(now),
    exported_by: 'MNIST Studio',
  };
  const weights = await kerasWeightsFile(model);
  // Stored, not deflated, as Keras writes them: the weights barely compress.
  return zipSync(
    {
      'metadata.json': strToU8(JSON.stringify(metadata)),
      'config.json': strToU8(JSON.stringify(kerasConfig(model))),
      'model.weights.h5': weights,
    },
    { level: 0, mtime: now },
  );
}
