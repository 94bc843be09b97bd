import { test } from 'node:test';
import assert from 'node:assert/strict';
import { notFound } from '../../platform/errors.js';
import { inspectModelPackage, type PackageReader, type PackageEntry, type PackageInspection } from './inspect-package.js';
import * as tm from './test-models.js';

/** An in-memory store with the ArtifactStore listing rules (folders exist through their files). */
export function memoryReader(files: Record<string, Uint8Array | string>): PackageReader & { reads: string[] } {
  const data = new Map(Object.entries(files).map(([p, b]) => [p, typeof b === 'string' ? Buffer.from(b) : Buffer.from(b)]));
  const reads: string[] = [];
  return {
    reads,
    async list(prefix) {
      const pre = prefix === '' ? '' : `${prefix}/`;
      const out = new Map<string, PackageEntry>();
      for (const [p, b] of data) {
        if (!p.startsWith(pre)) continue;
        const rest = p.slice(pre.length);
        const slash = rest.indexOf('/');
        if (slash < 0) out.set(p, { path: p, isDir: false, size: b.length });
        else out.set(pre + rest.slice(0, slash), { path: pre + rest.slice(0, slash), isDir: true });
      }
      return [...out.values()].sort((a, b) => a.path.localeCompare(b.path));
    },
    async read(path, _max) {
      reads.push(path);
      const b = data.get(path);
      if (!b) throw notFound(`no artifact at ${path}`);
      return b;
    },
  };
}

const ONNX_MLMODEL_MIN = (extra = ''): string => `artifact_path: model
flavors:
  onnx:
    data: model.onnx
    providers:
    - CPUExecutionProvider
  python_function:
    data: model.onnx
    loader_module: mlflow.onnx
${extra}`;

const failed = (r: PackageInspection, pattern: RegExp): void => {
  assert.equal(r.status, 'FAILED_REGISTRATION', JSON.stringify(r));
  assert.equal(r.servable, false);
  assert.match(r.status_message ?? '', pattern);
};

test('an MLflow onnx model folder with a matching signature is READY and servable', async () => {
  const onnx = tm.linearModel();
  const files = {
    'runs/r1/artifacts/model/MLmodel': ONNX_MLMODEL_MIN(`saved_input_example_info:
  artifact_path: input_example.json
  format: tf-serving
  type: ndarray
signature:
  inputs: '[{"name": "x", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]'
  outputs: '[{"name": "y", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 1]}}]'
`),
    'runs/r1/artifacts/model/model.onnx': onnx,
    'runs/r1/artifacts/model/input_example.json': '{"inputs": [[1, 2, 3, 4]]}',
    'runs/r1/artifacts/model/requirements.txt': 'onnx\nonnxruntime',
    'runs/r1/artifacts/other.txt': 'not part of the model',
  };
  const reader = memoryReader(files);
  const r = await inspectModelPackage(reader, 'runs/r1/artifacts/model');
  assert.equal(r.status, 'READY', r.status_message);
  assert.equal(r.servable, true);
  assert.deepEqual(r.flavors, ['onnx', 'python_function']);
  assert.equal(r.signature_source, 'mlmodel');
  assert.equal(r.onnx?.path, 'runs/r1/artifacts/model/model.onnx');
  assert.deepEqual(r.onnx?.inputs, [{ name: 'x', type: 'float32', shape: ['N', 4] }]);
  assert.deepEqual(r.input_example, { path: 'runs/r1/artifacts/model/input_example.json', type: 'ndarray', format: 'tf-serving', size_bytes: 26 });
  assert.equal(r.files, 4);
  const modelFiles = Object.entries(files).filter(([p]) => p.startsWith('runs/r1/artifacts/model/'));
  assert.equal(r.size_bytes, modelFiles.reduce((s, [, b]) => s + Buffer.from(b).length, 0));
  assert.deepEqual(r.warnings, []);
  // the input example is listed, not read
  assert.deepEqual(reader.reads.sort(), ['runs/r1/artifacts/model/MLmodel', 'runs/r1/artifacts/model/model.onnx']);
});

test('a signature mismatch is FAILED_REGISTRATION listing the problems', async () => {
  const reader = memoryReader({
    'm/MLmodel': ONNX_MLMODEL_MIN(`signature:
  inputs: '[{"name": "features", "type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 5]}}]'
  outputs: '[{"name": "y", "type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 1, 1]}}]'
`),
    'm/model.onnx': tm.linearModel(),
  });
  const r = await inspectModelPackage(reader, 'm');
  failed(r, /^the ONNX model does not match the MLmodel signature: /);
  assert.match(r.status_message ?? '', /signature input features is not a model input \(model inputs: x\)/);
  assert.match(r.status_message ?? '', /model input x is missing from the signature inputs/);
  assert.match(r.status_message ?? '', /output y: signature shape \[-1, 1, 1\] has rank 3/);
  // what was found is still reported
  assert.equal(r.onnx?.inputs[0]?.name, 'x');
  assert.equal(r.signature?.inputs?.kind, 'tensors');
});

test('the real MLflow onnx MLmodel text against a model of another shape fails; against a matching one passes', async () => {
  // ONNX_MLMODEL: unnamed input [-1, 4] float32; outputs label int64 [-1] and probabilities float32 [-1, 3]
  const bad = await inspectModelPackage(memoryReader({ 'm/MLmodel': tm.ONNX_MLMODEL, 'm/model.onnx': tm.linearModel() }), 'm');
  failed(bad, /signature output label is not a model output \(model outputs: y\)/);
  assert.deepEqual(bad.flavors, ['onnx', 'python_function']);
  assert.equal(bad.mlmodel?.mlflow_version, '2.12.1');
});

test('no signature in MLmodel: the one derived from the model is reported', async () => {
  const r = await inspectModelPackage(memoryReader({ 'm/MLmodel': ONNX_MLMODEL_MIN(), 'm/model.onnx': tm.int64Model() }), 'm');
  assert.equal(r.status, 'READY');
  assert.equal(r.signature_source, 'onnx');
  assert.deepEqual(r.signature?.inputs, { kind: 'tensors', tensors: [{ name: 'ids', dtype: 'int64', shape: [-1, 8] }] });
});

test('a bare .onnx file, or a folder with exactly one .onnx and no MLmodel, is servable', async () => {
  const onnx = tm.linearModel({ inputs: 3 });
  const reader = memoryReader({ 'a/net.onnx': onnx, 'b/only.onnx': onnx, 'b/README.md': 'hello' });
  const file = await inspectModelPackage(reader, 'a/net.onnx');
  assert.equal(file.status, 'READY');
  assert.equal(file.servable, true);
  assert.deepEqual(file.flavors, ['onnx']);
  assert.equal(file.files, 1);
  assert.equal(file.size_bytes, onnx.length);
  assert.equal(file.onnx?.path, 'a/net.onnx');
  assert.deepEqual(file.signature?.inputs, { kind: 'tensors', tensors: [{ name: 'x', dtype: 'float32', shape: [-1, 3] }] });
  const folder = await inspectModelPackage(reader, '/b/');
  assert.equal(folder.status, 'READY');
  assert.equal(folder.onnx?.path, 'b/only.onnx');
  assert.equal(folder.files, 2);
});

test('other flavors are READY but not servable', async () => {
  const r = await inspectModelPackage(memoryReader({ 'm/MLmodel': tm.SKLEARN_MLMODEL, 'm/model.pkl': 'pickle bytes', 'm/input_example.json': '{}' }), 'm');
  assert.equal(r.status, 'READY');
  assert.equal(r.servable, false);
  assert.equal(r.not_servable_reason, 'flavor sklearn is not servable by Kiln; ONNX is');
  assert.deepEqual(r.flavors, ['python_function', 'sklearn']);
  assert.equal(r.signature?.inputs?.kind, 'columns');
  assert.equal(r.input_example?.type, 'dataframe');
  assert.equal(r.onnx, undefined);
  const torch = await inspectModelPackage(
    memoryReader({ 'p/MLmodel': 'flavors:\n  python_function:\n    loader_module: mlflow.pytorch\n  pytorch:\n    pytorch_version: 2.1.0\n', 'p/data/model.pth': 'x' }),
    'p',
  );
  assert.equal(torch.not_servable_reason, 'flavor pytorch is not servable by Kiln; ONNX is');
  assert.equal(torch.files, 2);
});

test('failures: missing root, empty or broken files, malformed MLmodel, missing model file', async () => {
  const reader = memoryReader({
    'empty/model.onnx': new Uint8Array(0),
    'junk/model.onnx': tm.notOnnxBytes(),
    'trunc/model.onnx': tm.truncated(tm.linearModel()),
    'bad/model.onnx': tm.unloadableModel(),
    'yaml/MLmodel': 'flavors:\n  onnx: {data: model.onnx\n',
    'yaml/model.onnx': tm.linearModel(),
    'nodata/MLmodel': ONNX_MLMODEL_MIN(),
    'escape/MLmodel': 'flavors:\n  onnx:\n    data: ../other/model.onnx\n',
    'two/a.onnx': tm.linearModel(),
    'two/b.onnx': tm.linearModel(),
    'none/notes.txt': 'hi',
    'file.txt': 'hi',
    'zero/MLmodel': ONNX_MLMODEL_MIN(),
    'zero/model.onnx': new Uint8Array(0),
  });
  failed(await inspectModelPackage(reader, 'nothing/here'), /^no model artifacts at nothing\/here/);
  failed(await inspectModelPackage(reader, 'empty/model.onnx'), /^the ONNX model file empty\/model.onnx is empty \(0 bytes\)$/);
  failed(await inspectModelPackage(reader, 'zero'), /^the ONNX model file zero\/model.onnx is empty \(0 bytes\)$/);
  failed(await inspectModelPackage(reader, 'junk'), /^not an ONNX model: the bytes are not an ONNX protobuf/);
  failed(await inspectModelPackage(reader, 'trunc'), /^not an ONNX model: /);
  failed(await inspectModelPackage(reader, 'bad'), /^ONNX model does not load: .*NoSuchOperatorKiln/);
  const y = await inspectModelPackage(reader, 'yaml');
  failed(y, /^MLmodel: not valid YAML: .*\(line \d+, column \d+\)$/);
  assert.deepEqual(y.flavors, []);
  failed(await inspectModelPackage(reader, 'nodata'), /^the onnx flavor names model.onnx but nodata\/model.onnx does not exist$/);
  failed(await inspectModelPackage(reader, 'escape'), /points outside the model folder/);
  failed(await inspectModelPackage(reader, 'two'), /has no MLmodel file and 2 \.onnx files \(a\.onnx, b\.onnx\)/);
  failed(await inspectModelPackage(reader, 'none'), /^none is not a model: it has no MLmodel file and no \.onnx file$/);
  failed(await inspectModelPackage(reader, 'file.txt'), /^file.txt is a single file that is not a model/);
});

test('size caps: a too-large ONNX file is refused without being read', async () => {
  const reader = memoryReader({ 'm/model.onnx': tm.linearModel() });
  const r = await inspectModelPackage(reader, 'm', { maxOnnxBytes: 100 });
  failed(r, /^the ONNX model file m\/model.onnx is \d+ bytes; the limit is 100$/);
  assert.deepEqual(reader.reads, []);
  const big = memoryReader({ 'm/MLmodel': 'x'.repeat(1024 * 1024 + 10) });
  failed(await inspectModelPackage(big, 'm'), /^MLmodel: the file is 1048586 bytes; the limit is 1048576$/);
});

test('external data beside the model is read and used; a missing data file is named', async () => {
  const ext = tm.externalDataModel('4f1c-weights');
  const ok = await inspectModelPackage(
    memoryReader({ 'm/MLmodel': ONNX_MLMODEL_MIN(), 'm/model.onnx': ext.onnx, 'm/4f1c-weights': ext.files['4f1c-weights'] as Uint8Array }),
    'm',
  );
  assert.equal(ok.status, 'READY', ok.status_message);
  assert.equal(ok.onnx?.size_bytes, ext.onnx.length + 16);
  const missing = await inspectModelPackage(memoryReader({ 'm/MLmodel': ONNX_MLMODEL_MIN(), 'm/model.onnx': ext.onnx }), 'm');
  failed(missing, /^ONNX model does not load: its external data file m\/4f1c-weights does not exist$/);
});

test('a missing input example file is a warning, and store errors are thrown', async () => {
  const r = await inspectModelPackage(
    memoryReader({
      'm/MLmodel': ONNX_MLMODEL_MIN('saved_input_example_info:\n  artifact_path: input_example.json\n  type: ndarray\n'),
      'm/model.onnx': tm.linearModel(),
    }),
    'm',
  );
  assert.equal(r.status, 'READY');
  assert.deepEqual(r.warnings, ['MLmodel names an input example input_example.json that is not in the model folder']);
  const broken: PackageReader = {
    list: async () => {
      throw new Error('store unreachable');
    },
    read: async () => Buffer.alloc(0),
  };
  await assert.rejects(inspectModelPackage(broken, 'm'), /store unreachable/);
});
