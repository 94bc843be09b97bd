/**
 * Small real ONNX models for the serving runtime's tests and benchmark, encoded with onnx-proto: a model that fails at
 * inference for some input values, one that reduces over the batch, and a float32 MLP of any width.
 */
import onnx from 'onnx-proto';

const P = onnx.onnx;
const T = P.TensorProto.DataType;

type Dim = number | string | null;

function valueInfo(name: string, elemType: number, shape: readonly Dim[]): onnx.onnx.IValueInfoProto {
  const dim = shape.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {}));
  return { name, type: { tensorType: { elemType, shape: { dim } } } };
}

function floatTensor(name: string, dims: number[], values: Float32Array): onnx.onnx.ITensorProto {
  return { name, dims, dataType: T.FLOAT, rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
}

function int64Tensor(name: string, values: number[]): onnx.onnx.ITensorProto {
  const v = BigInt64Array.from(values.map(BigInt));
  return { name, dims: [values.length], dataType: T.INT64, rawData: new Uint8Array(v.buffer) };
}

function model(graph: onnx.onnx.IGraphProto, opset = 13): Uint8Array {
  const m = P.ModelProto.create({
    irVersion: 8,
    producerName: 'kiln-test-models',
    producerVersion: '1.0',
    opsetImport: [{ domain: '', version: opset }],
    graph: { name: 'main', ...graph },
  });
  return P.ModelProto.encode(m).finish();
}

/** The rows of `gatherModel`'s table: row i is [i, 10 i]. */
export const GATHER_ROWS = 4;

/**
 * out[n] = table[idx[n]] (Gather along axis 0): int64 `idx` [N] → float32 `out` [N, 2], where table row i is
 * [i, 10 i] for i < rows (default 4). An index of `rows` or more (or below -rows) makes onnxruntime throw at inference ("out of bounds").
 */
export function gatherModel(rows = GATHER_ROWS): Uint8Array {
  const table = new Float32Array(rows * 2);
  for (let i = 0; i < rows; i++) {
    table[2 * i] = i;
    table[2 * i + 1] = 10 * i;
  }
  return model({
    node: [{ opType: 'Gather', input: ['table', 'idx'], output: ['out'], attribute: [{ name: 'axis', type: P.AttributeProto.AttributeType.INT, i: 0 }] }],
    initializer: [floatTensor('table', [rows, 2], table)],
    input: [valueInfo('idx', T.INT64, ['N'])],
    output: [valueInfo('out', T.FLOAT, ['N', 2])],
  });
}

/** y = sum of x over the batch (ReduceSum axis 0, keepdims): x [N, k] → y [1, k]. A model that must not be batched. */
export function batchSumModel(features = 3): Uint8Array {
  return model({
    node: [{ opType: 'ReduceSum', input: ['x', 'axes'], output: ['y'], attribute: [{ name: 'keepdims', type: P.AttributeProto.AttributeType.INT, i: 1 }] }],
    initializer: [int64Tensor('axes', [0])],
    input: [valueInfo('x', T.FLOAT, ['N', features])],
    output: [valueInfo('y', T.FLOAT, [1, features])],
  });
}

/** Logistic regression: p = sigmoid(x·w + b), x [N, features] → p [N, 1], with mlpModel's deterministic weights. */
export function logisticModel(features = 10): Uint8Array {
  return model({
    node: [
      { opType: 'MatMul', input: ['x', 'W'], output: ['xw'] },
      { opType: 'Add', input: ['xw', 'B'], output: ['z'] },
      { opType: 'Sigmoid', input: ['z'], output: ['p'] },
    ],
    initializer: [floatTensor('W', [features, 1], weights(features, features, 7)), floatTensor('B', [1], weights(1, 1, 8))],
    input: [valueInfo('x', T.FLOAT, ['N', features])],
    output: [valueInfo('p', T.FLOAT, ['N', 1])],
  });
}

/** Deterministic weights in [-1, 1) / sqrt(fanIn) from a small linear congruential generator seeded per layer. */
function weights(count: number, fanIn: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let s = (seed * 2654435761) >>> 0 || 1;
  const scale = 1 / Math.sqrt(fanIn);
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return out;
}

/**
 * A float32 multilayer perceptron: for layers [256, 1024, 1024, 1024, 10], x [N, 256] → MatMul + Add + Relu for each
 * hidden layer, MatMul + Add for the last → y [N, 10]. The first dimension is dynamic ('N'); weights are deterministic.
 */
export function mlpModel(layers: readonly number[]): Uint8Array {
  if (layers.length < 2) throw new Error('mlpModel needs at least an input and an output width');
  const node: onnx.onnx.INodeProto[] = [];
  const initializer: onnx.onnx.ITensorProto[] = [];
  let prev = 'x';
  for (let l = 0; l + 1 < layers.length; l++) {
    const fanIn = layers[l] as number;
    const fanOut = layers[l + 1] as number;
    const last = l + 2 === layers.length;
    initializer.push(floatTensor(`W${l}`, [fanIn, fanOut], weights(fanIn * fanOut, fanIn, l + 1)));
    initializer.push(floatTensor(`B${l}`, [fanOut], weights(fanOut, fanIn, 100 + l)));
    node.push({ opType: 'MatMul', input: [prev, `W${l}`], output: [`mm${l}`] });
    node.push({ opType: 'Add', input: [`mm${l}`, `B${l}`], output: [last ? 'y' : `pre${l}`] });
    if (!last) node.push({ opType: 'Relu', input: [`pre${l}`], output: [`h${l}`] });
    prev = `h${l}`;
  }
  return model({
    node,
    initializer,
    input: [valueInfo('x', T.FLOAT, ['N', layers[0] as number])],
    output: [valueInfo('y', T.FLOAT, ['N', layers[layers.length - 1] as number])],
  });
}
