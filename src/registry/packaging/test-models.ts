/**
 * Small real ONNX models for tests, encoded with onnx-proto. Every model here loads in onnxruntime and computes what
 * its name says.
 */
import onnx from 'onnx-proto';

const P = onnx.onnx;
const T = P.TensorProto.DataType;

/** ONNX element type numbers by ORT name. */
export const ELEM = {
  float32: T.FLOAT,
  float64: T.DOUBLE,
  int32: T.INT32,
  int64: T.INT64,
  bool: T.BOOL,
  string: T.STRING,
  uint8: T.UINT8,
} as const;

type Dim = number | string | null;

function valueInfo(name: string, elemType: number, shape: readonly Dim[] | null): onnx.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        ...(shape === null
          ? {}
          : { shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {})) } }),
      },
    },
  };
}

function floatTensor(name: string, dims: number[], values: number[]): onnx.onnx.ITensorProto {
  const f = new Float32Array(values);
  return { name, dims, dataType: T.FLOAT, rawData: new Uint8Array(f.buffer, f.byteOffset, f.byteLength) };
}

interface ModelOpts {
  irVersion?: number;
  opset?: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  metadata?: Record<string, string>;
  graphName?: string;
}

function model(graph: onnx.onnx.IGraphProto, o: ModelOpts = {}): Uint8Array {
  const m = P.ModelProto.create({
    irVersion: o.irVersion ?? 8,
    producerName: o.producerName ?? 'kiln-test-models',
    producerVersion: o.producerVersion ?? '1.0',
    docString: o.docString ?? '',
    opsetImport: [{ domain: '', version: o.opset ?? 13 }],
    metadataProps: Object.entries(o.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: { name: o.graphName ?? 'main', ...graph },
  });
  return P.ModelProto.encode(m).finish();
}

/** The weights `linearModel` uses: W[i][j] = (i + 1) * (j + 1) / 10, b[j] = j + 0.5. */
export function linearWeights(inputs: number, outputs: number): { w: number[][]; b: number[] } {
  const w = Array.from({ length: inputs }, (_, i) => Array.from({ length: outputs }, (_, j) => ((i + 1) * (j + 1)) / 10));
  const b = Array.from({ length: outputs }, (_, j) => j + 0.5);
  return { w, b };
}

/** y = x·W + b (MatMul + Add, float32 initializers); x [N, inputs] → y [N, outputs]. */
export function linearModel(
  opts: { inputs?: number; outputs?: number; batch?: number | string | null; inputName?: string; outputName?: string; /** multiplies W (another model of the same shape) */ scale?: number } & ModelOpts = {},
): Uint8Array {
  const n = opts.inputs ?? 4;
  const k = opts.outputs ?? 1;
  const scale = opts.scale ?? 1;
  const batch = opts.batch === undefined ? 'N' : opts.batch;
  const x = opts.inputName ?? 'x';
  const y = opts.outputName ?? 'y';
  const { w, b } = linearWeights(n, k);
  return model(
    {
      node: [
        { opType: 'MatMul', input: [x, 'W'], output: ['xw'], name: 'matmul' },
        { opType: 'Add', input: ['xw', 'B'], output: [y], name: 'add' },
      ],
      initializer: [floatTensor('W', [n, k], w.flat().map((v) => v * scale)), floatTensor('B', [k], b)],
      input: [valueInfo(x, T.FLOAT, [batch, n])],
      output: [valueInfo(y, T.FLOAT, [batch, k])],
    },
    { docString: 'linear model y = xW + b', metadata: { purpose: 'test' }, graphName: 'linear', ...opts },
  );
}

/** What `linearModel` computes, in float64 (compare with a tolerance). */
export function linearExpected(x: number[][], outputs = 1): number[][] {
  const n = x[0]?.length ?? 0;
  const { w, b } = linearWeights(n, outputs);
  return x.map((row) => b.map((bj, j) => row.reduce((s, xi, i) => s + xi * (w[i]?.[j] ?? 0), bj)));
}

/** sum = a + b, float32 [N, 3] each; two inputs, one output. */
export function addModel(opts: { dtype?: keyof typeof ELEM } = {}): Uint8Array {
  const t = ELEM[opts.dtype ?? 'float32'];
  return model({
    name: 'add',
    node: [{ opType: 'Add', input: ['a', 'b'], output: ['sum'] }],
    input: [valueInfo('a', t, ['N', 3]), valueInfo('b', t, ['N', 3])],
    output: [valueInfo('sum', t, ['N', 3])],
  });
}

/** An int64 input `ids` [batch, 8] cast to float32 `out` (Cast), so the model has an integer input. */
export function int64Model(): Uint8Array {
  return model({
    name: 'cast',
    node: [{ opType: 'Cast', input: ['ids'], output: ['out'], attribute: [{ name: 'to', type: P.AttributeProto.AttributeType.INT, i: T.FLOAT }] }],
    input: [valueInfo('ids', T.INT64, ['batch', 8])],
    output: [valueInfo('out', T.FLOAT, ['batch', 8])],
  });
}

/** Identity on a tensor with an unnamed, unknown first dimension ([?, 2]). */
export function unknownDimModel(): Uint8Array {
  return model({
    name: 'identity',
    node: [{ opType: 'Identity', input: ['in'], output: ['out'] }],
    input: [valueInfo('in', T.FLOAT, [null, 2])],
    output: [valueInfo('out', T.FLOAT, [null, 2])],
  });
}

/** A model using an operator that does not exist: decodes, but onnxruntime refuses it. */
export function unloadableModel(): Uint8Array {
  return model({
    name: 'bad',
    node: [{ opType: 'NoSuchOperatorKiln', input: ['x'], output: ['y'] }],
    input: [valueInfo('x', T.FLOAT, ['N', 2])],
    output: [valueInfo('y', T.FLOAT, ['N', 2])],
  });
}

/**
 * A linear model whose weight lives in an external data file, the way onnx.save_model(save_as_external_data=True)
 * writes it: returns the model bytes and the data file's bytes under its location name.
 */
export function externalDataModel(location = 'weights.bin'): { onnx: Uint8Array; files: Record<string, Uint8Array> } {
  const { w, b } = linearWeights(4, 1);
  const wf = new Float32Array(w.flat());
  const data = new Uint8Array(wf.buffer.slice(0));
  const bytes = model(
    {
      node: [
        { opType: 'MatMul', input: ['x', 'W'], output: ['xw'] },
        { opType: 'Add', input: ['xw', 'B'], output: ['y'] },
      ],
      initializer: [
        {
          name: 'W',
          dims: [4, 1],
          dataType: T.FLOAT,
          dataLocation: P.TensorProto.DataLocation.EXTERNAL,
          externalData: [
            { key: 'location', value: location },
            { key: 'offset', value: '0' },
            { key: 'length', value: String(data.byteLength) },
          ],
        },
        floatTensor('B', [1], b),
      ],
      input: [valueInfo('x', T.FLOAT, ['N', 4])],
      output: [valueInfo('y', T.FLOAT, ['N', 1])],
    },
    { graphName: 'linear_external' },
  );
  return { onnx: bytes, files: { [location]: data } };
}

/** A linear model padded with an unused float32 initializer of `megabytes` MB, to make inspection slow. */
export function bigModel(megabytes: number): Uint8Array {
  const count = Math.floor((megabytes * 1024 * 1024) / 4);
  const pad = new Float32Array(count);
  for (let i = 0; i < count; i += 4096) pad[i] = i;
  return model({
    name: 'big',
    node: [{ opType: 'Identity', input: ['x'], output: ['y'] }],
    initializer: [{ name: 'pad', dims: [count], dataType: T.FLOAT, rawData: new Uint8Array(pad.buffer) }],
    input: [valueInfo('x', T.FLOAT, ['N', 2])],
    output: [valueInfo('y', T.FLOAT, ['N', 2])],
  });
}

/** Bytes that are not an ONNX model at all. */
export const notOnnxBytes = (): Uint8Array => new TextEncoder().encode('this is a pickle, honest\n');

/** The first `n` bytes of a real model (a truncated upload). */
export const truncated = (bytes: Uint8Array, n = Math.floor(bytes.length / 2)): Uint8Array => bytes.slice(0, n);

/** Identity on a string tensor `text` [N] (a model with a string input). */
export function stringModel(): Uint8Array {
  return model({
    name: 'strings',
    node: [{ opType: 'Identity', input: ['text'], output: ['same'] }],
    input: [valueInfo('text', T.STRING, ['N'])],
    output: [valueInfo('same', T.STRING, ['N'])],
  });
}

/** As MLflow 2.9 writes it for mlflow.sklearn.log_model(clf, "model", input_example=X[:2]) on the iris data. */
export const SKLEARN_MLMODEL = `artifact_path: model
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    predict_fn: predict
    python_version: 3.10.12
  sklearn:
    code: null
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: 1.3.2
mlflow_version: 2.9.2
model_size_bytes: 1017
model_uuid: 5c1a2b3d4e5f40718293a4b5c6d7e8f9
run_id: 0a1b2c3d4e5f46a7b8c9d0e1f2a3b4c5
saved_input_example_info:
  artifact_path: input_example.json
  pandas_orient: split
  type: dataframe
signature:
  inputs: '[{"type": "double", "name": "sepal length (cm)", "required": true}, {"type":
    "double", "name": "sepal width (cm)", "required": true}, {"type": "double", "name":
    "petal length (cm)", "required": true}, {"type": "double", "name": "petal width
    (cm)", "required": true}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]'
  params: null
utc_time_created: '2024-01-15 09:30:12.345678'
`;

/** As MLflow 2.12 writes it for mlflow.onnx.log_model(onx, "model", input_example=X[:3]) of a skl2onnx model. */
export const ONNX_MLMODEL = `artifact_path: model
flavors:
  onnx:
    code: null
    data: model.onnx
    onnx_session_options: null
    onnx_version: 1.16.0
    providers:
    - CUDAExecutionProvider
    - CPUExecutionProvider
  python_function:
    data: model.onnx
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.onnx
    python_version: 3.11.8
mlflow_version: 2.12.1
model_size_bytes: 512
model_uuid: 9f8e7d6c5b4a43218f7e6d5c4b3a2918
run_id: 1111a222333344445555666677778888
saved_input_example_info:
  artifact_path: input_example.json
  format: tf-serving
  type: ndarray
signature:
  inputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]'
  outputs: '[{"name": "label", "type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}, {"name": "probabilities", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}}]'
  params: null
utc_time_created: '2024-04-20 17:01:02.003004'
`;

