import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import FirstLayerFilters from '../../../../src-renderer/src/components/draw/FirstLayerFilters.svelte';
import InsideViewSection from '../../../../src-renderer/src/components/draw/InsideView.svelte';
import LayerActivations from '../../../../src-renderer/src/components/draw/LayerActivations.svelte';
import SaliencyMap from '../../../../src-renderer/src/components/draw/SaliencyMap.svelte';
import { InsideView } from '../../../../src-renderer/src/lib/inside-view.svelte';
import type { LayerActivation, Saliency } from '../../../../src-renderer/src/lib/model-inspect';

beforeEach(() => {
  // jsdom has no 2-D canvas: the components still lay out their canvases and numbers.
  vi.spyOn(HTMLCanvasElement.prototype, 'getContext').mockReturnValue(null);
});
afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

const ramp = (n: number, sign = 1) => Float32Array.from({ length: n }, (_, i) => sign * (i % 7));

const ACTIVATIONS: LayerActivation[] = [
  { name: 'conv', className: 'Conv2D', shape: [4, 4, 20], data: ramp(320) },
  { name: 'flat', className: 'Flatten', shape: [320], data: ramp(320) },
  { name: 'hidden', className: 'Dense', shape: [30], data: ramp(30, -1) },
  {
    name: 'out',
    className: 'Dense',
    shape: [10],
    data: Float32Array.from([0.01, 0.01, 0.9, 0.01, 0.01, 0.01, 0.01, 0.02, 0.01, 0.01]),
  },
];

describe('LayerActivations', () => {
  it('gives each layer a block with its name, class and output shape', () => {
    render(LayerActivations, { activations: ACTIVATIONS });
    const blocks = screen.getByTestId('layer-activations').querySelectorAll('[data-layer]');
    expect([...blocks].map((b) => b.getAttribute('data-layer'))).toEqual([
      'conv',
      'flat',
      'hidden',
      'out',
    ]);
    expect(blocks[0]!.textContent).toMatch(/conv\s*Conv2D\s*\(None, 4, 4, 20\)/);
    expect(blocks[0]!.getAttribute('data-max-abs')).toBe('6');
  });

  it('shows 16 channels of a wide layer and all of them on request', async () => {
    render(LayerActivations, { activations: ACTIVATIONS });
    const conv = () =>
      screen.getByTestId('layer-activations').querySelector('[data-layer="conv"]')!;
    expect(conv().querySelectorAll('canvas')).toHaveLength(16);
    expect(conv().textContent).toMatch(/16 of 20 channels/);
    await fireEvent.click(screen.getByRole('button', { name: 'Show all 20' }));
    expect(conv().querySelectorAll('canvas')).toHaveLength(20);
    expect(screen.getByLabelText('conv channel 20')).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Show 16' }));
    expect(conv().querySelectorAll('canvas')).toHaveLength(16);
  });

  it('draws dense units as bars, a long vector as a strip and the output as probabilities', () => {
    render(LayerActivations, { activations: ACTIVATIONS });
    const layer = (name: string) =>
      screen.getByTestId('layer-activations').querySelector(`[data-layer="${name}"]`)!;
    expect(layer('hidden').querySelectorAll('rect')).toHaveLength(30);
    expect(layer('hidden').querySelectorAll('rect.negative').length).toBeGreaterThan(0);
    expect(layer('flat').querySelectorAll('canvas')).toHaveLength(1);
    const out = screen.getByTestId('layer-output-bars');
    expect(out.querySelector('.top')!.getAttribute('data-digit')).toBe('2');
  });
});

describe('SaliencyMap', () => {
  const saliency: Saliency = {
    method: 'integrated-gradients',
    steps: 16,
    digit: 3,
    values: new Float32Array(784).fill(0.001),
    sum: 0.784,
    maxAbs: 0.001,
    delta: 0.79,
  };

  it('exposes its numbers and says what the colours mean', () => {
    render(SaliencyMap, { saliency, input: new Float32Array(784), stale: false });
    const map = screen.getByTestId('saliency-map');
    expect(map.dataset).toMatchObject({
      method: 'integrated-gradients',
      steps: '16',
      digit: '3',
      sum: '0.784',
      max: '0.001',
    });
    expect(map.textContent).toMatch(/Integrated gradients for 3/);
    expect(map.textContent).toMatch(/Red pixels raise it, blue ones lower it/);
    expect(map.textContent).toMatch(/add up to \+0\.784.*changed by \+0\.790/s);
    expect(screen.getByLabelText(/Which pixels .* made it answer 3/)).toBeTruthy();
    expect(map.textContent).not.toMatch(/pen rests/);
  });

  it('says when it lags the drawing', () => {
    render(SaliencyMap, { saliency, input: new Float32Array(784), stale: true });
    expect(screen.getByTestId('saliency-map').textContent).toMatch(/Updates when the pen rests/);
  });
});

describe('FirstLayerFilters', () => {
  it('says an MLP’s are weight templates, 16 at first', async () => {
    const filters = {
      kind: 'dense' as const,
      layer: 'dense_1',
      height: 28,
      width: 28,
      total: 64,
      shown: 64,
      data: ramp(64 * 784),
    };
    render(FirstLayerFilters, { filters });
    const figure = screen.getByTestId('first-layer-filters');
    expect(figure.textContent).toMatch(
      /each hidden unit's 784 weights laid out as\s+the 28 × 28 image/,
    );
    expect(figure.querySelectorAll('canvas')).toHaveLength(16);
    expect(figure.textContent).toMatch(/16 of 64/);
    await fireEvent.click(screen.getByRole('button', { name: 'Show all 64' }));
    expect(figure.querySelectorAll('canvas')).toHaveLength(64);
  });

  it('says a CNN’s are its first convolution’s kernels', () => {
    const filters = {
      kind: 'conv' as const,
      layer: 'conv2d_1',
      height: 3,
      width: 3,
      total: 8,
      shown: 8,
      data: ramp(72, -1),
    };
    render(FirstLayerFilters, { filters });
    const figure = screen.getByTestId('first-layer-filters');
    expect(figure.textContent).toMatch(/first convolution's 8 filters/);
    expect(figure.querySelectorAll('canvas')).toHaveLength(8);
    expect(screen.queryByRole('button')).toBeNull();
  });
});

describe('InsideView section', () => {
  it('waits for the model to load in the window', () => {
    const inside = new InsideView(() => ({
      model: null,
      hasModel: true,
      shown: true,
      drawing: false,
    }));
    inside.refresh();
    render(InsideViewSection, { inside });
    expect(screen.getByTestId('inside-loading').textContent).toBe(
      'Available once the model has loaded here.',
    );
    expect(screen.getByText('What the network sees')).toBeTruthy();
  });
});
