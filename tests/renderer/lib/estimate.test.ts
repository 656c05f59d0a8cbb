import { describe, expect, it } from 'vitest';
import { PRESET_DEFAULTS } from '$contract/config';
import {
  describeEstimate,
  describeRunEstimate,
  expectedThreads,
  roughDuration,
  secondsPerEpoch,
} from '../../../src-renderer/src/lib/estimate';

describe('time estimates before Start', () => {
  it('use the benchmark rates: the cnn on two WASM threads ≈ 15 s per 54,000 images', () => {
    const cnn = PRESET_DEFAULTS.cnn;
    // 54,000 training images plus 6,000 validated at a third of the cost.
    expect(secondsPerEpoch(cnn, 'wasm', 2)).toBeCloseTo(15 * (56_000 / 54_000), 1);
    // One thread is slower, and a quick run on 2,000 images is quicker.
    expect(secondsPerEpoch(cnn, 'wasm', 1)!).toBeGreaterThan(secondsPerEpoch(cnn, 'wasm', 2)!);
    expect(secondsPerEpoch({ ...cnn, limit: 2000 }, 'wasm', 2)).toBeCloseTo(
      ((15_000 / 54_000) * (2000 + 2000)) / 1000,
      1,
    );
    // More cores than measured: faster, but not beyond what the parallel part allows.
    const eight = secondsPerEpoch(cnn, 'wasm', 8)!;
    expect(eight).toBeLessThan(secondsPerEpoch(cnn, 'wasm', 2)!);
    expect(eight).toBeGreaterThan(secondsPerEpoch(cnn, 'wasm', 1)! / 8);
  });

  it('follow how the engine picks threads', () => {
    expect(expectedThreads(PRESET_DEFAULTS.mlp, 'wasm', 8)).toBe(1); // the fused step
    expect(expectedThreads(PRESET_DEFAULTS.cnn, 'wasm', 8)).toBe(8);
    expect(expectedThreads({ ...PRESET_DEFAULTS.cnn, batchSize: 16 }, 'wasm', 8)).toBe(2);
    expect(expectedThreads({ ...PRESET_DEFAULTS.cnn, threads: 3 }, 'wasm', 8)).toBe(3);
    expect(expectedThreads(PRESET_DEFAULTS.cnn, 'tensorflow', 8)).toBe(1);
  });

  it('are not made up where nothing was measured', () => {
    expect(secondsPerEpoch(PRESET_DEFAULTS.cnn, 'webgpu', 2)).toBeNull();
    expect(secondsPerEpoch(PRESET_DEFAULTS['cnn-strong'], 'cpu', 2)).toBeNull();
  });

  it('read as rough figures', () => {
    expect(roughDuration(0.18)).toBe('under 1 s');
    expect(roughDuration(2.2)).toBe('2 s');
    expect(roughDuration(41)).toBe('40 s');
    expect(roughDuration(125)).toBe('2 min');
    expect(roughDuration(100 * 60)).toBe('1 h 40 min');
    expect(roughDuration(120 * 60)).toBe('2 h');
    expect(describeEstimate(41, 3)).toBe('≈ 40 s per epoch, ≈ 2 min for 3 epochs');
    expect(describeEstimate(41, 1)).toBe('≈ 40 s per epoch, ≈ 40 s for 1 epoch');
    expect(describeEstimate(0.18, 3)).toBe('under 1 s per epoch, ≈ 1 s for 3 epochs');
  });
});

describe("the Train form's estimate line", () => {
  const idle = {
    config: { ...PRESET_DEFAULTS.cnn, backend: 'auto' as const, epochs: 2 },
    active: false,
    engineBackend: 'wasm' as const,
    startEpoch: 1,
    epochSeconds: [],
    runFraction: 0,
    elapsed: 0,
    remaining: null,
    cores: 2,
  };

  it('before Start: the measured rate of the backend `auto` resolves to', () => {
    const perEpoch = secondsPerEpoch(idle.config, 'wasm', 2)!;
    expect(describeRunEstimate(idle)).toBe(describeEstimate(perEpoch, 2));
    expect(describeRunEstimate({ ...idle, config: null })).toBe('');
    // Until the engine names its backend, `auto` has no rate to go by.
    expect(describeRunEstimate({ ...idle, engineBackend: null })).toBe('');
  });

  it('during a run: its own pace, from finished epochs or else the time so far', () => {
    const running = { ...idle, active: true, runFraction: 0.25, elapsed: 10, remaining: 30 };
    expect(describeRunEstimate(running)).toBe("≈ 20 s per epoch at this run's pace, ≈ 30 s left");
    expect(describeRunEstimate({ ...running, epochSeconds: [4, 6], remaining: null })).toBe(
      "≈ 5 s per epoch at this run's pace",
    );
    // Too early to tell (under a second in): the measured rate stands in.
    expect(describeRunEstimate({ ...running, elapsed: 0.5 })).toBe(describeRunEstimate(idle));
  });
});
