import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { flushSync } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RunInfo } from '$contract/messages';
import DeleteDialog from '../../../../src-renderer/src/components/checkpoints/DeleteDialog.svelte';
import { CheckpointsState } from '../../../../src-renderer/src/lib/checkpoints.svelte';
import { fakeApi, run, status, text } from '../../fixtures';

afterEach(cleanup);


/** Lets ask()'s queued showModal run and the dialog render. */
const opened = async () => {
  await Promise.resolve();
  flushSync();
};

describe('DeleteDialog', () => {
  it('says what drawing and evaluation use once the model in use is deleted', async () => {
    const runs: RunInfo[] = [run('run-a'), run('run-b', { epochs: 2 })];
    const fake = fakeApi((r) =>
      r.type === 'listRuns'
        ? { runs }
        : r.type === 'status'
          ? status({ runId: 'run-a', epoch: 3, model: 'mlp', metrics: null })
          : {},
    );
    const checkpoints = new CheckpointsState(fake.api, 1);
    await checkpoints.sync();
    const onConfirm = vi.fn(async () => {});
    const dialog = render(DeleteDialog, { checkpoints, onConfirm });
    dialog.component.ask(runs[0]!, null);
    await opened();
    const box = screen.getByTestId('confirm-dialog');
    expect(text(box)).toMatch(/Run run-a and its 3 checkpoints will be removed/);
    expect(text(screen.getByTestId('delete-in-use'))).toMatch(
      /Afterwards they use run run-b, epoch 2/,
    );
    await fireEvent.click(within(box).getByTestId('confirm-delete-button'));
    expect(onConfirm).toHaveBeenCalledWith(runs[0], null);
  });
});
