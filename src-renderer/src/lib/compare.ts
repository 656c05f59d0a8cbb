import type { RunInfo } from '$contract/messages';
import type { Overlay } from './charts';
import { runLabel } from './format';
import { runColor } from './run-color';

/**
 * The curves of the runs a user ticked for comparison, from each run's metrics history (which
 * outlives deleted checkpoints), each in its run's own colour (run-color.ts).
 */
export function compareOverlays(
  runs: readonly RunInfo[],
  compared: readonly string[],
  metric: 'loss' | 'accuracy',
): Overlay[] {
  return compared.flatMap((runId) => {
    const run = runs.find((r) => r.runId === runId);
    if (!run) return [];
    const color = runColor(runId);
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
