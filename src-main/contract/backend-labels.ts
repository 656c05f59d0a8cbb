import type { BackendName } from './config';
import type { BackendInfo } from './messages';

/** How backends are named to people: the badge, the backend menu, the CLI and the benchmark. */
export const BACKEND_LABELS: Record<BackendName, string> = {
  'tensorflow-gpu': 'TensorFlow GPU',
  tensorflow: 'TensorFlow CPU',
  wasm: 'WASM',
  cpu: 'JavaScript CPU',
};

/** "WASM — native TensorFlow not installed", with the full reason for a tooltip. */
export function describeBackendBadge(info: BackendInfo | null): { text: string; detail: string } {
  if (!info) {
    return { text: 'Backend: starting…', detail: 'The training worker is starting.' };
  }
  const label = BACKEND_LABELS[info.name];
  if (info.reason === 'chosen by the user')
    return { text: `${label} — chosen by you`, detail: info.reason };
  const native = info.unavailable.find((u) => u.name === 'tensorflow');
  const why = native
    ? /not installed/.test(native.error)
      ? 'native TensorFlow not installed'
      : 'native TensorFlow failed to load'
    : 'fastest available';
  return { text: `${label} — ${why}`, detail: info.reason };
}
