/**
 * The Open Inference Protocol (V2) REST bodies in JSON: an inference request into typed tensors, output tensors into
 * an inference response. Everything is checked by hand so that each refusal names the field and what was expected.
 */
import { KilnError } from '../../platform/errors.js';
import { ELEMENT_TO_OIP, OIP_DATATYPES, OIP_TO_ELEMENT, type ElementType, type OipDatatype, type Tensor, type TensorData } from '../tensor.js';
import { boundedCount, invalid, jsonValues, shapedTensorData, show } from './values.js';

export type Parameters = Record<string, string | number | boolean>;

export interface RequestedOutput {
  name: string;
  /** The output's `parameters.binary_data` (binary tensor data extension), when given. */
  binaryData?: boolean;
}

export interface InferRequest {
  id?: string;
  parameters: Parameters;
  inputs: Tensor[];
  /** Absent when the request names no outputs (all of them are wanted). */
  outputs?: RequestedOutput[];
  /** The request's `parameters.binary_data_output`, when given. */
  binaryDataOutput?: boolean;
}

export interface ParseOptions {
  /** The most elements all inputs may hold together (default 10,000,000); checked before anything is allocated. */
  maxElements?: number;
}

export const DEFAULT_MAX_ELEMENTS = 10_000_000;

/** What the binary extension hands the parser for an input with `binary_data_size`: its decoded buffer. */
export type BinaryInput = (input: { name: string; type: ElementType; dims: readonly number[]; count: number; size: number }) => TensorData;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseParameters(v: unknown, where: string): Parameters {
  if (v === undefined) return {};
  if (!isObject(v)) throw invalid(`${where}: parameters must be an object, got ${show(v)}`);
  for (const [k, p] of Object.entries(v)) {
    if (typeof p !== 'string' && typeof p !== 'boolean' && !(typeof p === 'number' && Number.isFinite(p))) {
      throw invalid(`${where}: parameter '${k}' must be a string, number or boolean, got ${show(p)}`);
    }
  }
  return v as Parameters;
}

function optionalBool(params: Parameters, key: string, where: string): boolean | undefined {
  const v = params[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw invalid(`${where}: parameter '${key}' must be a boolean, got ${show(v)}`);
  return v;
}

function parseShape(v: unknown, what: string): number[] {
  if (!Array.isArray(v)) throw invalid(`${what}: shape must be an array of non-negative integers, got ${show(v)}`);
  for (const d of v) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) throw invalid(`${what}: shape must be an array of non-negative integers, got ${show(v)}`);
  }
  return v as number[];
}

function parseDatatype(v: unknown, what: string): ElementType {
  if (typeof v !== 'string' || !(OIP_DATATYPES as readonly string[]).includes(v)) {
    throw invalid(`${what}: datatype must be one of ${OIP_DATATYPES.join(', ')}, got ${show(v)}`);
  }
  return OIP_TO_ELEMENT[v as OipDatatype];
}

/** Parses an inference request already read as JSON. */
export function parseInferRequest(body: unknown, opts?: ParseOptions): InferRequest {
  return parseRequestObject(body, opts);
}

/** The request parser, with the binary extension's source of input buffers when the body has a binary part. */
export function parseRequestObject(body: unknown, opts?: ParseOptions, binary?: BinaryInput): InferRequest {
  if (!isObject(body)) throw invalid(`the inference request must be a JSON object, got ${show(body)}`);
  const max = opts?.maxElements ?? DEFAULT_MAX_ELEMENTS;
  const req: InferRequest = { parameters: parseParameters(body.parameters, 'the request'), inputs: [] };
  if (body.id !== undefined) {
    if (typeof body.id !== 'string') throw invalid(`the request's id must be a string, got ${show(body.id)}`);
    req.id = body.id;
  }
  const bdo = optionalBool(req.parameters, 'binary_data_output', 'the request');
  if (bdo !== undefined) req.binaryDataOutput = bdo;

  const rawInputs = body.inputs;
  if (!Array.isArray(rawInputs) || rawInputs.length === 0) throw invalid(`the request must have 'inputs', a non-empty array of tensors, got ${show(rawInputs)}`);
  // First the headers of every input, so that the total element count is bounded before any data is converted.
  const heads: { name: string; type: ElementType; dims: number[]; count: number; params: Parameters; data: unknown }[] = [];
  const names = new Set<string>();
  let total = 0;
  for (let i = 0; i < rawInputs.length; i++) {
    const raw: unknown = rawInputs[i];
    if (!isObject(raw)) throw invalid(`inputs[${i}] must be an object with name, shape, datatype and data, got ${show(raw)}`);
    if (typeof raw.name !== 'string' || raw.name === '') throw invalid(`inputs[${i}]: name must be a non-empty string, got ${show(raw.name)}`);
    const name = raw.name;
    const what = `input '${name}'`;
    if (names.has(name)) throw invalid(`${what} appears more than once in inputs`);
    names.add(name);
    const type = parseDatatype(raw.datatype, what);
    const dims = parseShape(raw.shape, what);
    const count = boundedCount(dims, max);
    total += count;
    if (total > max) {
      throw new KilnError('REQUEST_TOO_LARGE', `${what}: the request's inputs hold more than ${max} elements in all (this server's limit); send smaller batches`);
    }
    heads.push({ name, type, dims, count, params: parseParameters(raw.parameters, what), data: raw.data });
  }
  for (const h of heads) {
    const what = `input '${h.name}'`;
    const size = h.params.binary_data_size;
    let data: TensorData;
    if (size !== undefined) {
      if (!binary) throw invalid(`${what} has parameters.binary_data_size but the request has no binary part (send the Inference-Header-Content-Length header with the JSON's length)`);
      if (h.data !== undefined) throw invalid(`${what} has both data and parameters.binary_data_size: send one or the other`);
      if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw invalid(`${what}: binary_data_size must be a non-negative integer, got ${show(size)}`);
      data = binary({ name: h.name, type: h.type, dims: h.dims, count: h.count, size });
    } else {
      if (h.data === undefined) throw invalid(`${what} has no data`);
      data = shapedTensorData(h.data, h.dims, h.type, what);
    }
    req.inputs.push({ name: h.name, type: h.type, dims: h.dims, data });
  }

  if (body.outputs !== undefined) {
    if (!Array.isArray(body.outputs)) throw invalid(`the request's outputs must be an array of {name}, got ${show(body.outputs)}`);
    const seen = new Set<string>();
    req.outputs = body.outputs.map((o: unknown, i) => {
      if (!isObject(o) || typeof o.name !== 'string' || o.name === '') throw invalid(`outputs[${i}] must be an object with a non-empty name, got ${show(o)}`);
      if (seen.has(o.name)) throw invalid(`output '${o.name}' appears more than once in outputs`);
      seen.add(o.name);
      const out: RequestedOutput = { name: o.name };
      const bd = optionalBool(parseParameters(o.parameters, `output '${o.name}'`), 'binary_data', `output '${o.name}'`);
      if (bd !== undefined) out.binaryData = bd;
      return out;
    });
  }
  return req;
}

export interface InferResult {
  modelName: string;
  modelVersion?: string;
  id?: string;
  parameters?: Record<string, unknown>;
  outputs: Tensor[];
}

export interface OutputJson {
  name: string;
  datatype: OipDatatype;
  shape: number[];
  parameters?: Record<string, unknown>;
  data?: (number | boolean | string | null)[];
}

export interface InferResponseJson {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: Record<string, unknown>;
  outputs: OutputJson[];
}

/** One output's header, with its data in JSON unless `binarySize` says it travels in the binary part. */
export function outputJson(t: Tensor, binarySize?: number): OutputJson {
  const out: OutputJson = { name: t.name, datatype: ELEMENT_TO_OIP[t.type], shape: [...t.dims] };
  if (binarySize === undefined) out.data = jsonValues(t);
  else out.parameters = { binary_data_size: binarySize };
  return out;
}

/**
 * The OIP inference response, data flat and row-major. 64-bit integers are emitted as JSON numbers even beyond 2^53
 * (where they lose precision); NaN and ±Infinity, which JSON cannot carry, are emitted as null.
 */
export function inferResponseJson(r: InferResult): InferResponseJson {
  return responseHeader(r, r.outputs.map((t) => outputJson(t)));
}

export function responseHeader(r: InferResult, outputs: OutputJson[]): InferResponseJson {
  const res: InferResponseJson = { model_name: r.modelName, outputs };
  if (r.modelVersion !== undefined) res.model_version = r.modelVersion;
  if (r.id !== undefined) res.id = r.id;
  if (r.parameters !== undefined) res.parameters = r.parameters;
  // model_name first, outputs last, as the specification's examples show them.
  const { outputs: o, ...head } = res;
  return { ...head, outputs: o };
}
