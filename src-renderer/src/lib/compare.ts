import type { RunInfo } from '../../../src-main/contract/messages';
import { OVERLAY_COLORS, type Overlay } from './charts';
import { runLabel } from './format';

/**
 * The curves of the runs a user ticked for comparison, from each run's metrics history (which
 * outlives deleted checkpoints). Colours follow the order of ticking, so a run keeps its colour
 * while others are added.
 */
export function compareOverlays(
  runs: readonly RunInfo[],
  compared: readonly string[],
  metric: 'loss' | 'accuracy',
): Overlay[] {
  return compared.flatMap((runId, i) => {
    const run = runs.find((r) => r.runId === runId);
    if (!run) return [];
    const color = OVERLAY_COLORS[i % OVERLAY_COLORS.length]!;
    const history = run.history;
    return [
      {
        label: runLabel(run),
        color,
        train: history.map((m) => ({ x: m.epoch, y: metric === 'loss' ? m.loss : m.accuracy })),
        validation: history.flatMap((m) => {
          const y = metric === 'loss' ? m.valLoss : m.valAccuracy;
          return y === null ? [] : [{ x: m.epoch, y }];
        }),
      },
    ];
  });
}

/** The colour a compared run is drawn in, for the swatch next to its checkbox. */
export function compareColor(compared: readonly string[], runId: string): string | null {
  const i = compared.indexOf(runId);
  return i < 0 ? null : OVERLAY_COLORS[i % OVERLAY_COLORS.length]!;
}
