import { describe, expect, it } from 'vitest';
import {
  BackendUnavailableError,
  explainFailure,
  selectBackend,
  type BackendLoader,
} from '../../src-main/engine/backend';
import { describeBackendBadge } from '../../src-main/contract/backend-labels';
import type { GpuAdapter } from '../../src-main/contract/messages';
import { describeAdapterInfo } from '../../src-main/engine/webgpu';

const notInstalled = () =>
  Object.assign(new Error("Cannot find package '@tensorflow/tfjs-node'"), {
    code: 'ERR_MODULE_NOT_FOUND',
  });

const noWebGpu = () => new Error('no WebGPU adapter: no Vulkan, Metal or D3D12 driver found');

const swiftShader: GpuAdapter = {
  vendor: 'google',
  architecture: 'swiftshader',
  description: 'SwiftShader driver 5.0.0',
  software: true,
};
const hardware: GpuAdapter = {
  vendor: 'nvidia',
  architecture: 'ampere',
  description: 'NVIDIA GeForce RTX 3060',
  software: false,
};

/** Loaders that fail as told; webgpu (unless failing) finds `adapter` and, like the real one,
 * refuses a software adapter when asked by 'auto'. */
function fakeLoaders(
  failing: Record<string, Error>,
  activated: string[],
  adapter: GpuAdapter = swiftShader,
): BackendLoader[] {
  return (['tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const).map((name) => ({
    name,
    label: name,
    activate: async (auto: boolean) => {
      if (failing[name]) throw failing[name];
      if (name !== 'webgpu') return void activated.push(name);
      if (auto && adapter.software) throw new Error('only a software adapter');
      activated.push(name);
      return adapter;
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
    expect(info.unavailable.map((u) => [u.name, u.code])).toEqual([
      ['tensorflow-gpu', 'not-installed'],
      ['tensorflow', 'not-installed'],
      ['webgpu', 'failed'],
    ]);
    expect(info.reason).toContain('@tensorflow/tfjs-node is not installed');
    expect(info.reason).toContain('WebGPU: only a software adapter');
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
          webgpu: noWebGpu(),
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
          webgpu: noWebGpu(),
          wasm: new Error('no WebAssembly'),
        },
        [],
      ),
    );
    expect(info.name).toBe('cpu');
    expect(info.reason).toContain('WASM: no WebAssembly');
  });

  it('picks a hardware WebGPU adapter after native TensorFlow, and names it', async () => {
    const activated: string[] = [];
    const info = await selectBackend(
      'auto',
      fakeLoaders(
        { 'tensorflow-gpu': notInstalled(), tensorflow: notInstalled() },
        activated,
        hardware,
      ),
    );
    expect(activated).toEqual(['webgpu']);
    expect(info.name).toBe('webgpu');
    expect(info.adapter).toEqual(hardware);
    expect(describeBackendBadge(info).text).toBe(
      'WebGPU on nvidia ampere (NVIDIA GeForce RTX 3060) — native TensorFlow not installed',
    );
  });

  it('uses a software WebGPU adapter only when chosen by name', async () => {
    const activated: string[] = [];
    const info = await selectBackend('webgpu', fakeLoaders({}, activated));
    expect(activated).toEqual(['webgpu']);
    expect(info).toEqual({
      name: 'webgpu',
      reason: 'chosen by the user',
      unavailable: [],
      adapter: swiftShader,
    });
    expect(describeBackendBadge(info).text).toBe(
      'WebGPU on google swiftshader (SwiftShader driver 5.0.0, software) — chosen by you',
    );
  });

  it('tells software adapters from hardware ones by name or by the fallback flag', () => {
    const software = (info: Parameters<typeof describeAdapterInfo>[0], fallback = false) =>
      describeAdapterInfo(info, fallback).software;
    expect(software({ vendor: 'google', architecture: 'swiftshader', description: '' })).toBe(true);
    expect(software({ vendor: 'mesa', device: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toBe(true);
    expect(software({ vendor: 'mesa', description: 'lavapipe' })).toBe(true);
    expect(software({ vendor: 'microsoft', description: 'Microsoft Basic Render Driver' })).toBe(
      true,
    );
    expect(
      software({ vendor: 'intel', description: 'Intel(R) UHD', isFallbackAdapter: true }),
    ).toBe(true);
    expect(software({ vendor: 'intel', description: 'Intel(R) UHD' }, true)).toBe(true);
    expect(software({ vendor: 'nvidia', architecture: 'ampere', description: 'RTX 3060' })).toBe(
      false,
    );
    expect(software({ vendor: 'apple', architecture: 'metal-3', description: 'Apple M1' })).toBe(
      false,
    );
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
    expect(
      explainFailure('webgpu', Object.assign(new Error("Cannot find package 'webgpu'"), {})),
    ).toBe('webgpu (or @tensorflow/tfjs-backend-webgpu) is not installed');
  });

  it('on this machine, picks the best backend that really loads', async () => {
    const info = await selectBackend('auto');
    // tfjs-node cannot be installed here (its install downloads libtensorflow); where it can, it
    // wins. This machine's only WebGPU adapter is SwiftShader (or none), which auto never picks.
    expect(['tensorflow-gpu', 'tensorflow', 'wasm']).toContain(info.name);
    if (info.name === 'wasm') {
      expect(info.unavailable.map((u) => u.name)).toEqual([
        'tensorflow-gpu',
        'tensorflow',
        'webgpu',
      ]);
      expect(info.unavailable[2]!.error).toMatch(/software adapter|no WebGPU adapter/);
    }
  });
});
