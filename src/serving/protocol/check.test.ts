import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KilnError } from '../../platform/errors.js';
import type { Tensor, TensorSpec } from '../tensor.js';
import { checkInputs, checkSameRows, firstDimDynamic, modelMetadata, rowsOf, selectOutputs } from './check.js';

const refuses = (fn: () => unknown, message: RegExp) =>
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof KilnError, String(e));
    assert.equal(e.code, 'INVALID_PARAMETER_VALUE');
    assert.match(e.message, message);
    return true;
  });

const f32 = (name: string, dims: number[]): Tensor => ({ name, type: 'float32', dims, data: new Float32Array(dims.reduce((a, b) => a * b, 1)) });
const specs: TensorSpec[] = [
  { name: 'x', type: 'float32', shape: ['batch', 4] },
  { name: 'mask', type: 'float32', shape: [null, 3, -1] },
];

describe('checking inputs against the model', () => {
  it('returns the inputs in the model order', () => {
    const x = f32('x', [2, 4]);
    const mask = f32('mask', [2, 3, 9]);
    assert.deepEqual(checkInputs([mask, x], specs), [x, mask]);
  });

  it('names missing and unknown inputs with what the model takes', () => {
    refuses(() => checkInputs([f32('x', [2, 4])], specs), /missing input 'mask': the model takes 'x' \(FP32 \[-1, 4\]\), 'mask' \(FP32 \[-1, 3, -1\]\)/);
    refuses(() => checkInputs([], specs), /missing inputs 'x', 'mask'/);
    refuses(() => checkInputs([f32('x', [2, 4]), f32('mask', [2, 3, 1]), f32('z', [1])], specs), /unknown input 'z': the model takes 'x'/);
  });

  it('refuses another element type, rank or fixed dimension', () => {
    const x64: Tensor = { name: 'x', type: 'int64', dims: [1, 4], data: new BigInt64Array(4) };
    refuses(() => checkInputs([x64, f32('mask', [1, 3, 1])], specs), /input 'x': expected datatype FP32 \(the model's float32\), got INT64/);
    refuses(() => checkInputs([f32('x', [4]), f32('mask', [1, 3, 1])], specs), /input 'x': expected 2 dimensions \(the model's shape \[-1, 4\], -1 for any size\), got shape \[4\]/);
    refuses(() => checkInputs([f32('x', [2, 5]), f32('mask', [2, 3, 1])], specs), /input 'x': dimension 1 must be 4 .*got 5 in shape \[2, 5\]/);
    refuses(() => checkInputs([f32('x', [2, 4]), f32('mask', [2, 2, 1])], specs), /input 'mask': dimension 1 must be 3/);
    const seq: TensorSpec[] = [{ name: 's', type: 'sequence', shape: [] }];
    refuses(() => checkInputs([f32('s', [])], seq), /expected datatype SEQUENCE/);
  });
});

describe('batching', () => {
  it('knows a batchable model', () => {
    assert.equal(firstDimDynamic(specs), true);
    assert.equal(firstDimDynamic([{ name: 'x', type: 'float32', shape: [1, 4] }]), false);
    assert.equal(firstDimDynamic([...specs, { name: 'y', type: 'float32', shape: [] }]), false);
    assert.equal(firstDimDynamic([{ name: 'x', type: 'float32', shape: [-1] }]), true);
    assert.equal(firstDimDynamic([]), false);
  });

  it('counts rows and wants every input to agree', () => {
    assert.equal(rowsOf([f32('x', [3, 4])]), 3);
    assert.equal(checkSameRows([f32('x', [3, 4]), f32('mask', [3, 3, 1])]), 3);
    refuses(() => checkSameRows([f32('x', [3, 4]), f32('mask', [2, 3, 1])]), /inputs disagree on the batch \(first\) dimension: 'x' has 3 rows, 'mask' has 2/);
    refuses(() => checkSameRows([f32('x', [3]), f32('s', [])]), /input 's' is a scalar/);
    refuses(() => rowsOf([f32('s', [])]), /no first \(batch\) dimension/);
    refuses(() => rowsOf([]), /no first/);
  });
});

describe('outputs and metadata', () => {
  const outs: TensorSpec[] = [
    { name: 'label', type: 'int64', shape: ['N'] },
    { name: 'probabilities', type: 'float32', shape: ['N', 3] },
  ];

  it('selects the requested outputs, or all', () => {
    assert.deepEqual(selectOutputs(undefined, outs), ['label', 'probabilities']);
    assert.deepEqual(selectOutputs([], outs), ['label', 'probabilities']);
    assert.deepEqual(selectOutputs([{ name: 'probabilities' }], outs), ['probabilities']);
    assert.deepEqual(selectOutputs([{ name: 'probabilities' }, { name: 'label' }], outs), ['probabilities', 'label']);
    refuses(() => selectOutputs([{ name: 'score' }], outs), /unknown output 'score': the model's outputs are 'label', 'probabilities'/);
  });

  it('describes the model in OIP terms', () => {
    assert.deepEqual(modelMetadata('iris', ['1', '2'], [{ name: 'x', type: 'float32', shape: [null, 4] }, { name: 'n', type: 'string', shape: ['b', -1] }], outs), {
      name: 'iris',
      versions: ['1', '2'],
      platform: 'onnx_onnxv1',
      inputs: [
        { name: 'x', datatype: 'FP32', shape: [-1, 4] },
        { name: 'n', datatype: 'BYTES', shape: [-1, -1] },
      ],
      outputs: [
        { name: 'label', datatype: 'INT64', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
      ],
    });
  });
});
