import type { BackendName } from './config';
import type { BackendInfo, GpuAdapter } from './messages';

/** How backends are named to people: the badge, the backend menu, the CLI and the benchmark. */
export const BACKEND_LABELS: Record<BackendName, string> = {
  'tensorflow-gpu': 'TensorFlow GPU',
  tensorflow: 'TensorFlow CPU',
  webgpu: 'WebGPU',
  wasm: 'WASM',
  cpu: 'JavaScript CPU',
};

/** "google swiftshader (SwiftShader driver 5.0.0, software)" */
export function adapterLabel(adapter: GpuAdapter): string {
  const name = [adapter.vendor, adapter.architecture].filter(Boolean).join(' ') || 'unknown GPU';
  const details = [adapter.description, adapter.software ? 'software' : ''].filter(Boolean);
  return details.length ? `${name} (${details.join(', ')})` : name;
}

/** "WASM — native TensorFlow not installed", with the full reason for a tooltip. */
export function describeBackendBadge(info: BackendInfo | null): { text: string; detail: string } {
  if (!info) {
    return { text: 'Backend: starting…', detail: 'The training worker is starting.' };
  }
  const adapter = info.adapter ? adapterLabel(info.adapter) : null;
  const label = adapter ? `${BACKEND_LABELS[info.name]} on ${adapter}` : BACKEND_LABELS[info.name];
  if (info.reason === 'chosen by the user')
    return { text: `${label} — chosen by you`, detail: info.reason };
  const native = info.unavailable.find((u) => u.name === 'tensorflow');
  const why = native
    ? native.code === 'not-installed'
      ? 'native TensorFlow not installed'
      : 'native TensorFlow failed to load'
    : 'fastest available';
  return { text: `${label} — ${why}`, detail: info.reason };
}
