import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createArtifactStore } from '../../platform/artifacts/index.js';
import { isKilnError } from '../../platform/errors.js';
import { parseMLmodel } from './mlmodel.js';
import { artifactStoreReader, inspectModelPackage } from './inspect-package.js';
import { buildOnnxModelPackage } from './write-package.js';
import { inspectOnnx } from './onnx-inspect.js';
import * as tm from './test-models.js';

const tmp = mkdtempSync(join(tmpdir(), 'kiln-pkg-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const text = (files: { path: string; bytes: Buffer }[], path: string): string => {
  const f = files.find((x) => x.path === path);
  assert.ok(f, `no ${path}`);
  return f.bytes.toString('utf8');
};

test('builds the folder mlflow.onnx.log_model writes, without a Python environment no Python produced', async () => {
  const onnx = tm.linearModel();
  const files = await buildOnnxModelPackage({
    inspect: inspectOnnx,
    onnx,
    inputExample: [
      [1, 2, 3, 4],
      [5, 6, 7, NaN],
    ],
    runId: 'abc123',
    artifactPath: 'model',
    now: new Date('2024-05-06T07:08:09.123Z'),
    modelUuid: '0123456789abcdef0123456789abcdef',
  });
  assert.deepEqual(files.map((f) => f.path).sort(), ['MLmodel', 'input_example.json', 'model.onnx', 'serving_input_example.json']);
  assert.deepEqual(files.find((f) => f.path === 'model.onnx')?.bytes, Buffer.from(onnx));
  const m = parseMLmodel(text(files, 'MLmodel'));
  assert.deepEqual(m.flavors, {
    onnx: { code: null, data: 'model.onnx', onnx_session_options: null, providers: ['CPUExecutionProvider'] },
    python_function: { data: 'model.onnx', loader_module: 'mlflow.onnx' },
  });
  assert.doesNotMatch(text(files, 'MLmodel'), /python_version|onnx_version|mlflow_version|conda|virtualenv/, 'no invented versions or environment');
  assert.equal(m.artifact_path, 'model');
  assert.equal(m.run_id, 'abc123');
  assert.equal(m.model_uuid, '0123456789abcdef0123456789abcdef');
  assert.equal(m.utc_time_created, '2024-05-06 07:08:09.123000');
  assert.equal(m.mlflow_version, undefined);
  assert.deepEqual(m.signature, {
    inputs: { kind: 'tensors', tensors: [{ name: 'x', dtype: 'float32', shape: [-1, 4] }] },
    outputs: { kind: 'tensors', tensors: [{ name: 'y', dtype: 'float32', shape: [-1, 1] }] },
  });
  assert.deepEqual(m.saved_input_example_info, { artifact_path: 'input_example.json', serving_input_path: 'serving_input_example.json', type: 'ndarray' });
  const example = text(files, 'input_example.json');
  assert.equal(example, '[[1,2,3,4],[5,6,7,null]]');
  assert.deepEqual(JSON.parse(text(files, 'serving_input_example.json')), { inputs: [[1, 2, 3, 4], [5, 6, 7, null]] });
  assert.equal(m.model_size_bytes, onnx.length + example.length + text(files, 'serving_input_example.json').length);
  // providers written as a block sequence, as PyYAML does
  assert.match(text(files, 'MLmodel'), /providers:\n {4}- CPUExecutionProvider\n/);
});

test('logged into an artifact store, the folder inspects as READY and servable', async () => {
  const store = await createArtifactStore(pathToFileURL(tmp).href);
  await store.ready();
  const files = await buildOnnxModelPackage({ inspect: inspectOnnx, onnx: tm.addModel(), inputExample: { a: [[1, 2, 3]], b: [[4, 5, 6]] }, pipRequirements: ['onnxruntime', 'mlflow'] });
  for (const f of files) await store.put(`1/run9/artifacts/model/${f.path}`, f.bytes);
  const r = await inspectModelPackage(artifactStoreReader(store), '1/run9/artifacts/model');
  assert.equal(r.status, 'READY', r.status_message);
  assert.equal(r.servable, true);
  assert.deepEqual(r.flavors, ['onnx', 'python_function']);
  assert.equal(r.signature_source, 'mlmodel');
  assert.equal(r.input_example?.type, 'ndarray');
  assert.equal(r.input_example?.serving_input_path, '1/run9/artifacts/model/serving_input_example.json');
  assert.equal(r.files, 5, 'MLmodel, model.onnx, the two example files and the requirements given');
  assert.equal(r.size_bytes, files.reduce((s, f) => s + f.bytes.length, 0));
  assert.deepEqual(r.onnx?.inputs.map((i) => i.name), ['a', 'b']);
  assert.equal(files.find((f) => f.path === 'requirements.txt')?.bytes.toString(), 'onnxruntime\nmlflow');
  // the store reader caps reads
  const reader = artifactStoreReader(store);
  await assert.rejects(reader.read('1/run9/artifacts/model/model.onnx', 10), (e: unknown) => isKilnError(e) && e.code === 'REQUEST_TOO_LARGE');
  await store.close();
});

test('a json_object example, a given signature, and refusals', async () => {
  const files = await buildOnnxModelPackage({ inspect: inspectOnnx, onnx: tm.linearModel(), inputExample: { text: 'hello' } });
  assert.equal(parseMLmodel(text(files, 'MLmodel')).saved_input_example_info?.type, 'json_object');
  const sig = { inputs: { kind: 'columns' as const, columns: ['a', 'b', 'c', 'd'].map((name) => ({ name, type: 'double' as const })) } };
  const withSig = await buildOnnxModelPackage({ inspect: inspectOnnx, onnx: tm.linearModel(), signature: sig });
  // written as MLflow 2.8+ writes columns: required: true when not said otherwise
  assert.deepEqual(parseMLmodel(text(withSig, 'MLmodel')).signature?.inputs, {
    kind: 'columns',
    columns: sig.inputs.columns.map((c) => ({ ...c, required: true })),
  });
  assert.equal(withSig.some((f) => f.path === 'input_example.json'), false);
  await assert.rejects(
    buildOnnxModelPackage({ inspect: inspectOnnx, onnx: tm.linearModel(), signature: { inputs: { kind: 'tensors', tensors: [{ name: 'x', dtype: 'int64', shape: [-1, 4] }] } } }),
    /the signature does not match the ONNX model: input x: signature dtype int64 does not match the model's float32/,
  );
  await assert.rejects(buildOnnxModelPackage({ inspect: inspectOnnx, onnx: tm.notOnnxBytes() }), /^KilnError: not an ONNX model/);
  await assert.rejects(buildOnnxModelPackage({ inspect: inspectOnnx, onnx: tm.linearModel(), pipRequirements: ['a\nb'] }), /each requirement is one non-empty line/);
});
