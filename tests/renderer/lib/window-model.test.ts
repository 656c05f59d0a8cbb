import { describe, expect, it, vi } from 'vitest';
import type { ModelFiles } from '$contract/messages';
import type { LocalModel } from '../../../src-renderer/src/lib/local-model';
import { WindowModel } from '../../../src-renderer/src/lib/window-model.svelte';
import { fakeApi } from '../fixtures';

/** A loader whose loads finish when the test says, so the order of answers can be chosen. */
function controlledLoader() {
  const pending: { files: ModelFiles; finish: () => void; fail: (e: Error) => void }[] = [];
  const disposed: string[] = [];
  const load = (files: ModelFiles) =>
    new Promise<LocalModel>((resolve, reject) => {
      const model: LocalModel = {
        runId: files.runId,
        epoch: files.epoch,
        backend: 'cpu',
        predict: () => new Float32Array(10),
        inspect: () => ({ activations: [], digit: 0, saliency: null }),
        filters: () => null,
        explain: () => {
          throw new Error('not in this test');
        },
        dispose: () => disposed.push(`${files.runId}@${files.epoch}`),
      };
      pending.push({ files, finish: () => resolve(model), fail: reject });
    });
  return { load, pending, disposed };
}

function setup() {
  const fake = fakeApi((request) =>
    request.type === 'modelFiles' ? { runId: request.runId, epoch: request.epoch } : null,
  );
  const loader = controlledLoader();
  return { fake, loader, model: new WindowModel(fake.api, loader.load) };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('WindowModel', () => {
  it('loads a checkpoint once, however often it is asked for', async () => {
    const { fake, loader, model } = setup();
    void model.use('a', 1);
    void model.use('a', 1);
    await settle();
    expect(fake.requests).toHaveLength(1);
    expect(model.state).toBe('loading');
    loader.pending[0]!.finish();
    await settle();
    expect(model.state).toBe('ready');
    expect(model.holds('a', 1)).toBe(true);
    await model.use('a', 1);
    expect(fake.requests).toHaveLength(1);
  });

  it('drops a load overtaken by another checkpoint, and one no longer wanted', async () => {
    const { loader, model } = setup();
    void model.use('a', 1);
    await settle();
    loader.pending[0]!.finish();
    await settle();
    void model.use('b', 2);
    await settle();
    // Back to the model already loaded before b arrives: b is disposed, a stays.
    await model.use('a', 1);
    loader.pending[1]!.finish();
    await settle();
    expect(model.holds('a', 1)).toBe(true);
    expect(model.state).toBe('ready');
    expect(loader.disposed).toEqual(['b@2']);
  });

  it('falls back to the engine when loading fails, and release disposes', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { loader, model } = setup();
    void model.use('a', 1);
    await settle();
    loader.pending[0]!.fail(new Error('no wasm'));
    await settle();
    expect(model.state).toBe('failed');
    expect(model.model).toBeNull();
    expect(warn).toHaveBeenCalledOnce();
    warn.mockRestore();

    void model.use('a', 2);
    await settle();
    loader.pending[1]!.finish();
    await settle();
    model.release();
    expect(loader.disposed).toEqual(['a@2']);
    expect(model.state).toBe('none');
  });
});
