/**
 * Tensors as the serving capability carries them between the protocols (OIP REST and gRPC, MLflow scoring), the
 * batcher and the onnxruntime sessions in worker threads: an element type named as onnxruntime names it, a shape,
 * and a flat row-major buffer whose typed array can be transferred to a worker without a copy.
 */

/** The Open Inference Protocol's datatypes that ONNX has. */
export const OIP_DATATYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'] as const;
export type OipDatatype = (typeof OIP_DATATYPES)[number];

/** onnxruntime's element type names for those datatypes. */
export type ElementType = 'bool' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'int8' | 'int16' | 'int32' | 'int64' | 'float16' | 'float32' | 'float64' | 'string';

export const OIP_TO_ELEMENT: Readonly<Record<OipDatatype, ElementType>> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
};

export const ELEMENT_TO_OIP: Readonly<Record<ElementType, OipDatatype>> = Object.fromEntries(Object.entries(OIP_TO_ELEMENT).map(([k, v]) => [v, k])) as Record<ElementType, OipDatatype>;

/**
 * The buffer for each element type, as onnxruntime-node takes and gives it: bool as Uint8Array (0/1), float16 as
 * the raw half-precision bits in a Uint16Array, 64-bit integers as BigInt arrays, strings as a plain array.
 */
export type TensorData =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigUint64Array
  | BigInt64Array
  | Float32Array
  | Float64Array
  | string[];

export interface Tensor {
  readonly name: string;
  readonly type: ElementType;
  /** Row-major dimensions; the first is the batch (rows) dimension for models whose first input dimension is dynamic. */
  readonly dims: readonly number[];
  /** Exactly product(dims) elements. */
  readonly data: TensorData;
}

/** What a model expects or gives for one input or output (from the registry's ONNX inspection). */
export interface TensorSpec {
  readonly name: string;
  /** onnxruntime's element type name (a non-tensor value has another name, e.g. 'sequence' or 'map'). */
  readonly type: string;
  /** Fixed dimensions as numbers; symbolic (named) or unknown dimensions (null) accept any size. */
  readonly shape: readonly (number | string | null)[];
}

export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** The typed array constructor of a numeric element type (string has none). */
export function arrayTypeOf(type: Exclude<ElementType, 'string'>) {
  switch (type) {
    case 'bool':
    case 'uint8':
      return Uint8Array;
    case 'int8':
      return Int8Array;
    case 'uint16':
    case 'float16':
      return Uint16Array;
    case 'int16':
      return Int16Array;
    case 'uint32':
      return Uint32Array;
    case 'int32':
      return Int32Array;
    case 'uint64':
      return BigUint64Array;
    case 'int64':
      return BigInt64Array;
    case 'float32':
      return Float32Array;
    case 'float64':
      return Float64Array;
  }
}

/** Bytes per element of a fixed-size type. */
export function elementSize(type: Exclude<ElementType, 'string'>): number {
  return arrayTypeOf(type).BYTES_PER_ELEMENT;
}
