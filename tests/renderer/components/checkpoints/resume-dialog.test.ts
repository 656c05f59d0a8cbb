import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { flushSync } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import ResumeDialog from '../../../../src-renderer/src/components/checkpoints/ResumeDialog.svelte';
import { run } from '../../fixtures';

afterEach(cleanup);

/** Lets ask()'s queued showModal run and the dialog render. */
const opened = async () => {
  await Promise.resolve();
  flushSync();
};

describe('ResumeDialog', () => {
  it('offers the run planned epochs, refuses fewer, and resumes with the number typed', async () => {
    const onConfirm = vi.fn(async () => {});
    const dialog = render(ResumeDialog, { onConfirm });
    const r = run('run-a', { epochs: 3 });
    dialog.component.ask(r, r.checkpoints[0]!);
    await opened();
    const box = screen.getByTestId('resume-dialog') as HTMLDialogElement;
    expect(box.open).toBe(true);
    // From epoch 1 of 3: a new run; its plan (3 epochs) is the default.
    expect(box.textContent).toMatch(/new run/);
    const input = screen.getByTestId('resume-epochs-input') as HTMLInputElement;
    expect(input.value).toBe('3');
    await fireEvent.input(input, { target: { value: '1' } });
    const confirm = screen.getByTestId('confirm-resume-button') as HTMLButtonElement;
    expect(confirm.disabled).toBe(true);
    await fireEvent.input(input, { target: { value: '8' } });
    await fireEvent.click(confirm);
    expect(onConfirm).toHaveBeenCalledWith(r, 1, 8);
    expect(box.open).toBe(false);
  });
});
