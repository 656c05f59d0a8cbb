import type { BackendInfo } from '../../../src-main/contract/messages';

const LABELS: Record<BackendInfo['name'], string> = {
  'tensorflow-gpu': 'TensorFlow GPU',
  tensorflow: 'TensorFlow CPU',
  wasm: 'WASM',
  cpu: 'JavaScript CPU',
};

/** "WASM — native TensorFlow not installed", with the full reason as the tooltip. */
export function describeBackendBadge(info: BackendInfo | null): { text: string; detail: string } {
  if (!info)
    return {
      text: 'Backend: starts with the first run',
      detail: 'The training worker has not started yet.',
    };
  const label = LABELS[info.name];
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
