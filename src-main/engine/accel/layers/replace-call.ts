/**
 * How layers/ takes over a tfjs-layers class's `call` while our kernels are registered, and gives
 * it back. Only the prototype's method changes: the class, its weights and its saved form stay
 * tfjs' own, and models built before or after see the same prototype. Conv2D and MaxPooling2D
 * inherit `call` (ours is set on their own prototype and deleted again); BatchNormalization
 * defines its own (ours replaces it and the original is put back).
 */

interface LayerPrototype<C> {
  call: C;
}

const originals = new WeakMap<object, { call: unknown; own: boolean }>();

/** Replaces `proto.call` with `make(tfjs' call)`, restoring any earlier replacement first. */
export function replaceCall<C>(proto: LayerPrototype<C>, make: (tfjsCall: C) => C): void {
  restoreCall(proto);
  const own = Object.prototype.hasOwnProperty.call(proto, 'call');
  originals.set(proto, { call: proto.call, own });
  Object.defineProperty(proto, 'call', {
    configurable: true,
    writable: true,
    value: make(proto.call),
  });
}

/** tfjs' own call again (nothing to do when ours is not in place). */
export function restoreCall(proto: object): void {
  const original = originals.get(proto);
  if (original === undefined) return;
  originals.delete(proto);
  if (original.own) {
    Object.defineProperty(proto, 'call', {
      configurable: true,
      writable: true,
      value: original.call,
    });
  } else {
    delete (proto as { call?: unknown }).call;
  }
}

export function callReplaced(proto: object): boolean {
  return originals.has(proto);
}
