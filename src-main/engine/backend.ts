import * as tf from '@tensorflow/tfjs';
import type { BackendChoice, BackendName } from '../contract/config';
import { BACKEND_LABELS } from '../contract/backend-labels';
import type { BackendInfo, GpuAdapter } from '../contract/messages';
import { DEFAULT_TUNING, type AccelTuning } from './accel/tuning';
import { adapterLabel, importTfjsWebGpu, requestAdapter } from './webgpu';

export { BACKEND_LABELS };

/**
 * Picks the fastest TensorFlow.js backend that actually loads on this machine. The native ones
 * are optional dependencies whose install downloads libtensorflow, which often fails, and WebGPU's
 * are optional too and need a GPU driver, so every step is tried at run time and the reason each
 * better one was skipped is reported to the user.
 */

export interface BackendLoader {
  name: BackendName;
  label: string;
  /**
   * Registers the backend and makes it current; throws when it cannot run here, or when `auto`
   * and it should not be picked unasked (a software WebGPU adapter). Resolves to the adapter
   * for webgpu.
   */
  activate(auto: boolean): Promise<GpuAdapter | void>;
}

export const AUTO_ORDER: readonly BackendName[] = [
  'tensorflow-gpu',
  'tensorflow',
  'webgpu',
  'wasm',
  'cpu',
];

async function useRegistered(name: string): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') failed`);
  await tf.ready();
}

// Dynamic imports through a variable so bundlers leave the optional native packages alone.
const importOptional = (pkg: string): Promise<unknown> => import(/* @vite-ignore */ pkg);

/** The loaders of every backend; wasm registers our kernels (accel/) configured by `tuning`. */
export function defaultLoaders(tuning: AccelTuning = DEFAULT_TUNING): BackendLoader[] {
  return [
    {
      name: 'tensorflow-gpu',
      label: BACKEND_LABELS['tensorflow-gpu'],
      activate: async () => {
        await importOptional('@tensorflow/tfjs-node-gpu');
        await useRegistered('tensorflow');
      },
    },
    {
      name: 'tensorflow',
      label: BACKEND_LABELS.tensorflow,
      activate: async () => {
        await importOptional('@tensorflow/tfjs-node');
        await useRegistered('tensorflow');
      },
    },
    {
      name: 'webgpu',
      label: BACKEND_LABELS.webgpu,
      activate: async (auto) => {
        const adapter = await requestAdapter();
        if (auto && adapter.software)
          throw new Error(
            `only a software adapter, ${adapterLabel(adapter)}, which is never picked automatically (choose webgpu to train on it)`,
          );
        await importTfjsWebGpu();
        await useRegistered('webgpu');
        return adapter;
      },
    },
    {
      name: 'wasm',
      label: BACKEND_LABELS.wasm,
      activate: async () => {
        await import('@tensorflow/tfjs-backend-wasm');
        await useRegistered('wasm');
        const { registerAccelKernels } = await import('./accel/index');
        registerAccelKernels(tuning);
      },
    },
    { name: 'cpu', label: BACKEND_LABELS.cpu, activate: () => useRegistered('cpu') },
  ];
}

const OPTIONAL_PACKAGES: Partial<Record<BackendName, string>> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
  webgpu: 'webgpu (or @tensorflow/tfjs-backend-webgpu)',
};

/** 'not-installed' when a loader's package is missing (Node's own error code says so), else 'failed'. */
export function failureCode(error: unknown): 'not-installed' | 'failed' {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' ||
    code === 'MODULE_NOT_FOUND' ||
    /Cannot find (package|module)/.test(message)
    ? 'not-installed'
    : 'failed';
}

/** Turns a loader's failure into a short reason a person can act on. */
export function explainFailure(name: BackendName, error: unknown): string {
  if (failureCode(error) === 'not-installed')
    return `${OPTIONAL_PACKAGES[name] ?? `the ${name} backend's package`} is not installed`;
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.slice(0, 300);
}

const withAdapter = (adapter: GpuAdapter | void) => (adapter ? { adapter } : {});

export class BackendUnavailableError extends Error {
  override name = 'BackendUnavailableError';
}

export async function selectBackend(
  choice: BackendChoice,
  loaders: BackendLoader[] = defaultLoaders(),
): Promise<BackendInfo> {
  const byName = new Map(loaders.map((l) => [l.name, l]));
  if (choice !== 'auto') {
    const loader = byName.get(choice);
    if (!loader) throw new BackendUnavailableError(`backend '${choice}' is not known`);
    let adapter: GpuAdapter | void;
    try {
      adapter = await loader.activate(false);
    } catch (error) {
      throw new BackendUnavailableError(
        `backend '${choice}' is not available: ${explainFailure(choice, error)}`,
      );
    }
    return { name: choice, reason: 'chosen by the user', unavailable: [], ...withAdapter(adapter) };
  }
  const unavailable: BackendInfo['unavailable'] = [];
  for (const name of AUTO_ORDER) {
    const loader = byName.get(name);
    if (!loader) continue;
    let adapter: GpuAdapter | void;
    try {
      adapter = await loader.activate(true);
    } catch (error) {
      unavailable.push({ name, code: failureCode(error), error: explainFailure(name, error) });
      continue;
    }
    const reason =
      unavailable.length === 0
        ? 'fastest backend available'
        : unavailable.map((u) => `${BACKEND_LABELS[u.name]}: ${u.error}`).join('; ');
    return { name, reason, unavailable, ...withAdapter(adapter) };
  }
  throw new BackendUnavailableError(
    `no TensorFlow.js backend could start: ${unavailable.map((u) => `${u.name}: ${u.error}`).join('; ')}`,
  );
}
