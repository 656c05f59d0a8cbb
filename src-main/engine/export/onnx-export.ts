import onnxProto from 'onnx-proto';
import type { Activation, ExportLayer, ExportModel, Padding, Weight } from './model-layers';
import { ExportError } from './model-layers';

const { onnx } = onnxProto;

/**
 * An ONNX model (opset 17) computing what the LayersModel computes, in inference mode: the same
 * NHWC input our engine takes, [N, 28, 28, 1] in [0, 1], and the softmax's probabilities out.
 * ONNX's Conv, MaxPool and BatchNormalization work on NCHW, so the graph transposes into NCHW
 * before the first of them and back before a Flatten: the Dense kernels then see features in
 * tfjs' own order and are used as they are.
 */

export const OPSET = 17;
/** The IR version that goes with opset 17 (ONNX 1.12). */
const IR_VERSION = 8;
export const INPUT_NAME = 'image';
export const OUTPUT_NAME = 'probabilities';

type Layout = 'NHWC' | 'NCHW' | 'flat';
const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];

const AttributeType = onnx.AttributeProto.AttributeType;
const ints = (name: string, values: number[]) => ({ name, type: AttributeType.INTS, ints: values });
const int = (name: string, value: number) => ({ name, type: AttributeType.INT, i: value });
const float = (name: string, value: number) => ({ name, type: AttributeType.FLOAT, f: value });
const string = (name: string, value: string) => ({
  name,
  type: AttributeType.STRING,
  s: new TextEncoder().encode(value),
});

/** Floats as ONNX stores them: little-endian IEEE 754, like every platform Node runs on. */
const rawFloats = (values: Float32Array) =>
  new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice();

/** [kh, kw, in, out] (tfjs) → [out, in, kh, kw] (ONNX's Conv). */
function convKernel(kernel: Weight): Weight {
  const [kh, kw, cin, cout] = kernel.shape as [number, number, number, number];
  const out = new Float32Array(kernel.values.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++)
          out[((o * cin + i) * kh + y) * kw + x] =
            kernel.values[((y * kw + x) * cin + i) * cout + o]!;
  return { shape: [cout, cin, kh, kw], values: out };
}

const filled = (length: number, value: number): Weight => ({
  shape: [length],
  values: new Float32Array(length).fill(value),
});

/** tfjs pads "same" as TensorFlow does, the odd pixel at the bottom and right: SAME_UPPER. */
const paddingAttributes = (padding: Padding) =>
  padding === 'same' ? [string('auto_pad', 'SAME_UPPER')] : [ints('pads', [0, 0, 0, 0])];

class GraphBuilder {
  readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  readonly initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  private value = INPUT_NAME;
  private layout: Layout;

  constructor(rank: number) {
    this.layout = rank === 4 ? 'NHWC' : 'flat';
  }

  get current(): string {
    return this.value;
  }

  weight(name: string, weight: Weight): string {
    this.initializers.push(
      onnx.TensorProto.create({
        name,
        dims: weight.shape,
        dataType: onnx.TensorProto.DataType.FLOAT,
        rawData: rawFloats(weight.values),
      }),
    );
    return name;
  }

  node(
    opType: string,
    name: string,
    inputs: string[],
    attribute: ReturnType<typeof ints | typeof string | typeof int | typeof float>[] = [],
  ): void {
    const output = `${name}:out`;
    this.nodes.push(
      onnx.NodeProto.create({
        opType,
        name,
        input: [this.value, ...inputs],
        output: [output],
        attribute: attribute.map((a) => onnx.AttributeProto.create(a)),
      }),
    );
    this.value = output;
  }

  /** Into the layout the next operator needs; a no-op when already there. */
  into(layout: 'NCHW' | 'NHWC', before: string): void {
    if (this.layout === 'flat' || this.layout === layout) return;
    this.node(
      'Transpose',
      `${before}/to_${layout}`,
      [],
      [ints('perm', layout === 'NCHW' ? TO_NCHW : TO_NHWC)],
    );
    this.layout = layout;
  }

  flattened(): void {
    this.layout = 'flat';
  }

  activation(activation: Activation, layer: string): void {
    switch (activation) {
      case 'linear':
        return;
      case 'relu':
        return this.node('Relu', `${layer}/relu`, []);
      case 'sigmoid':
        return this.node('Sigmoid', `${layer}/sigmoid`, []);
      case 'tanh':
        return this.node('Tanh', `${layer}/tanh`, []);
      case 'softmax':
        // tfjs' softmax runs over the last axis, which is the channels only in NHWC.
        this.into('NHWC', layer);
        return this.node('Softmax', `${layer}/softmax`, [], [int('axis', -1)]);
    }
  }

  /** Whatever layout the last layer left, the model answers in tfjs' own (NHWC). */
  finish(): void {
    this.into('NHWC', 'output');
  }
}

function addLayer(graph: GraphBuilder, layer: ExportLayer): void {
  const n = layer.name;
  switch (layer.kind) {
    case 'conv2d': {
      graph.into('NCHW', n);
      const inputs = [graph.weight(`${n}/kernel`, convKernel(layer.kernel))];
      if (layer.bias) inputs.push(graph.weight(`${n}/bias`, layer.bias));
      graph.node('Conv', n, inputs, [
        ints('kernel_shape', layer.kernelSize),
        ints('strides', layer.strides),
        ints('dilations', layer.dilation),
        ...paddingAttributes(layer.padding),
      ]);
      return graph.activation(layer.activation, n);
    }
    case 'maxPooling2d':
      graph.into('NCHW', n);
      return graph.node(
        'MaxPool',
        n,
        [],
        [
          ints('kernel_shape', layer.poolSize),
          ints('strides', layer.strides),
          ...paddingAttributes(layer.padding),
        ],
      );
    case 'flatten':
      // Back to NHWC first: tfjs flattens height, width, channels in that order.
      graph.into('NHWC', n);
      graph.node('Flatten', n, [], [int('axis', 1)]);
      return graph.flattened();
    case 'dense': {
      const inputs = [graph.weight(`${n}/kernel`, layer.kernel)];
      if (layer.bias) inputs.push(graph.weight(`${n}/bias`, layer.bias));
      graph.node('Gemm', n, inputs);
      return graph.activation(layer.activation, n);
    }
    case 'dropout':
      // Inference: a Dropout passes its input through.
      return;
    case 'batchNormalization': {
      // ONNX normalises axis 1: the channels in NCHW, the features of a flat [N, C].
      graph.into('NCHW', n);
      const channels = layer.movingMean.shape[0]!;
      graph.node(
        'BatchNormalization',
        n,
        [
          graph.weight(`${n}/gamma`, layer.gamma ?? filled(channels, 1)),
          graph.weight(`${n}/beta`, layer.beta ?? filled(channels, 0)),
          graph.weight(`${n}/moving_mean`, layer.movingMean),
          graph.weight(`${n}/moving_variance`, layer.movingVariance),
        ],
        [float('epsilon', layer.epsilon)],
      );
      return;
    }
    case 'activation':
      return graph.activation(layer.activation, n);
  }
}

function tensorType(shape: (number | null)[]) {
  return {
    tensorType: {
      elemType: onnx.TensorProto.DataType.FLOAT,
      shape: {
        dim: shape.map((d) => (d === null ? { dimParam: 'batch' } : { dimValue: d })),
      },
    },
  };
}

export function onnxModel(model: ExportModel): Uint8Array {
  const graph = new GraphBuilder(model.inputShape.length);
  for (const layer of model.layers) addLayer(graph, layer);
  graph.finish();
  const last = graph.nodes.at(-1);
  if (!last) throw new ExportError('the model has no layer that computes anything');
  // The last operator writes the graph's output directly: no Identity node just to rename it.
  last.output = [OUTPUT_NAME];
  const outputShape = model.layers.at(-1)!.outputShape;
  const proto = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'MNIST Studio',
    graph: {
      name: model.name,
      node: graph.nodes,
      initializer: graph.initializers,
      input: [{ name: INPUT_NAME, type: tensorType(model.inputShape) }],
      output: [{ name: OUTPUT_NAME, type: tensorType(outputShape) }],
    },
  });
  return onnx.ModelProto.encode(proto).finish();
}
