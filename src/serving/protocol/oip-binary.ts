/**
 * The binary tensor data extension of the OIP REST protocol (Triton's `extension_binary_data.md`): the body is a JSON
 * header of `Inference-Header-Content-Length` bytes followed by the raw tensors of the inputs (or outputs) whose
 * parameters have `binary_data_size`, in their order. Raw tensors are little-endian and row-major without padding;
 * BOOL is one byte (0 or 1) per element; each BYTES element is a 4-byte little-endian length and its bytes.
 */
import { endianness } from 'node:os';
import type { Tensor, TensorData } from '../tensor.js';
import { ELEMENT_TO_OIP, OIP_TO_ELEMENT, elementCount, elementSize, type OipDatatype } from '../tensor.js';
import { outputJson, parseRequestObject, responseHeader, type BinaryInput, type InferRequest, type InferResult, type OutputJson, type ParseOptions, type RequestedOutput } from './oip-json.js';
import { invalid, show } from './values.js';

const BIG_ENDIAN = endianness() === 'BE';
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The header's name, as clients send it (HTTP header names are case-insensitive). */
export const HEADER_LENGTH_HEADER = 'Inference-Header-Content-Length';

/**
 * The JSON header's length from the `Inference-Header-Content-Length` header's value: undefined when the header is
 * absent (a plain JSON body), else a non-negative integer.
 */
export function headerLengthOf(value: string | readonly string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  const v = typeof value === 'string' ? value : value.length === 1 ? value[0] : undefined;
  if (v === undefined || !/^\s*\d{1,15}\s*$/.test(v)) throw invalid(`${HEADER_LENGTH_HEADER} must be one non-negative integer (the JSON header's length in bytes), got ${show(value)}`);
  return Number(v);
}

/** Swaps bytes in place between the wire's little-endian order and the host's, on big-endian hosts. */
function hostOrder(bytes: Buffer, size: number): Buffer {
  if (!BIG_ENDIAN || size === 1) return bytes;
  if (size === 2) return bytes.swap16();
  if (size === 4) return bytes.swap32();
  return bytes.swap64();
}

function decodeBytes(raw: Buffer, count: number, what: string): string[] {
  const out = new Array<string>(count);
  let pos = 0;
  for (let i = 0; i < count; i++) {
    if (pos + 4 > raw.length) throw invalid(`${what}: BYTES element ${i} has no 4-byte length: its binary_data_size (${raw.length}) ends after ${i} of ${count} elements`);
    const len = raw.readUInt32LE(pos);
    pos += 4;
    if (pos + len > raw.length) throw invalid(`${what}: BYTES element ${i} claims ${len} bytes but only ${raw.length - pos} remain in its binary_data_size (${raw.length})`);
    try {
      out[i] = utf8.decode(raw.subarray(pos, pos + len));
    } catch {
      throw invalid(`${what}: BYTES element ${i} is not valid UTF-8 (string tensors hold text)`);
    }
    pos += len;
  }
  if (pos !== raw.length) throw invalid(`${what}: binary_data_size is ${raw.length} but its ${count} BYTES elements take ${pos} bytes`);
  return out;
}

function decode(raw: Buffer, input: Parameters<BinaryInput>[0], what: string): TensorData {
  const { type, count } = input;
  if (type === 'string') return decodeBytes(raw, count, what);
  const size = elementSize(type);
  // One copy: the typed array must own an aligned buffer (and may be handed to a worker).
  const ab = new ArrayBuffer(raw.length);
  new Uint8Array(ab).set(raw);
  hostOrder(Buffer.from(ab), size);
  if (type === 'bool') {
    const u = new Uint8Array(ab);
    for (let i = 0; i < u.length; i++) if ((u[i] as number) > 1) throw invalid(`${what}: BOOL element ${i} is the byte ${u[i]}, expected 0 or 1`);
    return u;
  }
  const Ctor = { uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, float16: Uint16Array, int16: Int16Array, uint32: Uint32Array, int32: Int32Array, uint64: BigUint64Array, int64: BigInt64Array, float32: Float32Array, float64: Float64Array }[type];
  return new Ctor(ab);
}

/** One tensor from its raw bytes alone (gRPC's `raw_input_contents`), checked against its shape and datatype. */
export function decodeRawTensor(name: string, datatype: OipDatatype, dims: readonly number[], raw: Buffer): Tensor {
  const type = OIP_TO_ELEMENT[datatype];
  const count = elementCount(dims);
  const what = `input '${name}'`;
  const size = type === 'string' ? 0 : elementSize(type);
  if (type !== 'string' && raw.length !== count * size) throw invalid(`${what}: shape [${dims.join(', ')}] of ${datatype} takes ${count * size} bytes but its raw contents have ${raw.length}`);
  return { name, type, dims: [...dims], data: decode(raw, { name, type, dims, count, size }, what) };
}

/**
 * Parses a body in the binary extension's layout: `headerLength` bytes of JSON header (an inference request), then the
 * raw tensors of the inputs with `parameters.binary_data_size`, in input order, which must fill the rest exactly.
 */
export function parseBinaryInferRequest(body: Buffer, headerLength: number, opts?: ParseOptions): InferRequest {
  if (!Number.isSafeInteger(headerLength) || headerLength < 0) throw invalid(`${HEADER_LENGTH_HEADER} must be a non-negative integer, got ${show(headerLength)}`);
  if (headerLength > body.length) throw invalid(`${HEADER_LENGTH_HEADER} is ${headerLength} but the body has only ${body.length} bytes`);
  let header: unknown;
  try {
    header = JSON.parse(utf8.decode(body.subarray(0, headerLength)));
  } catch (e) {
    throw invalid(`the first ${headerLength} bytes of the body (${HEADER_LENGTH_HEADER}) are not a valid JSON inference request: ${(e as Error).message}`);
  }
  const rest = body.subarray(headerLength);
  let offset = 0;
  const binary: BinaryInput = (input) => {
    const what = `input '${input.name}'`;
    if (input.type !== 'string') {
      const expected = input.count * elementSize(input.type);
      if (input.size !== expected) {
        throw invalid(`${what}: binary_data_size is ${input.size} but shape [${input.dims.join(', ')}] of ${ELEMENT_TO_OIP[input.type]} takes ${expected} bytes (${input.count} × ${elementSize(input.type)})`);
      }
    }
    if (offset + input.size > rest.length) {
      throw invalid(`${what}: binary_data_size ${input.size} goes past the end of the body: ${rest.length - offset} bytes remain after the header and the inputs before it`);
    }
    const raw = rest.subarray(offset, offset + input.size);
    offset += input.size;
    return decode(raw, input, what);
  };
  const req = parseRequestObject(header, opts, binary);
  if (offset !== rest.length) {
    throw invalid(`the body has ${rest.length - offset} bytes after the binary tensor data that no input's binary_data_size accounts for (${rest.length} bytes follow the header, the inputs claim ${offset})`);
  }
  return req;
}

export interface BinaryRequested {
  binaryDataOutput?: boolean;
  outputs?: readonly RequestedOutput[];
}

/** Whether the output named `name` is to travel as binary data: its own binary_data, else the request's binary_data_output. */
export function wantsBinary(requested: BinaryRequested, name: string): boolean {
  const own = requested.outputs?.find((o) => o.name === name)?.binaryData;
  return own ?? requested.binaryDataOutput ?? false;
}

/** Whether any output may travel as binary data (so the response may need the binary layout). */
export function binaryWanted(requested: BinaryRequested): boolean {
  return requested.binaryDataOutput === true || (requested.outputs ?? []).some((o) => o.binaryData === true);
}

/** A tensor's raw bytes as the extension lays them out. */
export function encodeTensor(t: Tensor): Buffer {
  if (t.type === 'string') {
    const parts: Buffer[] = [];
    for (const s of t.data as string[]) {
      const b = Buffer.from(s, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32LE(b.length);
      parts.push(len, b);
    }
    return Buffer.concat(parts);
  }
  const d = t.data as Exclude<TensorData, string[]>;
  const bytes = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return BIG_ENDIAN ? hostOrder(Buffer.from(bytes), elementSize(t.type)) : bytes;
}

function assemble(header: unknown, raws: Buffer[]): { body: Buffer; headerLength: number | undefined } {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  if (raws.length === 0) return { body: json, headerLength: undefined };
  return { body: Buffer.concat([json, ...raws]), headerLength: json.length };
}

/**
 * The inference response, with the outputs asked for as binary appended raw (their header has
 * `parameters.binary_data_size` and no data). With no binary output, `body` is the plain JSON response and
 * `headerLength` is undefined (send no Inference-Header-Content-Length).
 */
export function inferResponseBinary(r: InferResult, requested: BinaryRequested): { body: Buffer; headerLength: number | undefined } {
  const raws: Buffer[] = [];
  const outputs: OutputJson[] = r.outputs.map((t) => {
    if (!wantsBinary(requested, t.name)) return outputJson(t);
    const raw = encodeTensor(t);
    raws.push(raw);
    return outputJson(t, raw.length);
  });
  return assemble(responseHeader(r, outputs), raws);
}

/**
 * A request body in the binary layout, every input's data binary: what a client sends (for tests, benchmarks and
 * the SDK). `outputs` and `parameters` go into the JSON header as given.
 */
export function inferRequestBinary(req: { id?: string; parameters?: Record<string, unknown>; inputs: Tensor[]; outputs?: { name: string; parameters?: Record<string, unknown> }[] }): {
  body: Buffer;
  headerLength: number;
} {
  const raws = req.inputs.map(encodeTensor);
  const header = {
    ...(req.id !== undefined ? { id: req.id } : {}),
    ...(req.parameters !== undefined ? { parameters: req.parameters } : {}),
    inputs: req.inputs.map((t, i) => ({ ...outputJson(t, (raws[i] as Buffer).length) })),
    ...(req.outputs !== undefined ? { outputs: req.outputs } : {}),
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  return { body: Buffer.concat([json, ...raws]), headerLength: json.length };
}
