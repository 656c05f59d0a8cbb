import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import DrawingPad from '../../../../src-renderer/src/components/draw/DrawingPad.svelte';
import { InkPad } from '../../../../src-renderer/src/lib/draw-ink';

beforeEach(() => {
  // jsdom has no 2-D canvas: the pad's ink buffer is what the test reads.
  vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockReturnValue(null);
});
afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

const at = (x: number, y: number, pointerId = 1) => ({
  pointerId,
  pointerType: 'mouse',
  button: 0,
  clientX: x,
  clientY: y,
});

function setup() {
  const pad = new InkPad();
  const calls: string[] = [];
  const props = {
    pad,
    onInk: vi.fn(() => calls.push('ink')),
    onPenUp: vi.fn(() => calls.push('pen-up')),
    onClear: vi.fn(() => calls.push(`clear (ink: ${pad.pieces.length > 0})`)),
  };
  render(DrawingPad, props);
  return { pad, calls, canvas: screen.getByTestId('draw-pad') };
}

describe('DrawingPad', () => {
  it('turns one pointer into ink, asking for a prediction as the stroke grows', async () => {
    const { pad, calls, canvas } = setup();
    await fireEvent.pointerDown(canvas, at(60, 60));
    await fireEvent.pointerMove(canvas, at(140, 200));
    // A second pointer is ignored while the first one draws.
    await fireEvent.pointerDown(canvas, at(10, 10, 2));
    await fireEvent.pointerMove(canvas, at(20, 20, 2));
    await fireEvent.pointerUp(canvas, at(140, 200));
    expect(calls).toEqual(['ink', 'ink', 'pen-up']);
    expect(pad.active).toBe(false);
    expect(pad.image().data.some((v) => v > 0)).toBe(true);
  });

  it('Clear tells the owner before wiping the ink, and is off on an empty pad', async () => {
    const { pad, calls, canvas } = setup();
    const clear = screen.getByTestId('clear-button') as HTMLButtonElement;
    expect(clear.disabled).toBe(true);
    expect(screen.getByText('Draw a digit here')).toBeTruthy();
    await fireEvent.pointerDown(canvas, at(60, 60));
    await fireEvent.pointerUp(canvas, at(60, 60));
    expect(clear.disabled).toBe(false);
    expect(screen.queryByText('Draw a digit here')).toBeNull();
    await fireEvent.click(clear);
    expect(calls.at(-1)).toBe('clear (ink: true)');
    expect(pad.pieces).toHaveLength(0);
    expect(clear.disabled).toBe(true);
  });
});
