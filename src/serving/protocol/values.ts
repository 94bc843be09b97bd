/**
 * Values between JSON and tensors, shared by the OIP and MLflow codecs: flattening nested arrays against a shape,
 * inferring a shape from nesting, checking and converting each element to an element type, and back.
 */
import { KilnError } from '../../platform/errors.js';
import { ELEMENT_TO_OIP, arrayTypeOf, type ElementType, type Tensor, type TensorData } from '../tensor.js';
import { HALF_MAX, floatToHalf, halfToFloat } from './half.js';

export const invalid = (message: string): KilnError => new KilnError('INVALID_PARAMETER_VALUE', message);

export function formatShape(dims: readonly (number | string | null)[]): string {
  return `[${dims.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

/** A value for a message: JSON, cut short. */
export function show(v: unknown): string {
  let s: string;
  try {
    s = typeof v === 'bigint' ? `${v}` : (JSON.stringify(v) ?? String(v));
  } catch {
    s = String(v);
  }
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/** The product of dims, or Infinity once it passes max (so a huge shape is refused before anything is allocated). */
export function boundedCount(dims: readonly number[], max: number): number {
  if (dims.includes(0)) return 0;
  let n = 1;
  for (const d of dims) {
    n *= d;
    if (n > max) return Infinity;
  }
  return n;
}

/**
 * The innermost arrays of `data`, row-major, checked against `dims`: data is either flat (product(dims) values, one
 * segment: `data` itself, no copy) or nested to any depth k ≤ rank, where the first k-1 levels have the lengths of the
 * first k-1 dims and the innermost arrays hold the product of the remaining dims. The leaves are not looked at: a
 * leaf that is an array fails the element type's check.
 */
export function segmentsOf(data: unknown, dims: readonly number[], what: string): readonly (readonly unknown[])[] {
  if (!Array.isArray(data)) throw invalid(`${what}: data must be an array, got ${show(data)}`);
  const count = dims.reduce((a, b) => a * b, 1);
  let depth = 1;
  for (let probe: unknown = data[0]; Array.isArray(probe); probe = probe[0]) depth++;
  if (depth === 1) {
    if (data.length !== count) throw invalid(`${what}: shape ${formatShape(dims)} holds ${count} values but data has ${data.length}`);
    return [data];
  }
  if (depth > Math.max(dims.length, 1)) throw invalid(`${what}: data is nested ${depth} deep but shape ${formatShape(dims)} has ${dims.length} dimensions`);
  const inner = dims.slice(depth - 1).reduce((a, b) => a * b, 1);
  const segments: unknown[][] = [];
  const walk = (arr: unknown, level: number, path: string): void => {
    if (!Array.isArray(arr)) throw invalid(`${what}: data${path} is ${show(arr)} where an array was expected (nested data must be rectangular)`);
    const expected = level === depth - 1 ? inner : (dims[level] as number);
    if (arr.length !== expected) {
      throw invalid(`${what}: data${path} has ${arr.length} values but shape ${formatShape(dims)} needs ${expected} there (nested data must be rectangular and match the shape)`);
    }
    if (level === depth - 1) segments.push(arr);
    else for (let i = 0; i < arr.length; i++) walk(arr[i], level + 1, `${path}[${i}]`);
  };
  walk(data, 0, '');
  return segments;
}

/** The elements of `data` (flat or nested, see segmentsOf), row-major; flat data is returned as is. */
export function flattenData(data: unknown, dims: readonly number[], what: string): readonly unknown[] {
  const segments = segmentsOf(data, dims, what);
  if (segments.length === 1) return segments[0] as readonly unknown[];
  const out: unknown[] = [];
  for (const seg of segments) for (let i = 0; i < seg.length; i++) out.push(seg[i]);
  return out;
}

/**
 * The tensor buffer of `data` (flat or nested, see segmentsOf) checked against the element type: nested data is
 * converted row by row into one buffer, without an intermediate array of every element.
 */
export function shapedTensorData(data: unknown, dims: readonly number[], type: ElementType, what: string): TensorData {
  const segments = segmentsOf(data, dims, what);
  if (segments.length === 1) return toTensorData(segments[0] as readonly unknown[], type, what);
  let offset = 0;
  const label: ElementLabel = (i) => `element ${offset + i}`;
  if (type === 'string') {
    const out: string[] = [];
    for (const seg of segments) {
      for (const v of toTensorData(seg, type, what, label) as string[]) out.push(v);
      offset += seg.length;
    }
    return out;
  }
  const out = new (arrayTypeOf(type))(dims.reduce((a, b) => a * b, 1));
  for (const seg of segments) {
    (out as Uint8Array).set(toTensorData(seg, type, what, label) as Uint8Array, offset);
    offset += seg.length;
  }
  return out;
}

/** The shape of a nested array, read along the first elements (a scalar has shape []); flattenData then checks it. */
export function inferDims(value: unknown): number[] {
  const dims: number[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) dims.push(v.length);
  return dims;
}

/** Nests flat values into arrays along dims (rank 0 gives the one value itself). */
export function nest(flat: readonly unknown[], dims: readonly number[]): unknown {
  if (dims.length === 0) return flat[0];
  if (dims.length === 1) return flat.slice();
  const build = (level: number, offset: number, stride: number): unknown[] => {
    const n = dims[level] as number;
    const out = new Array<unknown>(n);
    if (level === dims.length - 1) {
      for (let i = 0; i < n; i++) out[i] = flat[offset + i];
      return out;
    }
    const sub = stride / (dims[level + 1] as number);
    for (let i = 0; i < n; i++) out[i] = build(level + 1, offset + i * stride, sub);
    return out;
  };
  const inner = dims.slice(1).reduce((a, b) => a * b, 1);
  return build(0, 0, inner);
}

const INT_RANGE: Partial<Record<ElementType, readonly [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};
const INT64_RANGE = [-(2n ** 63n), 2n ** 63n - 1n] as const;
const UINT64_RANGE = [0n, 2n ** 64n - 1n] as const;
const DECIMAL = /^-?\d{1,20}$/;
const NON_FINITE = /^[-+]?(nan|inf|infinity)$/i;

function expectation(type: ElementType): string {
  const oip = ELEMENT_TO_OIP[type];
  const range = INT_RANGE[type];
  if (range) return `an integer in [${range[0]}, ${range[1]}] (${oip})`;
  switch (type) {
    case 'bool':
      return 'true, false, 0 or 1 (BOOL)';
    case 'int64':
    case 'uint64':
      return `an integer in [${type === 'int64' ? '-2^63, 2^63-1' : '0, 2^64-1'}] (${oip}): as a JSON number it must be a safe integer (at most 2^53-1 in magnitude); send larger values as decimal strings`;
    case 'float16':
      return `a finite number within FP16 range (±${HALF_MAX}) (FP16)`;
    case 'float32':
      return 'a finite number within FP32 range (±3.4028235e38) (FP32)';
    case 'float64':
      return 'a finite number (FP64)';
    default:
      return 'a string (BYTES)';
  }
}

/** Names element i in a message (default: `element i`; a table says which row and column). */
export type ElementLabel = (i: number) => string;
const byIndex: ElementLabel = (i) => `element ${i}`;

function bad(what: string, i: number, v: unknown, type: ElementType, label: ElementLabel): KilnError {
  const isFloat = type === 'float16' || type === 'float32' || type === 'float64';
  if (isFloat && typeof v === 'string' && NON_FINITE.test(v.trim())) {
    return invalid(`${what}: ${label(i)} is ${show(v)}: non-finite values (NaN, Infinity) are not accepted in JSON; expected ${expectation(type)}`);
  }
  return invalid(`${what}: ${label(i)} is ${show(v)}, expected ${expectation(type)}`);
}

/**
 * Checks each value against the element type and returns the tensor buffer: integers within range, finite numbers
 * within the float type's range, true/false (or 0/1) for bool, strings for string; 64-bit integers as safe-integer
 * numbers or decimal strings (exact).
 */
export function toTensorData(values: readonly unknown[], type: ElementType, what: string, label: ElementLabel = byIndex): TensorData {
  const n = values.length;
  switch (type) {
    case 'string': {
      for (let i = 0; i < n; i++) if (typeof values[i] !== 'string') throw bad(what, i, values[i], type, label);
      return values.slice() as string[];
    }
    case 'bool': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v === true || v === 1) out[i] = 1;
        else if (v !== false && v !== 0) throw bad(what, i, v, type, label);
      }
      return out;
    }
    case 'int64':
    case 'uint64': {
      const [lo, hi] = type === 'int64' ? INT64_RANGE : UINT64_RANGE;
      const out = type === 'int64' ? new BigInt64Array(n) : new BigUint64Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        let b: bigint;
        if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
        else if (typeof v === 'string' && DECIMAL.test(v)) b = BigInt(v);
        else throw bad(what, i, v, type, label);
        if (b < lo || b > hi) throw bad(what, i, v, type, label);
        out[i] = b;
      }
      return out;
    }
    case 'float16': {
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) >= 65520) throw bad(what, i, v, type, label);
        out[i] = floatToHalf(v);
      }
      return out;
    }
    case 'float32':
    case 'float64': {
      const f32 = type === 'float32';
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'number' || !Number.isFinite(v) || (f32 && !Number.isFinite(Math.fround(v)))) throw bad(what, i, v, type, label);
      }
      return f32 ? Float32Array.from(values as number[]) : Float64Array.from(values as number[]);
    }
    default: {
      const range = INT_RANGE[type] as readonly [number, number];
      const [lo, hi] = range;
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw bad(what, i, v, type, label);
      }
      const Ctor = { int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array }[type];
      return Ctor.from(values as number[]);
    }
  }
}

/**
 * A tensor's elements as JSON values, flat and row-major: 64-bit integers as numbers (beyond 2^53 they lose
 * precision: JSON numbers are doubles for most readers), FP16 as numbers, bool as true/false. JSON has no NaN or
 * Infinity, so a non-finite float becomes null (a response stays valid JSON).
 */
export function jsonValues(t: Tensor): (number | boolean | string | null)[] {
  const d = t.data;
  const n = d.length;
  const out = new Array<number | boolean | string | null>(n);
  switch (t.type) {
    case 'string':
      return (d as string[]).slice();
    case 'bool':
      for (let i = 0; i < n; i++) out[i] = (d as Uint8Array)[i] !== 0;
      return out;
    case 'int64':
    case 'uint64':
      for (let i = 0; i < n; i++) out[i] = Number((d as BigInt64Array)[i]);
      return out;
    case 'float16':
      for (let i = 0; i < n; i++) {
        const v = halfToFloat((d as Uint16Array)[i] as number);
        out[i] = Number.isFinite(v) ? v : null;
      }
      return out;
    case 'float32':
    case 'float64':
      for (let i = 0; i < n; i++) {
        const v = (d as Float64Array)[i] as number;
        out[i] = Number.isFinite(v) ? v : null;
      }
      return out;
    default:
      for (let i = 0; i < n; i++) out[i] = (d as Int32Array)[i] as number;
      return out;
  }
}
