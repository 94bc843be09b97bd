import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KilnError } from '../../platform/errors.js';
import type { Tensor } from '../tensor.js';
import { invocationResponse, parseInvocation, parseInvocationRequest, type ScoringModel } from './mlflow-scoring.js';

const JSON_TYPE = 'application/json';
const refuses = (fn: () => unknown, message: RegExp, code?: string) =>
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof KilnError, String(e));
    if (code) assert.equal(e.code, code);
    else assert.equal(e.status, 400);
    assert.match(e.message, message);
    return true;
  });
const json = (body: unknown, model: ScoringModel) => parseInvocation(JSON.stringify(body), JSON_TYPE, model);
const shapeData = (ts: Tensor[]) => ts.map((t) => [t.name, t.type, t.dims, t.data]);

const iris: ScoringModel = { inputs: [{ name: 'float_input', type: 'float32', shape: [null, 4] }] };
const irisSigned: ScoringModel = {
  ...iris,
  signature: { inputs: { kind: 'columns', columns: ['a', 'b', 'c', 'd'].map((name) => ({ name, type: 'double' as const })) } },
};
const two: ScoringModel = {
  inputs: [
    { name: 'age', type: 'int64', shape: ['N', 1] },
    { name: 'city', type: 'string', shape: ['N'] },
  ],
};
const irisRows = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]);

describe('MLflow scoring: JSON payloads', () => {
  it('stacks dataframe_split columns for a one-input model, in the payload order without a signature', () => {
    const body = { dataframe_split: { columns: ['d', 'c', 'b', 'a'], data: [[1, 2, 3, 4], [5, 6, 7, 8]], index: [0, 1] }, params: { k: 1 } };
    assert.deepEqual(shapeData(json(body, iris)), [['float_input', 'float32', [2, 4], irisRows]]);
    assert.deepEqual(shapeData(json({ dataframe_split: { data: [[1, 2, 3, 4], [5, 6, 7, 8]] } }, iris)), [['float_input', 'float32', [2, 4], irisRows]]);
  });

  it("orders columns by the signature, drops extra ones and names missing ones", () => {
    const body = { dataframe_split: { columns: ['extra', 'd', 'c', 'b', 'a'], data: [['x', 4, 3, 2, 1]] } };
    assert.deepEqual(shapeData(json(body, irisSigned)), [['float_input', 'float32', [1, 4], new Float32Array([1, 2, 3, 4])]]);
    refuses(() => json({ dataframe_split: { columns: ['a', 'b', 'z'], data: [[1, 2, 3]] } }, irisSigned), /Model is missing inputs \['c', 'd'\]. Note that there were extra inputs: \['z'\]/);
  });

  it('reads dataframe_records', () => {
    const body = { dataframe_records: [{ a: 1, b: 2, c: 3, d: 4 }, { d: 8, c: 7, b: 6, a: 5 }] };
    assert.deepEqual(shapeData(json(body, irisSigned)), [['float_input', 'float32', [2, 4], irisRows]]);
    assert.deepEqual(json(body, iris)[0]!.data, irisRows);
    refuses(() => json({ dataframe_records: [{ a: 1 }, { b: 2 }] }, iris), /'dataframe_records\[1\]' has no value for the column 'a'/);
  });

  it('reads instances and inputs as an unnamed tensor for a one-input model', () => {
    assert.deepEqual(shapeData(json({ instances: [[1, 2, 3, 4], [5, 6, 7, 8]] }, iris)), [['float_input', 'float32', [2, 4], irisRows]]);
    assert.deepEqual(shapeData(json({ inputs: [[1, 2, 3, 4], [5, 6, 7, 8]] }, iris)), [['float_input', 'float32', [2, 4], irisRows]]);
    const img: ScoringModel = { inputs: [{ name: 'img', type: 'uint8', shape: [null, 2, 2] }] };
    assert.deepEqual(shapeData(json({ inputs: [[[1, 2], [3, 4]]] }, img)), [['img', 'uint8', [1, 2, 2], new Uint8Array([1, 2, 3, 4])]]);
    refuses(() => json({ inputs: [[1, 2], [3]] }, iris), /input 'float_input': data\[1\] has 1 values but shape \[2, 2\] needs 2/);
    refuses(() => json({ instances: [[1, 2]] }, two), /The model takes 2 inputs \['age', 'city'\]: send them by name/);
  });

  it('maps named tensors by name, and instances given as rows of named values', () => {
    const expected = [
      ['age', 'int64', [2, 1], new BigInt64Array([30n, 40n])],
      ['city', 'string', [2], ['Oslo', 'Lyon']],
    ];
    assert.deepEqual(shapeData(json({ inputs: { city: ['Oslo', 'Lyon'], age: [[30], [40]], ignored: [1] } }, two)), expected);
    assert.deepEqual(shapeData(json({ instances: [{ age: 30, city: 'Oslo' }, { age: 40, city: 'Lyon' }] }, two)), expected);
    assert.deepEqual(shapeData(json({ instances: { age: [[30], [40]], city: ['Oslo', 'Lyon'] } }, two)), expected);
    refuses(() => json({ inputs: { age: [[30]] } }, two), /Model is missing inputs \['city'\]/);
    const scalar: ScoringModel = { inputs: [{ name: 't', type: 'float64', shape: [] }] };
    assert.deepEqual(shapeData(json({ inputs: { t: 0.5 } }, scalar)), [['t', 'float64', [], new Float64Array([0.5])]]);
    refuses(() => json({ instances: [{ age: 30, city: 'Oslo' }, { age: 40 }] }, two), /'instances\[1\]' has no value for 'city'/);
  });

  it('maps columns named after the inputs of a several-input model', () => {
    const body = { dataframe_split: { columns: ['city', 'age', 'other'], data: [['Oslo', 30, 0], ['Lyon', 40, 1]] } };
    assert.deepEqual(shapeData(json(body, two)), [
      ['age', 'int64', [2, 1], new BigInt64Array([30n, 40n])],
      ['city', 'string', [2], ['Oslo', 'Lyon']],
    ]);
    refuses(() => json({ dataframe_split: { columns: ['age'], data: [[1]] } }, two), /Model is missing inputs \['city'\]/);
    refuses(() => json({ dataframe_split: { data: [[1, 'a']] } }, two), /name the columns after them/);
  });

  it('treats named values that are not the inputs of a one-input model as its columns', () => {
    assert.deepEqual(shapeData(json({ inputs: { a: [1, 5], b: [2, 6], c: [3, 7], d: [4, 8] } }, irisSigned)), [['float_input', 'float32', [2, 4], irisRows]]);
    assert.deepEqual(shapeData(json({ instances: [{ a: 1, b: 2, c: 3, d: 4 }] }, iris)), [['float_input', 'float32', [1, 4], new Float32Array([1, 2, 3, 4])]]);
    refuses(() => json({ inputs: { a: [1, 5], b: [2] } }, iris), /All columns must have the same length/);
  });

  it('takes a column of arrays as a tensor per row', () => {
    const body = { dataframe_split: { columns: ['float_input'], data: [[[1, 2, 3, 4]], [[5, 6, 7, 8]]] } };
    assert.deepEqual(shapeData(json(body, iris)), [['float_input', 'float32', [2, 4], irisRows]]);
  });

  it('checks values against the input type, naming row and column', () => {
    refuses(() => json({ dataframe_split: { columns: ['a', 'b'], data: [[1, 2], [3, 'x']] } }, iris), /input 'float_input': row 1, column 'b' is "x", expected a finite number/);
    refuses(() => json({ inputs: { age: [[1.5]], city: ['x'] } }, two), /input 'age': element 0 is 1.5, expected an integer/);
    refuses(() => json({ inputs: { age: [[1]], city: [1] } }, two), /input 'city': element 0 is 1, expected a string/);
    refuses(() => json({ instances: [['NaN', 1, 2, 3]] }, iris), /non-finite values/);
    const seq: ScoringModel = { inputs: [{ name: 's', type: 'sequence', shape: [] }] };
    refuses(() => json({ inputs: [1] }, seq), /input 's' is a sequence/);
  });

  it('refuses payloads that are not MLflow 2 scoring requests', () => {
    refuses(() => json({ data: [1] }, iris), /exactly one of the input fields \{'dataframe_split', 'dataframe_records', 'instances', 'inputs'\}. Received dictionary with input fields: \['data'\]/, 'BAD_REQUEST');
    refuses(() => json({ instances: [1], inputs: [1] }, iris), /exactly one of the input fields/);
    refuses(() => json([1, 2], iris), /exactly one of the input fields.*Received \[1,2\]/);
    refuses(() => parseInvocation('{', JSON_TYPE, iris), /Ensure the input is valid JSON/, 'BAD_REQUEST');
    refuses(() => json({ dataframe_split: [[1]] }, iris), /'dataframe_split' must be a dictionary with 'data'/);
    refuses(() => json({ dataframe_split: { columns: ['a', 'a'], data: [] } }, iris), /column 'a' more than once/);
    refuses(() => json({ dataframe_split: { columns: ['a', 'b'], data: [[1]] } }, iris), /'dataframe_split.data\[0\]' must be a list of 2 values/);
    refuses(() => json({ dataframe_records: { a: 1 } }, iris), /'dataframe_records' must be a list of records/);
    refuses(() => json({ inputs: 5 }, iris), /'inputs' must be a list or a dictionary/);
    refuses(() => parseInvocation('{}', 'text/plain', iris), /only supports the following content types/, 'UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('MLflow scoring: CSV', () => {
  const csv = (text: string, model: ScoringModel) => parseInvocation(Buffer.from(text), 'text/csv; charset=utf-8', model);

  it('reads a header and numeric cells, in the payload order without a signature', () => {
    assert.deepEqual(shapeData(csv('a,b,c,d\n1,2,3,4\n5,6,7,8\n', iris)), [['float_input', 'float32', [2, 4], irisRows]]);
    assert.deepEqual(shapeData(csv('\uFEFFa,b,c,d\r\n1,2,3,4\r\n\r\n5,6,7,8', iris)), [['float_input', 'float32', [2, 4], irisRows]]);
  });

  it('orders columns by the signature and drops extra ones', () => {
    assert.deepEqual(csv('note,d,c,b,a\n"x, y",4,3,2,1\n', irisSigned)[0]!.data, new Float32Array([1, 2, 3, 4]));
    refuses(() => csv('a,b,c\n1,2,3\n', irisSigned), /Model is missing inputs \['d'\]/);
  });

  it('reads cells as the input types of a several-input model', () => {
    const model: ScoringModel = {
      inputs: [
        { name: 'id', type: 'int64', shape: [-1] },
        { name: 'ok', type: 'bool', shape: [-1, 1] },
        { name: 'name', type: 'string', shape: [-1] },
      ],
    };
    assert.deepEqual(shapeData(csv('name,ok,id\n 007 ,True,9007199254740993\nzoë,0,-2\n', model)), [
      ['id', 'int64', [2], new BigInt64Array([2n ** 53n + 1n, -2n])],
      ['ok', 'bool', [2, 1], new Uint8Array([1, 0])],
      ['name', 'string', [2], [' 007 ', 'zoë']],
    ]);
    refuses(() => csv('name,ok,id\na,maybe,1\n', model), /column 'ok': element 0 is "maybe", expected true, false, 0 or 1/);
  });

  it('refuses malformed CSV', () => {
    refuses(() => csv('', iris), /The CSV body is empty/);
    assert.deepEqual(shapeData(csv('x\n1\n2\n', { inputs: [{ name: 'x', type: 'float64', shape: [null] }] })), [['x', 'float64', [2], new Float64Array([1, 2])]]);
    refuses(() => csv('a,b\n"1,2\n', iris), /could not be parsed \(record 2, the header being record 1\): Quoted field unterminated/);
    refuses(() => csv('a,b\n1,2,3\n', iris), /CSV record 2 \(the header being record 1\) has 3 fields but the header has 2 columns/);
    refuses(() => csv('a,b\n1,x\n', iris), /row 0, column 'b' is "x"/);
    refuses(() => csv('a,a\n1,2\n', iris), /column 'a' more than once/);
  });
});

describe('MLflow scoring: responses', () => {
  const col: Tensor = { name: 'variable', type: 'float32', dims: [3, 1], data: new Float32Array([0.5, NaN, 2]) };
  const label: Tensor = { name: 'label', type: 'int64', dims: [3], data: new BigInt64Array([1n, 0n, 2n]) };

  it('answers array input as the ONNX flavor does: a dict of outputs, each as nested lists', () => {
    assert.deepEqual(invocationResponse([col]), { predictions: { variable: [[0.5], [null], [2]] } });
    assert.deepEqual(invocationResponse([label, col]), { predictions: { label: [1, 0, 2], variable: [[0.5], [null], [2]] } });
    assert.deepEqual(invocationResponse([{ name: 's', type: 'string', dims: [], data: ['x'] }]), { predictions: { s: 'x' } });
    assert.deepEqual(invocationResponse([{ name: 'b', type: 'bool', dims: [1, 2, 2], data: new Uint8Array([1, 0, 0, 1]) }]), { predictions: { b: [[[true, false], [false, true]]] } });
  });

  it('answers DataFrame input as records, each output flattened per row', () => {
    assert.deepEqual(invocationResponse([label, col], true), { predictions: [{ label: 1, variable: 0.5 }, { label: 0, variable: null }, { label: 2, variable: 2 }] });
    const probs: Tensor = { name: 'p', type: 'float32', dims: [2, 2], data: new Float32Array([0.25, 0.75, 0.5, 0.5]) };
    assert.deepEqual(invocationResponse([probs], true), { predictions: [{ p: [0.25, 0.75] }, { p: [0.5, 0.5] }] });
  });

  it('tells DataFrame requests from array requests as MLflow does, by payload and signature', () => {
    const tensors = { ...iris, signature: { inputs: { kind: 'tensors' as const, tensors: [] } } };
    const columns = { ...iris, signature: { inputs: { kind: 'columns' as const, columns: [] } } };
    const none = { inputs: iris.inputs };
    const table = (body: string, model: ScoringModel, type = JSON_TYPE) => parseInvocationRequest(body, type, model).table;
    const split = '{"dataframe_split": {"columns": ["a", "b", "c", "d"], "data": [[1, 2, 3, 4]]}}';
    const inputs = '{"inputs": [[1, 2, 3, 4]]}';
    assert.equal(table(split, none), true);
    assert.equal(table(split, columns), true);
    assert.equal(table(split, tensors), false);
    assert.equal(table('{"dataframe_records": [{"a": 1, "b": 2, "c": 3, "d": 4}]}', none), true);
    assert.equal(table('a,b,c,d\n1,2,3,4\n', none, 'text/csv'), true);
    assert.equal(table('a,b,c,d\n1,2,3,4\n', tensors, 'text/csv'), false);
    assert.equal(table(inputs, none), false);
    assert.equal(table(inputs, columns), true);
  });

  it('round-trips a request through a response', () => {
    const [t] = json({ instances: [[1, 2, 3, 4], [5, 6, 7, 8]] }, iris);
    assert.deepEqual(invocationResponse([t!]), { predictions: { [t!.name]: [[1, 2, 3, 4], [5, 6, 7, 8]] } });
  });
});
