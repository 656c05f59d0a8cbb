import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { flushSync } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ExportCheckpointRequest, ExportOutcome } from '$contract/api';
import ExportDialog from '../../../../src-renderer/src/components/checkpoints/ExportDialog.svelte';
import { run, text } from '../../fixtures';

afterEach(cleanup);

/** Lets ask()'s queued showModal run and the dialog render. */
const settle = async () => {
  await new Promise((resolve) => setTimeout(resolve, 0));
  flushSync();
};

type Request = Omit<ExportCheckpointRequest, 'type'>;

async function open(answer: (request: Request) => Promise<ExportOutcome>, name: string | null) {
  const onExport = vi.fn(answer);
  const download = vi.fn();
  const dialog = render(ExportDialog, { onExport, download });
  const r = { ...run('run-a'), name };
  dialog.component.ask(r, 2);
  await settle();
  const box = screen.getByTestId('export-dialog') as HTMLDialogElement;
  const click = async (testid: string) => {
    await fireEvent.click(within(box).getByTestId(testid));
    await settle();
  };
  const shown = (testid: string) => text(within(box).getByTestId(testid));
  return { onExport, download, box, click, shown };
}

describe('ExportDialog', () => {
  it('is a labelled modal dialog that shows the file name and where each format loads', async () => {
    const { box, click, shown } = await open(async () => ({ status: 'cancelled' }), 'first CNN');
    expect(box.open).toBe(true);
    expect(within(box).getByRole('heading').id).toBe(box.getAttribute('aria-labelledby'));
    expect(within(box).getByRole('group', { name: 'Format' })).toBeTruthy();
    const labels = within(box)
      .getAllByRole('radio')
      .map((radio) => text(radio.closest('label')!).trim());
    expect(labels).toEqual(['TensorFlow.js (.zip)', 'Keras 3 (.keras)', 'ONNX (.onnx)']);

    expect(shown('export-file-name')).toBe('first CNN-epoch2.zip');
    expect(shown('export-hint')).toMatch(/tf\.loadLayersModel/);
    const optimizer = within(box).getByTestId('export-optimizer') as HTMLInputElement;
    expect(optimizer.disabled).toBe(false);

    await click('export-format-keras');
    expect(shown('export-file-name')).toBe('first CNN-epoch2.keras');
    expect(shown('export-hint')).toMatch(/keras\.saving\.load_model\("first CNN-epoch2\.keras"\)/);
    expect(optimizer.disabled).toBe(true);
    expect(text(box)).toMatch(/Only TensorFlow\.js can carry the optimizer's state/);

    await click('export-format-onnx');
    expect(shown('export-file-name')).toBe('first CNN-epoch2.onnx');
    expect(shown('export-hint')).toMatch(/InferenceSession\("first CNN-epoch2\.onnx"\)/);
  });

  it('names the file after the run id when the run has no name', async () => {
    const { shown } = await open(async () => ({ status: 'cancelled' }), null);
    expect(shown('export-file-name')).toBe('run-a-epoch2.zip');
  });

  it('sends the optimizer with tfjs only, and starts a serve-mode download', async () => {
    const { onExport, download, box, click, shown } = await open(
      async (request) => ({
        status: 'download',
        url: '/downloads/AbCdEfGhIjKlMnOpQrStUvWx',
        fileName: `run-a-epoch2.${request.format === 'tfjs' ? 'zip' : request.format}`,
        bytes: 2048,
      }),
      null,
    );
    await click('export-optimizer');
    await click('export-format-onnx');
    expect((within(box).getByTestId('export-optimizer') as HTMLInputElement).checked).toBe(false);
    await click('confirm-export-button');
    expect(onExport).toHaveBeenLastCalledWith({
      runId: 'run-a',
      epoch: 2,
      format: 'onnx',
      withOptimizer: false,
    });
    expect(download).toHaveBeenCalledWith('/downloads/AbCdEfGhIjKlMnOpQrStUvWx', 'run-a-epoch2.onnx');
    expect(shown('export-result')).toMatch(/Downloading run-a-epoch2\.onnx \(2 KB\)/);

    await click('export-format-tfjs');
    expect((within(box).getByTestId('export-optimizer') as HTMLInputElement).checked).toBe(true);
    await click('confirm-export-button');
    expect(onExport).toHaveBeenLastCalledWith({
      runId: 'run-a',
      epoch: 2,
      format: 'tfjs',
      withOptimizer: true,
    });
  });

  it('says where the desktop app saved it, and that a cancel saved nothing', async () => {
    const answers: ExportOutcome[] = [
      { status: 'saved', path: '/home/me/run-a-epoch2.zip', bytes: 3 * 1024 * 1024 },
      { status: 'cancelled' },
    ];
    const { download, box, click, shown } = await open(async () => answers.shift()!, null);
    await click('confirm-export-button');
    expect(shown('export-result')).toBe('Saved to /home/me/run-a-epoch2.zip (3.0 MB).');
    expect(within(box).getByTestId('export-result').getAttribute('role')).toBe('status');
    expect(within(box).getByRole('button', { name: 'Close' })).toBeTruthy();
    await click('confirm-export-button');
    expect(shown('export-result')).toBe('Nothing was saved.');
    expect(download).not.toHaveBeenCalled();
    expect(box.open).toBe(true);
  });

  it('shows progress, cannot be dismissed meanwhile, and keeps everything on an error', async () => {
    let fail: (error: Error) => void = () => {};
    const { onExport, box, click, shown } = await open(
      () => new Promise((_resolve, reject) => (fail = reject)),
      null,
    );
    await click('export-format-keras');
    await click('confirm-export-button');
    const button = within(box).getByTestId('confirm-export-button') as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    expect(button.getAttribute('aria-busy')).toBe('true');
    expect(text(button)).toBe('Exporting…');
    const escape = new Event('cancel', { cancelable: true });
    box.dispatchEvent(escape);
    expect(escape.defaultPrevented).toBe(true);

    fail(new Error('run run-a epoch 2 is damaged: weights.bin is 10 bytes, expected 4096'));
    await settle();
    expect(box.open).toBe(true);
    const result = within(box).getByTestId('export-result');
    expect(result.getAttribute('role')).toBe('alert');
    expect(shown('export-result')).toBe(
      'Export failed: run run-a epoch 2 is damaged: weights.bin is 10 bytes, expected 4096',
    );
    expect(button.disabled).toBe(false);
    expect((within(box).getByTestId('export-format-keras') as HTMLInputElement).checked).toBe(true);
    expect(shown('export-file-name')).toBe('run-a-epoch2.keras');
    // Once not busy, Escape closes it as any dialog.
    const again = new Event('cancel', { cancelable: true });
    box.dispatchEvent(again);
    expect(again.defaultPrevented).toBe(false);
    expect(onExport).toHaveBeenCalledOnce();
  });
});
