/**
 * One colour per run, everywhere it is drawn (the Checkpoints list's swatch, the comparison
 * charts, the Train charts' overlays), derived from its id alone: a colour taken from the order
 * of ticking shifted when the Train charts left out the live run, so a run was pink in one
 * panel and green in the other.
 *
 * Twelve hues that read on the dark theme and stay clear of the live run's blue and orange; two
 * runs share one only when their ids hash alike (1 in 12 for a pair).
 */
export const RUN_COLORS = [
  '#3ddc97',
  '#e86bff',
  '#ffd166',
  '#5ce1e6',
  '#ff6b8b',
  '#b5e853',
  '#c792ea',
  '#f78c6c',
  '#7fdbca',
  '#ffcb6b',
  '#ff9cac',
  '#a3be8c',
] as const;

export function runColor(runId: string): string {
  // FNV-1a over the UTF-16 code units: stable across sessions and machines.
  let h = 0x811c9dc5;
  for (let i = 0; i < runId.length; i++) {
    h ^= runId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return RUN_COLORS[h % RUN_COLORS.length]!;
}
