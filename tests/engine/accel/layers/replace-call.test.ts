import { describe, expect, it } from 'vitest';
import {
  callReplaced,
  replaceCall,
  restoreCall,
} from '../../../../src-main/engine/accel/layers/replace-call';

// The two shapes tfjs-layers' classes come in: a method of the class itself (BatchNormalization)
// and one inherited from a base (Conv2D from Conv, MaxPooling2D from Pooling2D).
class Base {
  call(x: number): string {
    return `base ${x}`;
  }
}
class Inherits extends Base {}
class Owns extends Base {
  override call(x: number): string {
    return `own ${x}`;
  }
}
type Call = (x: number) => string;

describe('replaceCall', () => {
  it.each([
    ['an inherited call', Inherits, 'base 1'],
    ['a call of its own', Owns, 'own 1'],
  ] as const)('takes over and gives back %s', (_, Layer, original) => {
    const proto = Layer.prototype as { call: Call };
    const layer = new Layer();
    expect(callReplaced(proto)).toBe(false);
    replaceCall<Call>(
      proto,
      (tfjsCall) =>
        function (this: Base, x) {
          return `ours, then ${tfjsCall.call(this, x)}`;
        },
    );
    expect(callReplaced(proto)).toBe(true);
    expect(layer.call(1)).toBe(`ours, then ${original}`);
    // Installing again wraps tfjs' call, not ours.
    replaceCall<Call>(
      proto,
      (tfjsCall) =>
        function (this: Base, x) {
          return `again, then ${tfjsCall.call(this, x)}`;
        },
    );
    expect(layer.call(1)).toBe(`again, then ${original}`);
    restoreCall(proto);
    expect(callReplaced(proto)).toBe(false);
    expect(layer.call(1)).toBe(original);
    expect(Object.prototype.hasOwnProperty.call(proto, 'call')).toBe(Layer === Owns);
    // The base class was never touched.
    expect(new Base().call(2)).toBe('base 2');
    restoreCall(proto); // a second restore does nothing
    expect(layer.call(1)).toBe(original);
  });
});
