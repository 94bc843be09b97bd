import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { isKilnError } from '../../platform/errors.js';
import { parseMLmodel, writeMLmodel, schemaToJson, type MLmodel } from './mlmodel.js';
import { SKLEARN_MLMODEL, ONNX_MLMODEL } from './test-models.js';

function expectInvalid(text: string, pattern: RegExp): void {
  assert.throws(
    () => parseMLmodel(text),
    (e: unknown) => {
      assert.ok(isKilnError(e), `expected a KilnError, got ${String(e)}`);
      assert.equal(e.code, 'INVALID_PARAMETER_VALUE');
      assert.match(e.message, pattern);
      return true;
    },
  );
}

test('parses an MLflow 2.x sklearn MLmodel', () => {
  const m = parseMLmodel(SKLEARN_MLMODEL);
  assert.equal(m.artifact_path, 'model');
  assert.deepEqual(Object.keys(m.flavors), ['python_function', 'sklearn']);
  assert.equal(m.flavors.python_function?.python_version, '3.10.12');
  assert.equal(m.flavors.sklearn?.code, null);
  assert.equal(m.mlflow_version, '2.9.2');
  assert.equal(m.model_size_bytes, 1017);
  assert.equal(m.utc_time_created, '2024-01-15 09:30:12.345678');
  assert.deepEqual(m.saved_input_example_info, { artifact_path: 'input_example.json', pandas_orient: 'split', type: 'dataframe' });
  const inputs = m.signature?.inputs;
  assert.equal(inputs?.kind, 'columns');
  assert.deepEqual(inputs?.kind === 'columns' ? inputs.columns.map((c) => [c.name, c.type, c.required]) : [], [
    ['sepal length (cm)', 'double', true],
    ['sepal width (cm)', 'double', true],
    ['petal length (cm)', 'double', true],
    ['petal width (cm)', 'double', true],
  ]);
  assert.deepEqual(m.signature?.outputs, { kind: 'tensors', tensors: [{ dtype: 'int64', shape: [-1] }] });
  assert.equal(m.signature?.params, undefined);
  assert.deepEqual(m.extra, {});
});

test('parses an MLflow 2.x onnx MLmodel with named output tensors', () => {
  const m = parseMLmodel(ONNX_MLMODEL);
  assert.deepEqual(m.flavors.onnx?.providers, ['CUDAExecutionProvider', 'CPUExecutionProvider']);
  assert.equal(m.flavors.onnx?.onnx_version, '1.16.0');
  assert.equal(m.saved_input_example_info?.format, 'tf-serving');
  assert.deepEqual(m.signature?.inputs, { kind: 'tensors', tensors: [{ dtype: 'float32', shape: [-1, 4] }] });
  assert.deepEqual(m.signature?.outputs, {
    kind: 'tensors',
    tensors: [
      { name: 'label', dtype: 'int64', shape: [-1] },
      { name: 'probabilities', dtype: 'float32', shape: [-1, 3] },
    ],
  });
});

test('write → parse gives the same model; the YAML reads back to the values MLflow wrote', () => {
  for (const text of [SKLEARN_MLMODEL, ONNX_MLMODEL]) {
    const m = parseMLmodel(text);
    const out = writeMLmodel(m);
    assert.deepEqual(parseMLmodel(out), m);
    // A YAML 1.1 reader (as PyYAML) sees the same document, signature strings included.
    assert.deepEqual(parseYaml(out, { version: '1.1' }), parseYaml(text, { version: '1.1' }));
    // keys sorted, as PyYAML's safe_dump writes them
    const keys = out.split('\n').filter((l) => /^[a-z_]+:/.test(l)).map((l) => l.slice(0, l.indexOf(':')));
    assert.deepEqual(keys, [...keys].sort());
  }
});

test('signature JSON strings use Python json.dumps spacing and key order', () => {
  const m = parseMLmodel(SKLEARN_MLMODEL);
  assert.ok(m.signature?.inputs);
  assert.equal(
    schemaToJson(m.signature.inputs).slice(0, 62),
    '[{"type": "double", "name": "sepal length (cm)", "required": t',
  );
  const out = writeMLmodel(m);
  assert.match(out, /outputs: '\[\{"type": "tensor", "tensor-spec": \{"dtype": "int64", "shape": \[-1\]\}\}\]'/);
  assert.match(out, /params: null/);
});

test('unknown keys and composite column types survive a round trip', () => {
  const text = `flavors:
  python_function:
    loader_module: my.loader
databricks_runtime: 14.3.x-cpu-ml-scala2.12
metadata:
  owner: team-a
  yes_flag: "yes"
resources:
  api_version: "1"
signature:
  inputs: '[{"type": "array", "items": {"type": "string"}, "name": "tags", "required": false}, {"type": "object", "properties": {"a": {"type": "long", "required": true}}, "name": "obj", "required": true}]'
  outputs: null
  params: '[{"name": "temperature", "type": "float", "default": 0.5, "shape": null}, {"name": "stops", "type": "string", "default": ["a"], "shape": [-1]}]'
time_created: 2018-05-25T17:28:53.35
`;
  const m = parseMLmodel(text);
  assert.equal(m.databricks_runtime, '14.3.x-cpu-ml-scala2.12');
  assert.deepEqual(m.extra, { resources: { api_version: '1' }, time_created: '2018-05-25T17:28:53.35' });
  assert.equal(m.metadata?.yes_flag, 'yes');
  assert.deepEqual(m.signature?.params, [
    { name: 'temperature', type: 'float', default: 0.5, shape: null },
    { name: 'stops', type: 'string', default: ['a'], shape: [-1] },
  ]);
  const back = parseMLmodel(writeMLmodel(m));
  assert.deepEqual(back, m);
  // "yes" stays a string for a YAML 1.1 reader
  assert.match(writeMLmodel(m), /yes_flag: "yes"/);
});

test('malformed MLmodel files are refused with the reason and the line', () => {
  expectInvalid('flavors:\n  onnx: {data: model.onnx\n', /MLmodel: not valid YAML: .*\(line \d+, column \d+\)/);
  expectInvalid('flavors:\n  onnx:\n    data: a\n   bad: b\nrun_id: c\n', /MLmodel: not valid YAML: All mapping items must start at the same column \(line 4, column 1\)/);
  expectInvalid('- just\n- a list\n', /MLmodel: the file must be a YAML mapping/);
  expectInvalid('artifact_path: model\n', /MLmodel: the file names no flavors/);
  expectInvalid('flavors: []\n', /MLmodel: flavors must be a mapping.*\(line 1\)/);
  expectInvalid('flavors:\n  onnx: {}\nrun_id: 12345678901234567890123456789012\nmlflow_version: [2]\n', /mlflow_version must be a string \(line 4\)/);
  assert.equal(parseMLmodel('flavors:\n  onnx: {}\nrun_id: 12345678901234567890123456789012\n').run_id, '12345678901234567890123456789012');
  expectInvalid('flavors:\n  onnx: 3\n', /MLmodel: flavor onnx must be a mapping \(line 2\)/);
  expectInvalid(
    'flavors:\n  onnx:\n    data: model.onnx\nsignature:\n  inputs: \'[{"type": "tensor"\'\n',
    /MLmodel: signature inputs is not valid JSON: .* \(line 5\)/,
  );
  expectInvalid(
    'flavors:\n  onnx: {}\nsignature:\n  inputs: \'[{"type": "tensor", "tensor-spec": {"dtype": "float33", "shape": [-1]}}]\'\n',
    /unknown tensor dtype "float33" .*\(line 4\)/,
  );
  expectInvalid(
    'flavors:\n  onnx: {}\nsignature:\n  outputs: \'[{"type": "decimal", "name": "a"}]\'\n',
    /signature outputs: entry 0: unknown column type "decimal" \(expected one of boolean, integer, long, float, double, string, binary, datetime/,
  );
  expectInvalid(
    'flavors:\n  onnx: {}\nsignature:\n  inputs: \'[{"type": "double", "name": "a"}, {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [2]}}]\'\n',
    /mixes tensor and column specs/,
  );
  expectInvalid('flavors:\n  onnx: {}\nmodel_size_bytes: lots\n', /model_size_bytes must be a whole number of bytes \(line 3\)/);
  expectInvalid('flavors:\n  onnx: {}\nsaved_input_example_info:\n  type: ndarray\n', /saved_input_example_info.artifact_path/);
  expectInvalid('flavors:\n  onnx: {}\nflavors:\n  sklearn: {}\n', /MLmodel: not valid YAML: Map keys must be unique/);
  expectInvalid('x'.repeat(1024 * 1024 + 1), /larger than 1048576 bytes/);
});

test('a minimal hand-written MLmodel writes the fields MLflow needs', () => {
  const m: MLmodel = {
    flavors: { onnx: { data: 'model.onnx' } },
    signature: { inputs: { kind: 'tensors', tensors: [{ name: 'x', dtype: 'float32', shape: [-1, 4] }] } },
    extra: {},
  };
  const out = writeMLmodel(m);
  assert.equal(
    out,
    `flavors:
  onnx:
    data: model.onnx
signature:
  inputs: '[{"name": "x", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]'
  outputs: null
  params: null
`,
  );
});
