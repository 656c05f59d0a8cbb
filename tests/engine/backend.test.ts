import { describe, expect, it } from 'vitest';
import {
  BackendUnavailableError,
  explainFailure,
  selectBackend,
  type BackendLoader,
} from '../../src-main/engine/backend';
import { describeBackendBadge } from '../../src-main/contract/backend-labels';

const notInstalled = () =>
  Object.assign(new Error("Cannot find package '@tensorflow/tfjs-node'"), {
    code: 'ERR_MODULE_NOT_FOUND',
  });

function fakeLoaders(failing: Record<string, Error>, activated: string[]): BackendLoader[] {
  return (['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const).map((name) => ({
    name,
    label: name,
    activate: async () => {
      if (failing[name]) throw failing[name];
      activated.push(name);
    },
  }));
}

describe('selectBackend', () => {
  it('falls back native GPU → native CPU → WASM and says why', async () => {
    const activated: string[] = [];
    const info = await selectBackend(
      'auto',
      fakeLoaders({ 'tensorflow-gpu': notInstalled(), tensorflow: notInstalled() }, activated),
    );
    expect(info.name).toBe('wasm');
    expect(activated).toEqual(['wasm']);
    expect(info.unavailable.map((u) => u.name)).toEqual(['tensorflow-gpu', 'tensorflow']);
    expect(info.reason).toContain('@tensorflow/tfjs-node is not installed');
    expect(describeBackendBadge(info).text).toBe('WASM — native TensorFlow not installed');
  });

  it('prefers the GPU when it loads', async () => {
    const info = await selectBackend('auto', fakeLoaders({}, []));
    expect(info).toEqual({
      name: 'tensorflow-gpu',
      reason: 'fastest backend available',
      unavailable: [],
    });
  });

  it('reports a native library that installs but fails to load', async () => {
    const info = await selectBackend(
      'auto',
      fakeLoaders(
        {
          'tensorflow-gpu': new Error('libcudart.so.11.0: cannot open shared object file\nstack'),
          tensorflow: new Error('libtensorflow.so.2: cannot open'),
        },
        [],
      ),
    );
    expect(info.name).toBe('wasm');
    expect(info.unavailable[0]!.error).toBe('libcudart.so.11.0: cannot open shared object file');
    expect(describeBackendBadge(info).text).toBe('WASM — native TensorFlow failed to load');
  });

  it('ends on pure JS when nothing else loads', async () => {
    const info = await selectBackend(
      'auto',
      fakeLoaders(
        {
          'tensorflow-gpu': notInstalled(),
          tensorflow: notInstalled(),
          wasm: new Error('no WebAssembly'),
        },
        [],
      ),
    );
    expect(info.name).toBe('cpu');
    expect(info.reason).toContain('WASM: no WebAssembly');
  });

  it('honours an explicit choice, and refuses one that cannot load instead of silently switching', async () => {
    const activated: string[] = [];
    expect((await selectBackend('cpu', fakeLoaders({}, activated))).reason).toBe(
      'chosen by the user',
    );
    expect(activated).toEqual(['cpu']);
    await expect(
      selectBackend('tensorflow', fakeLoaders({ tensorflow: notInstalled() }, [])),
    ).rejects.toThrow(
      new BackendUnavailableError(
        "backend 'tensorflow' is not available: @tensorflow/tfjs-node is not installed",
      ),
    );
  });

  it('explains a missing optional package in one line', () => {
    expect(explainFailure('tensorflow-gpu', notInstalled())).toBe(
      '@tensorflow/tfjs-node-gpu is not installed',
    );
  });

  it('on this machine, picks the best backend that really loads', async () => {
    const info = await selectBackend('auto');
    // tfjs-node cannot be installed here (its install downloads libtensorflow); where it can, it wins.
    expect(['tensorflow-gpu', 'tensorflow', 'wasm']).toContain(info.name);
    if (info.name === 'wasm')
      expect(info.unavailable.map((u) => u.name)).toEqual(['tensorflow-gpu', 'tensorflow']);
  });
});
