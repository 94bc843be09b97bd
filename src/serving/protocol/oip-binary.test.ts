import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KilnError } from '../../platform/errors.js';
import type { Tensor } from '../tensor.js';
import { binaryWanted, encodeTensor, headerLengthOf, inferRequestBinary, inferResponseBinary, parseBinaryInferRequest, wantsBinary } from './oip-binary.js';

const refuses = (fn: () => unknown, message: RegExp) =>
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof KilnError, String(e));
    assert.equal(e.status, 400);
    assert.match(e.message, message);
    return true;
  });

const every: Tensor[] = [
  { name: 'b', type: 'bool', dims: [3], data: new Uint8Array([1, 0, 1]) },
  { name: 'u8', type: 'uint8', dims: [2], data: new Uint8Array([0, 255]) },
  { name: 'i8', type: 'int8', dims: [2], data: new Int8Array([-128, 127]) },
  { name: 'u16', type: 'uint16', dims: [2], data: new Uint16Array([1, 65535]) },
  { name: 'i16', type: 'int16', dims: [2], data: new Int16Array([-32768, 2]) },
  { name: 'u32', type: 'uint32', dims: [1], data: new Uint32Array([4294967295]) },
  { name: 'i32', type: 'int32', dims: [2, 1], data: new Int32Array([-7, 7]) },
  { name: 'i64', type: 'int64', dims: [2], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]) },
  { name: 'u64', type: 'uint64', dims: [1], data: new BigUint64Array([2n ** 64n - 1n]) },
  { name: 'f16', type: 'float16', dims: [2], data: new Uint16Array([0x3c00, 0x7e00]) },
  { name: 'f32', type: 'float32', dims: [2, 2], data: new Float32Array([0.1, NaN, Infinity, -0]) },
  { name: 'f64', type: 'float64', dims: [1], data: new Float64Array([Math.PI]) },
  { name: 's', type: 'string', dims: [4], data: ['', 'a', 'é🔥', 'x\u0000y'] },
  { name: 'empty', type: 'float32', dims: [0, 4], data: new Float32Array(0) },
];

/** A body built by hand: JSON header then raw parts. */
function body(header: unknown, ...parts: Buffer[]): { body: Buffer; headerLength: number } {
  const json = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([json, ...parts]), headerLength: json.length };
}
const f32Header = (size: number, shape = [2]) => ({ inputs: [{ name: 'x', datatype: 'FP32', shape, parameters: { binary_data_size: size } }] });

describe('OIP binary tensor data: requests', () => {
  it('round-trips every datatype', () => {
    const { body: b, headerLength } = inferRequestBinary({ id: 'r1', inputs: every, outputs: [{ name: 'y', parameters: { binary_data: true } }] });
    const req = parseBinaryInferRequest(b, headerLength);
    assert.equal(req.id, 'r1');
    assert.deepEqual(req.outputs, [{ name: 'y', binaryData: true }]);
    assert.equal(req.inputs.length, every.length);
    req.inputs.forEach((t, i) => assert.deepEqual(t, every[i], t.name));
  });

  it('lays tensors out little-endian, BOOL a byte each, BYTES with 4-byte lengths', () => {
    assert.deepEqual([...encodeTensor({ name: 'x', type: 'int32', dims: [1], data: new Int32Array([0x01020304]) })], [4, 3, 2, 1]);
    assert.deepEqual([...encodeTensor({ name: 'x', type: 'bool', dims: [2], data: new Uint8Array([1, 0]) })], [1, 0]);
    assert.deepEqual([...encodeTensor({ name: 'x', type: 'string', dims: [2], data: ['ab', 'é'] })], [2, 0, 0, 0, 97, 98, 2, 0, 0, 0, 0xc3, 0xa9]);
    const raw = Buffer.alloc(8);
    raw.writeFloatLE(1.5, 0);
    raw.writeFloatLE(-2, 4);
    const { body: b, headerLength } = body(f32Header(8), raw);
    assert.deepEqual(parseBinaryInferRequest(b, headerLength).inputs[0]!.data, new Float32Array([1.5, -2]));
  });

  it('mixes JSON and binary inputs, binary parts in input order', () => {
    const header = {
      inputs: [
        { name: 'a', datatype: 'INT8', shape: [2], parameters: { binary_data_size: 2 } },
        { name: 'j', datatype: 'INT32', shape: [1], data: [5] },
        { name: 'c', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 6 } },
      ],
    };
    const { body: b, headerLength } = body(header, Buffer.from([0xff, 1]), Buffer.from([2, 0, 0, 0, 104, 105]));
    const req = parseBinaryInferRequest(b, headerLength);
    assert.deepEqual(
      req.inputs.map((t) => [t.name, t.data]),
      [
        ['a', new Int8Array([-1, 1])],
        ['j', new Int32Array([5])],
        ['c', ['hi']],
      ],
    );
  });

  it('refuses sizes that do not fit', () => {
    const eight = Buffer.alloc(8);
    const short = body(f32Header(4), Buffer.alloc(4));
    refuses(() => parseBinaryInferRequest(short.body, short.headerLength), /input 'x': binary_data_size is 4 but shape \[2\] of FP32 takes 8 bytes/);
    const tooShort = body(f32Header(8), Buffer.alloc(5));
    refuses(() => parseBinaryInferRequest(tooShort.body, tooShort.headerLength), /binary_data_size 8 goes past the end of the body: 5 bytes remain/);
    const tooLong = body(f32Header(8), eight, Buffer.alloc(3));
    refuses(() => parseBinaryInferRequest(tooLong.body, tooLong.headerLength), /3 bytes after the binary tensor data that no input's binary_data_size accounts for/);
    const ok = body(f32Header(8), eight);
    refuses(() => parseBinaryInferRequest(ok.body, ok.body.length + 1), /Inference-Header-Content-Length is \d+ but the body has only \d+ bytes/);
    refuses(() => parseBinaryInferRequest(ok.body, -1), /must be a non-negative integer, got -1/);
    refuses(() => parseBinaryInferRequest(ok.body, NaN), /must be a non-negative integer/);
    refuses(() => parseBinaryInferRequest(ok.body, ok.headerLength - 1), /are not a valid JSON inference request/);
    refuses(() => parseBinaryInferRequest(ok.body, 0), /not a valid JSON/);
    const negative = body({ inputs: [{ name: 'x', datatype: 'FP32', shape: [2], parameters: { binary_data_size: -8 } }] }, eight);
    refuses(() => parseBinaryInferRequest(negative.body, negative.headerLength), /binary_data_size must be a non-negative integer, got -8/);
    const both = body({ inputs: [{ name: 'x', datatype: 'FP32', shape: [2], data: [1, 2], parameters: { binary_data_size: 8 } }] }, eight);
    refuses(() => parseBinaryInferRequest(both.body, both.headerLength), /both data and parameters.binary_data_size/);
  });

  it('refuses malformed BYTES and BOOL data', () => {
    const bytes = (size: number, count: number, raw: Buffer) => body({ inputs: [{ name: 's', datatype: 'BYTES', shape: [count], parameters: { binary_data_size: size } }] }, raw);
    let b = bytes(6, 1, Buffer.from([9, 0, 0, 0, 104, 105]));
    refuses(() => parseBinaryInferRequest(b.body, b.headerLength), /input 's': BYTES element 0 claims 9 bytes but only 2 remain/);
    b = bytes(6, 2, Buffer.from([2, 0, 0, 0, 104, 105]));
    refuses(() => parseBinaryInferRequest(b.body, b.headerLength), /BYTES element 1 has no 4-byte length/);
    b = bytes(7, 1, Buffer.from([2, 0, 0, 0, 104, 105, 0]));
    refuses(() => parseBinaryInferRequest(b.body, b.headerLength), /binary_data_size is 7 but its 1 BYTES elements take 6 bytes/);
    b = bytes(5, 1, Buffer.from([1, 0, 0, 0, 0xff]));
    refuses(() => parseBinaryInferRequest(b.body, b.headerLength), /not valid UTF-8/);
    const bool = body({ inputs: [{ name: 'b', datatype: 'BOOL', shape: [2], parameters: { binary_data_size: 2 } }] }, Buffer.from([1, 2]));
    refuses(() => parseBinaryInferRequest(bool.body, bool.headerLength), /input 'b': BOOL element 1 is the byte 2, expected 0 or 1/);
  });

  it('reads the header length from the HTTP header', () => {
    assert.equal(headerLengthOf(undefined), undefined);
    assert.equal(headerLengthOf('120'), 120);
    assert.equal(headerLengthOf(' 0 '), 0);
    refuses(() => headerLengthOf('-1'), /Inference-Header-Content-Length must be one non-negative integer/);
    refuses(() => headerLengthOf('abc'), /non-negative integer/);
    refuses(() => headerLengthOf('1.5'), /non-negative integer/);
    refuses(() => headerLengthOf(''), /non-negative integer/);
    refuses(() => headerLengthOf(['1', '2']), /one non-negative integer/);
  });
});

describe('OIP binary tensor data: responses', () => {
  const outputs: Tensor[] = [
    { name: 'y', type: 'float32', dims: [2], data: new Float32Array([1, 2]) },
    { name: 'label', type: 'string', dims: [1], data: ['cat'] },
  ];

  it('says which outputs travel as binary', () => {
    assert.equal(binaryWanted({}), false);
    assert.equal(binaryWanted({ binaryDataOutput: false, outputs: [{ name: 'y' }] }), false);
    assert.equal(binaryWanted({ outputs: [{ name: 'y', binaryData: true }] }), true);
    assert.equal(wantsBinary({ binaryDataOutput: true }, 'y'), true);
    assert.equal(wantsBinary({ binaryDataOutput: true, outputs: [{ name: 'y', binaryData: false }] }, 'y'), false);
    assert.equal(wantsBinary({ outputs: [{ name: 'y', binaryData: true }] }, 'label'), false);
  });

  it('is plain JSON when no output is binary', () => {
    const r = inferResponseBinary({ modelName: 'm', outputs }, {});
    assert.equal(r.headerLength, undefined);
    assert.deepEqual(JSON.parse(r.body.toString()).outputs[0], { name: 'y', datatype: 'FP32', shape: [2], data: [1, 2] });
  });

  it('appends the binary outputs after the JSON header', () => {
    const r = inferResponseBinary({ modelName: 'm', modelVersion: '1', id: 'q', outputs }, { outputs: [{ name: 'label', binaryData: true }, { name: 'y' }] });
    assert.ok(r.headerLength !== undefined);
    const header = JSON.parse(r.body.subarray(0, r.headerLength).toString());
    assert.deepEqual(header, {
      model_name: 'm',
      model_version: '1',
      id: 'q',
      outputs: [
        { name: 'y', datatype: 'FP32', shape: [2], data: [1, 2] },
        { name: 'label', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 7 } },
      ],
    });
    assert.deepEqual([...r.body.subarray(r.headerLength)], [3, 0, 0, 0, 99, 97, 116]);
  });

  it('round-trips every datatype as binary outputs', () => {
    const r = inferResponseBinary({ modelName: 'm', outputs: every }, { binaryDataOutput: true });
    const header = JSON.parse(r.body.subarray(0, r.headerLength).toString());
    // A response has the request's layout: parse it as one to decode it.
    const asRequest = Buffer.concat([Buffer.from(JSON.stringify({ inputs: header.outputs })), r.body.subarray(r.headerLength)]);
    const decoded = parseBinaryInferRequest(asRequest, asRequest.length - (r.body.length - r.headerLength!));
    decoded.inputs.forEach((t, i) => assert.deepEqual(t, every[i], t.name));
  });
});
