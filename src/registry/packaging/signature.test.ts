import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspectOnnx } from './onnx-inspect.js';
import { parseMLmodel, writeMLmodel, type Signature, type TensorSpec, type ColumnSpec } from './mlmodel.js';
import { checkOnnxAgainstSignature, signatureFromOnnx } from './signature.js';
import * as tm from './test-models.js';

const tensors = (...t: TensorSpec[]): Signature['inputs'] => ({ kind: 'tensors', tensors: t });
const columns = (...c: ColumnSpec[]): Signature['inputs'] => ({ kind: 'columns', columns: c });
const doubles = (n: number): ColumnSpec[] => Array.from({ length: n }, (_, i) => ({ name: `f${i}`, type: 'double' as const }));

test('a matching tensor signature passes; -1 matches symbolic dims', async () => {
  const info = await inspectOnnx(tm.linearModel());
  const r = checkOnnxAgainstSignature(info, {
    inputs: tensors({ name: 'x', dtype: 'float32', shape: [-1, 4] }),
    outputs: tensors({ name: 'y', dtype: 'float32', shape: [-1, 1] }),
  });
  assert.deepEqual(r, { ok: true, problems: [], warnings: [] });
  // unnamed, positional
  assert.equal(checkOnnxAgainstSignature(info, { inputs: tensors({ dtype: 'float32', shape: [-1, 4] }) }).ok, true);
  // no signature at all
  assert.equal(checkOnnxAgainstSignature(info, undefined).ok, true);
});

test('tensor mismatches: name, dtype, rank, fixed dim, missing input', async () => {
  const info = await inspectOnnx(tm.linearModel());
  const name = checkOnnxAgainstSignature(info, { inputs: tensors({ name: 'features', dtype: 'float32', shape: [-1, 4] }) });
  assert.deepEqual(name.problems, ['signature input features is not a model input (model inputs: x)', 'model input x is missing from the signature inputs']);
  const dtype = checkOnnxAgainstSignature(info, { inputs: tensors({ name: 'x', dtype: 'float64', shape: [-1, 4] }) });
  assert.deepEqual(dtype.problems, ['input x: signature dtype float64 does not match the model\'s float32']);
  const rank = checkOnnxAgainstSignature(info, { inputs: tensors({ name: 'x', dtype: 'float32', shape: [-1, 2, 2] }) });
  assert.deepEqual(rank.problems, ['input x: signature shape [-1, 2, 2] has rank 3 but the model\'s [N, 4] has rank 2']);
  const dim = checkOnnxAgainstSignature(info, { inputs: tensors({ name: 'x', dtype: 'float32', shape: [-1, 5] }) });
  assert.deepEqual(dim.problems, ['input x: dimension 1 is 5 in the signature but 4 in the model ([-1, 5] vs [N, 4])']);
  const out = checkOnnxAgainstSignature(info, { outputs: tensors({ name: 'y', dtype: 'int64', shape: [-1] }) });
  assert.equal(out.ok, false);
  assert.equal(out.problems.length, 2);
  const count = checkOnnxAgainstSignature(await inspectOnnx(tm.addModel()), { inputs: tensors({ dtype: 'float32', shape: [-1, 3] }) });
  assert.deepEqual(count.problems, ['signature has 1 unnamed input tensor(s) but the model has 2 input(s)']);
});

test('a fixed model batch under a variable signature dim is a warning, not a problem', async () => {
  const info = await inspectOnnx(tm.linearModel({ batch: 1 }));
  const r = checkOnnxAgainstSignature(info, { inputs: tensors({ name: 'x', dtype: 'float32', shape: [-1, 4] }) });
  assert.equal(r.ok, true);
  assert.deepEqual(r.warnings, ['input x: dimension 0 is variable in the signature but fixed to 1 in the model']);
});

test('string, int and bool dtypes match their numpy names', async () => {
  const i64 = await inspectOnnx(tm.int64Model());
  assert.equal(checkOnnxAgainstSignature(i64, { inputs: tensors({ name: 'ids', dtype: 'int64', shape: [-1, 8] }) }).ok, true);
  assert.equal(checkOnnxAgainstSignature(i64, { inputs: tensors({ name: 'ids', dtype: 'int32', shape: [-1, 8] }) }).ok, false);
  const str = await inspectOnnx(tm.stringModel());
  assert.deepEqual(str.inputs, [{ name: 'text', type: 'string', shape: ['N'] }]);
  for (const dtype of ['str', 'object', 'str160']) {
    assert.equal(checkOnnxAgainstSignature(str, { inputs: tensors({ name: 'text', dtype, shape: [-1] }) }).ok, true, dtype);
  }
  assert.equal(checkOnnxAgainstSignature(str, { inputs: tensors({ name: 'text', dtype: 'bool', shape: [-1] }) }).ok, false);
  assert.deepEqual(signatureFromOnnx(str).inputs, { kind: 'tensors', tensors: [{ name: 'text', dtype: 'str', shape: [-1] }] });
});

test('column-based signature against one 2-D input: column count and types', async () => {
  const info = await inspectOnnx(tm.linearModel());
  assert.deepEqual(checkOnnxAgainstSignature(info, { inputs: columns(...doubles(4)) }).problems, []);
  assert.deepEqual(checkOnnxAgainstSignature(info, { inputs: columns(...doubles(3)) }).problems, [
    'signature has 3 column(s) but model input x takes 4 (shape [N, 4])',
  ]);
  assert.deepEqual(
    checkOnnxAgainstSignature(info, { inputs: columns(...doubles(3), { name: 'city', type: 'string' }) }).problems,
    ['column(s) city (string) cannot be fed to model input x of type float32'],
  );
  // the real sklearn MLmodel's iris signature fits a 4-feature float model
  const sk = parseMLmodel(tm.SKLEARN_MLMODEL).signature;
  assert.equal(checkOnnxAgainstSignature(info, sk ? { inputs: sk.inputs } : undefined).ok, true);
  const i64 = await inspectOnnx(tm.int64Model());
  assert.match(checkOnnxAgainstSignature(i64, { inputs: columns(...doubles(8)) }).problems[0] ?? '', /cannot be fed to model input ids of type int64/);
});

test('column-based signature against several inputs maps columns by name', async () => {
  const info = await inspectOnnx(tm.addModel());
  assert.equal(checkOnnxAgainstSignature(info, { inputs: columns({ name: 'a', type: 'float' }, { name: 'b', type: 'double' }) }).ok, true);
  assert.deepEqual(checkOnnxAgainstSignature(info, { inputs: columns({ name: 'a', type: 'float' }) }).problems, [
    'model input b has no column of that name in the signature',
  ]);
});

test('signatureFromOnnx writes what infer_signature would: named tensors, -1 for variable dims', async () => {
  const sig = signatureFromOnnx(await inspectOnnx(tm.linearModel({ inputs: 3, outputs: 2 })));
  assert.deepEqual(sig, {
    inputs: { kind: 'tensors', tensors: [{ name: 'x', dtype: 'float32', shape: [-1, 3] }] },
    outputs: { kind: 'tensors', tensors: [{ name: 'y', dtype: 'float32', shape: [-1, 2] }] },
  });
  const text = writeMLmodel({ flavors: { onnx: {} }, signature: sig, extra: {} });
  assert.match(text, /inputs: '\[\{"name": "x", "type": "tensor", "tensor-spec": \{"dtype": "float32", "shape": \[-1, 3\]\}\}\]'/);
  const i64 = signatureFromOnnx(await inspectOnnx(tm.int64Model()));
  assert.deepEqual(i64.inputs, { kind: 'tensors', tensors: [{ name: 'ids', dtype: 'int64', shape: [-1, 8] }] });
  // a derived signature always passes its own model
  assert.equal(checkOnnxAgainstSignature(await inspectOnnx(tm.int64Model()), i64).ok, true);
});
