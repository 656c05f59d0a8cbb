/**
 * The PyTorch peer (bench/torch_peer.py) as the benchmarks run it: which Python, the preset's
 * hyper-parameters as its arguments, and one run of it read back as JSON lines.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PRESET_DEFAULTS, type ModelPreset } from '../src-main/contract/config';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const PEER = path.join(HERE, 'torch_peer.py');
/** The peer's own virtualenv (bench/setup-peer.sh: PyTorch 2.13), else Debian's python3-torch. */
const VENV_PYTHON = path.join(HERE, '.venv', 'bin', 'python');
export const defaultPython = (): string =>
  existsSync(VENV_PYTHON) ? VENV_PYTHON : '/usr/bin/python3';

/** Every hyper-parameter from the engine's presets, so the peer can never drift from them. */
export function peerPresetArgs(model: ModelPreset): string[] {
  const preset = PRESET_DEFAULTS[model];
  return [
    '--model',
    model,
    '--batch-size',
    String(preset.batchSize),
    '--learning-rate',
    String(preset.learningRate),
    '--lr-decay',
    String(preset.learningRateDecay),
    '--schedule',
    preset.schedule ?? 'decay',
    '--label-smoothing',
    String(preset.labelSmoothing ?? 0),
    preset.augment ? '--augment' : '--no-augment',
    '--hidden-units',
    String(preset.hiddenUnits),
    '--dropout',
    String(preset.dropout),
  ];
}

export type PeerLine = Record<string, unknown> & { type: string };

/** Runs the peer to the end; its JSON lines, or an error with the tail of its stderr. */
export function runPeer(python: string, args: string[]): Promise<PeerLine[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [PEER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        const tail = stderr.trim().split('\n').slice(-3).join(' | ');
        reject(new Error(`torch_peer.py exited with ${code}: ${tail}`));
        return;
      }
      try {
        resolve(
          stdout
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as PeerLine),
        );
      } catch (error) {
        reject(new Error(`torch_peer.py printed a line that is not JSON: ${String(error)}`));
      }
    });
  });
}
