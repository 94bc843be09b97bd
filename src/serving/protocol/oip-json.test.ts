import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KilnError } from '../../platform/errors.js';
import type { Tensor } from '../tensor.js';
import { inferResponseJson, parseInferRequest } from './oip-json.js';

const one = (datatype: string, shape: number[], data: unknown) => ({ inputs: [{ name: 'x', datatype, shape, data }] });
const parse1 = (datatype: string, shape: number[], data: unknown): Tensor => parseInferRequest(one(datatype, shape, data)).inputs[0]!;
/** Asserts a 400 whose message matches. */
const refuses = (fn: () => unknown, message: RegExp, code = 'INVALID_PARAMETER_VALUE') =>
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof KilnError, String(e));
    assert.equal(e.code, code);
    assert.match(e.message, message);
    return true;
  });

describe('OIP JSON requests', () => {
  it('parses a request with id, parameters, outputs and binary flags', () => {
    const r = parseInferRequest({
      id: '42',
      parameters: { binary_data_output: true, priority: 2, tag: 'a' },
      inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2], data: [1, 2, 3, 4] }],
      outputs: [{ name: 'y', parameters: { binary_data: false } }, { name: 'z' }],
    });
    assert.equal(r.id, '42');
    assert.deepEqual(r.parameters, { binary_data_output: true, priority: 2, tag: 'a' });
    assert.equal(r.binaryDataOutput, true);
    assert.deepEqual(r.outputs, [{ name: 'y', binaryData: false }, { name: 'z' }]);
    assert.deepEqual(r.inputs[0], { name: 'x', type: 'float32', dims: [2, 2], data: new Float32Array([1, 2, 3, 4]) });
    const plain = parseInferRequest(one('FP32', [1], [1]));
    assert.equal(plain.outputs, undefined);
    assert.equal(plain.binaryDataOutput, undefined);
    assert.deepEqual(plain.parameters, {});
  });

  it('converts every datatype', () => {
    assert.deepEqual(parse1('BOOL', [4], [true, false, 1, 0]).data, new Uint8Array([1, 0, 1, 0]));
    assert.deepEqual(parse1('UINT8', [2], [0, 255]).data, new Uint8Array([0, 255]));
    assert.deepEqual(parse1('INT8', [2], [-128, 127]).data, new Int8Array([-128, 127]));
    assert.deepEqual(parse1('UINT16', [2], [0, 65535]).data, new Uint16Array([0, 65535]));
    assert.deepEqual(parse1('INT16', [2], [-32768, 32767]).data, new Int16Array([-32768, 32767]));
    assert.deepEqual(parse1('UINT32', [2], [0, 4294967295]).data, new Uint32Array([0, 4294967295]));
    assert.deepEqual(parse1('INT32', [2], [-2147483648, 2147483647]).data, new Int32Array([-2147483648, 2147483647]));
    assert.deepEqual(parse1('INT64', [3], [-1, 2 ** 53 - 1, '-9223372036854775808']).data, new BigInt64Array([-1n, 2n ** 53n - 1n, -(2n ** 63n)]));
    assert.deepEqual(parse1('UINT64', [2], [0, '18446744073709551615']).data, new BigUint64Array([0n, 2n ** 64n - 1n]));
    assert.deepEqual(parse1('FP16', [3], [1, 65504, -0.5]).data, new Uint16Array([0x3c00, 0x7bff, 0xb800]));
    assert.deepEqual(parse1('FP32', [2], [0.1, -3e38]).data, new Float32Array([0.1, -3e38]));
    assert.deepEqual(parse1('FP64', [2], [0.1, 1e300]).data, new Float64Array([0.1, 1e300]));
    assert.deepEqual(parse1('BYTES', [3], ['', 'héllo', '🔥 שלום \u0000']).data, ['', 'héllo', '🔥 שלום \u0000']);
    assert.deepEqual(parse1('FP32', [0, 3], []).data, new Float32Array(0));
    assert.deepEqual(parse1('INT32', [], [7]).data, new Int32Array([7]));
  });

  it('accepts nested data that matches the shape, at any depth', () => {
    const flat = new Int32Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    assert.deepEqual(parse1('INT32', [2, 3, 2], [[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10], [11, 12]]]).data, flat);
    assert.deepEqual(parse1('INT32', [2, 3, 2], [[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]]).data, flat);
    assert.deepEqual(parse1('INT32', [2, 3, 2], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]).data, flat);
    assert.deepEqual(parse1('BYTES', [2, 1], [['a'], ['b']]).data, ['a', 'b']);
  });

  it('refuses data that does not match the shape', () => {
    refuses(() => parse1('FP32', [2, 3], [1, 2, 3, 4, 5]), /input 'x': shape \[2, 3\] holds 6 values but data has 5/);
    refuses(() => parse1('FP32', [2, 3], [[1, 2, 3], [4, 5]]), /input 'x': data\[1\] has 2 values but shape \[2, 3\] needs 3/);
    refuses(() => parse1('FP32', [2, 2], [[1, 2], 3]), /data\[1\] is 3 where an array was expected/);
    refuses(() => parse1('FP32', [2, 2], [[1, [2]], [3, 4]]), /element 1 is \[2\], expected a finite number/);
    refuses(() => parse1('BYTES', [1, 1], [[['a']]]), /nested 3 deep/);
    refuses(() => parse1('BYTES', [1, 2], [['a', ['b']]]), /element 1 is \["b"\], expected a string/);
    refuses(() => parse1('FP32', [2], [[1], [2]]), /nested 2 deep but shape \[2\] has 1 dimensions/);
    refuses(() => parse1('FP32', [3, 2], [[1, 2], [3, 4]]), /data has 2 values but shape \[3, 2\] needs 3/);
    refuses(() => parse1('FP32', [1], 5), /data must be an array/);
    refuses(() => parseInferRequest({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1] }] }), /input 'x' has no data/);
  });

  it('refuses values outside the datatype', () => {
    refuses(() => parse1('INT32', [2], [1, 1.5]), /input 'x': element 1 is 1.5, expected an integer in \[-2147483648, 2147483647\] \(INT32\)/);
    refuses(() => parse1('UINT8', [1], [256]), /element 0 is 256, expected an integer in \[0, 255\] \(UINT8\)/);
    refuses(() => parse1('INT8', [1], [-129]), /\(INT8\)/);
    refuses(() => parse1('UINT16', [1], [-1]), /\(UINT16\)/);
    refuses(() => parse1('INT16', [1], ['1']), /element 0 is "1", expected an integer/);
    refuses(() => parse1('UINT32', [1], [2 ** 32]), /\(UINT32\)/);
    refuses(() => parse1('BOOL', [1], ['true']), /expected true, false, 0 or 1 \(BOOL\)/);
    refuses(() => parse1('BOOL', [1], [2]), /BOOL/);
    refuses(() => parse1('BYTES', [1], [1]), /expected a string \(BYTES\)/);
    refuses(() => parse1('FP32', [1], [null]), /element 0 is null, expected a finite number/);
    refuses(() => parse1('FP32', [1], [1e39]), /FP32 range/);
    refuses(() => parse1('FP16', [1], [65520]), /FP16 range/);
    refuses(() => parse1('FP64', [1], [true]), /\(FP64\)/);
  });

  it('explains that JSON carries no NaN or Infinity', () => {
    for (const s of ['NaN', 'Infinity', '-inf', ' nan ']) {
      refuses(() => parse1('FP32', [1], [s]), /non-finite values \(NaN, Infinity\) are not accepted in JSON/);
    }
    refuses(() => parse1('FP16', [1], ['NaN']), /non-finite/);
    refuses(() => parse1('FP64', [1], ['Infinity']), /non-finite/);
  });

  it('takes 64-bit integers exactly: safe-integer numbers or decimal strings', () => {
    assert.deepEqual(parse1('INT64', [2], [-(2 ** 53) + 1, '9007199254740993']).data, new BigInt64Array([-(2n ** 53n) + 1n, 2n ** 53n + 1n]));
    refuses(() => parse1('INT64', [1], [2 ** 53]), /element 0 is 9007199254740992, expected .*safe integer.*decimal strings/);
    refuses(() => parse1('INT64', [1], ['9223372036854775808']), /INT64/);
    refuses(() => parse1('UINT64', [1], [-1]), /UINT64/);
    refuses(() => parse1('UINT64', [1], ['18446744073709551616']), /UINT64/);
    refuses(() => parse1('INT64', [1], ['1e3']), /INT64/);
    refuses(() => parse1('INT64', [1], [1.5]), /INT64/);
  });

  it('refuses malformed requests with messages naming the field', () => {
    refuses(() => parseInferRequest(null), /must be a JSON object, got null/);
    refuses(() => parseInferRequest([]), /must be a JSON object/);
    refuses(() => parseInferRequest({}), /'inputs', a non-empty array/);
    refuses(() => parseInferRequest({ inputs: [] }), /'inputs', a non-empty array/);
    refuses(() => parseInferRequest({ inputs: {} }), /'inputs', a non-empty array/);
    refuses(() => parseInferRequest({ inputs: [{ datatype: 'FP32', shape: [1], data: [1] }] }), /inputs\[0\]: name must be a non-empty string/);
    refuses(() => parseInferRequest({ inputs: [{ name: 'x', shape: [1], data: [1] }] }), /input 'x': datatype must be one of BOOL, .*BYTES, got undefined/);
    refuses(() => parseInferRequest(one('FP8', [1], [1])), /datatype must be one of/);
    refuses(() => parseInferRequest(one('FP32', undefined as never, [1])), /input 'x': shape must be an array of non-negative integers/);
    refuses(() => parseInferRequest(one('FP32', [-1], [])), /shape must be an array of non-negative integers, got \[-1\]/);
    refuses(() => parseInferRequest(one('FP32', [1.5], [])), /non-negative integers/);
    refuses(() => parseInferRequest({ inputs: [one('FP32', [1], [1]).inputs[0], one('FP32', [1], [1]).inputs[0]] }), /input 'x' appears more than once/);
    refuses(() => parseInferRequest({ ...one('FP32', [1], [1]), id: 42 }), /id must be a string/);
    refuses(() => parseInferRequest({ ...one('FP32', [1], [1]), parameters: { a: [1] } }), /parameter 'a' must be a string, number or boolean/);
    refuses(() => parseInferRequest({ ...one('FP32', [1], [1]), parameters: { a: null } }), /parameter 'a'/);
    refuses(() => parseInferRequest({ ...one('FP32', [1], [1]), parameters: { binary_data_output: 'yes' } }), /'binary_data_output' must be a boolean/);
    refuses(() => parseInferRequest({ ...one('FP32', [1], [1]), outputs: [{ name: 'y' }, { name: 'y' }] }), /output 'y' appears more than once/);
    refuses(() => parseInferRequest({ ...one('FP32', [1], [1]), outputs: [{}] }), /outputs\[0\] must be an object with a non-empty name/);
    refuses(() => parseInferRequest({ ...one('FP32', [1], [1]), outputs: [{ name: 'y', parameters: { binary_data: 1 } }] }), /output 'y': parameter 'binary_data' must be a boolean/);
    refuses(() => parseInferRequest({ inputs: [{ name: 'x', datatype: 'FP32', shape: [1], parameters: { binary_data_size: 4 } }] }), /binary_data_size but the request has no binary part/);
  });

  it('bounds the element count before allocating', () => {
    refuses(() => parseInferRequest(one('FP32', [100_000, 100_000, 100_000], [])), /more than 10000000 elements/, 'REQUEST_TOO_LARGE');
    refuses(() => parseInferRequest(one('FP32', [11], []), { maxElements: 10 }), /more than 10 elements/, 'REQUEST_TOO_LARGE');
    const two = { inputs: [{ name: 'a', datatype: 'FP32', shape: [6], data: [1, 2, 3, 4, 5, 6] }, { name: 'b', datatype: 'FP32', shape: [6], data: [1, 2, 3, 4, 5, 6] }] };
    refuses(() => parseInferRequest(two, { maxElements: 10 }), /input 'b'.*more than 10/, 'REQUEST_TOO_LARGE');
    assert.equal(parseInferRequest(one('FP32', [0, 2 ** 40], []), { maxElements: 10 }).inputs[0]!.data.length, 0);
  });
});

describe('OIP JSON responses', () => {
  it('emits model, version, id, parameters and flat outputs of every datatype', () => {
    const outputs: Tensor[] = [
      { name: 'b', type: 'bool', dims: [2], data: new Uint8Array([1, 0]) },
      { name: 'u8', type: 'uint8', dims: [1], data: new Uint8Array([255]) },
      { name: 'i8', type: 'int8', dims: [1], data: new Int8Array([-1]) },
      { name: 'u16', type: 'uint16', dims: [1], data: new Uint16Array([65535]) },
      { name: 'i16', type: 'int16', dims: [1], data: new Int16Array([-2]) },
      { name: 'u32', type: 'uint32', dims: [1], data: new Uint32Array([4294967295]) },
      { name: 'i32', type: 'int32', dims: [1], data: new Int32Array([-3]) },
      { name: 'i64', type: 'int64', dims: [2], data: new BigInt64Array([-4n, 2n ** 60n]) },
      { name: 'u64', type: 'uint64', dims: [1], data: new BigUint64Array([5n]) },
      { name: 'f16', type: 'float16', dims: [3], data: new Uint16Array([0x3c00, 0x7c00, 0x7e00]) },
      { name: 'f32', type: 'float32', dims: [2, 2], data: new Float32Array([0.5, NaN, -Infinity, 2]) },
      { name: 'f64', type: 'float64', dims: [1], data: new Float64Array([0.1]) },
      { name: 's', type: 'string', dims: [2], data: ['a', '🔥'] },
    ];
    const r = inferResponseJson({ modelName: 'm', modelVersion: '3', id: '42', parameters: { p: 1 }, outputs });
    assert.deepEqual(Object.keys(r), ['model_name', 'model_version', 'id', 'parameters', 'outputs']);
    assert.deepEqual(
      r.outputs.map((o) => [o.name, o.datatype, o.shape, o.data]),
      [
        ['b', 'BOOL', [2], [true, false]],
        ['u8', 'UINT8', [1], [255]],
        ['i8', 'INT8', [1], [-1]],
        ['u16', 'UINT16', [1], [65535]],
        ['i16', 'INT16', [1], [-2]],
        ['u32', 'UINT32', [1], [4294967295]],
        ['i32', 'INT32', [1], [-3]],
        ['i64', 'INT64', [2], [-4, 2 ** 60]],
        ['u64', 'UINT64', [1], [5]],
        ['f16', 'FP16', [3], [1, null, null]],
        ['f32', 'FP32', [2, 2], [0.5, null, null, 2]],
        ['f64', 'FP64', [1], [0.1]],
        ['s', 'BYTES', [2], ['a', '🔥']],
      ],
    );
    assert.doesNotThrow(() => JSON.parse(JSON.stringify(r)));
    assert.deepEqual(inferResponseJson({ modelName: 'm', outputs: [] }), { model_name: 'm', outputs: [] });
  });

  it('round-trips every datatype through a request', () => {
    const cases: [string, unknown[]][] = [
      ['BOOL', [true, false]],
      ['UINT8', [0, 200]],
      ['INT8', [-5, 5]],
      ['UINT16', [60000, 1]],
      ['INT16', [-30000, 2]],
      ['UINT32', [4000000000, 3]],
      ['INT32', [-2000000000, 4]],
      ['INT64', [-(2 ** 53) + 1, 2 ** 53 - 1]],
      ['UINT64', [0, 2 ** 53 - 1]],
      ['FP16', [0.0999755859375, -65504]],
      ['FP32', [0.5, -1.25]],
      ['FP64', [0.1, -1e-300]],
      ['BYTES', ['x', 'ℝ²']],
    ];
    for (const [datatype, data] of cases) {
      const t = parse1(datatype, [2], data);
      const out = inferResponseJson({ modelName: 'm', outputs: [t] }).outputs[0]!;
      assert.deepEqual([out.datatype, out.shape, out.data], [datatype, [2], data], datatype);
    }
  });
});
