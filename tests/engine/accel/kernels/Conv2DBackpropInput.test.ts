import '@tensorflow/tfjs-backend-wasm';
import { describe, it } from 'vitest';
import { convCases, outShapeOf, sweepCases } from './conv-cases';
import {
  expectClose,
  expectNonTrivial,
  onBoth,
  randomHost,
  runKernel,
  useAccelKernels,
} from '../harness';

useAccelKernels();

describe('Conv2DBackpropInput on wasm', () => {
  it.each([...convCases, ...sweepCases])('matches cpu: $name', async (c) => {
    const dy = randomHost(outShapeOf(c), 5);
    const f = randomHost(c.filter, 6);
    const { cpu, wasm } = await onBoth([dy, f], (dyt, ft) =>
      runKernel(
        'Conv2DBackpropInput',
        { dy: dyt!, filter: ft! },
        {
          strides: c.strides,
          pad: c.pad,
          dataFormat: 'NHWC',
          inputShape: c.x,
        },
      ),
    );
    expectNonTrivial(cpu[0]!);
    expectClose(cpu[0]!, wasm[0]!);
  });
});
