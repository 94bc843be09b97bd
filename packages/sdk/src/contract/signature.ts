/**
 * Does an ONNX model accept what its MLflow signature promises? And what signature does an ONNX model imply?
 */
import type { ColumnSpec, Signature, SchemaSpec, TensorSpec } from './mlmodel.js';
import type { OnnxInfo, OnnxTensor as OnnxTensorInfo } from './registry-schemas.js';

export interface SignatureCheck {
  readonly ok: boolean;
  /** Mismatches that make the model unable to serve what the signature promises. */
  readonly problems: string[];
  /** Differences that serving tolerates but a reader should know (e.g. the model fixes a batch size the signature leaves open). */
  readonly warnings: string[];
}

/** onnxruntime element type → the numpy dtype name MLflow writes for it. */
const ORT_TO_NUMPY: Record<string, string> = {
  float32: 'float32',
  float64: 'float64',
  float16: 'float16',
  int8: 'int8',
  int16: 'int16',
  int32: 'int32',
  int64: 'int64',
  uint8: 'uint8',
  uint16: 'uint16',
  uint32: 'uint32',
  uint64: 'uint64',
  bool: 'bool',
  string: 'str',
  complex64: 'complex64',
  complex128: 'complex128',
};

/** Normalises a numpy dtype name to the onnxruntime element type it feeds, or undefined when none does. */
export function numpyToOrt(dtype: string): string | undefined {
  if (dtype === 'str' || dtype === 'object' || dtype === 'bytes' || /^(str|bytes)\d+$/.test(dtype)) return 'string';
  if (dtype === 'bool') return 'bool';
  return Object.values(ORT_TO_NUMPY).includes(dtype) ? dtype : undefined;
}

/** onnxruntime element types a column of an MLflow type can be fed to. */
const COLUMN_TO_ORT: Record<string, readonly string[]> = {
  boolean: ['bool'],
  integer: ['int32', 'int64', 'float32', 'float64'],
  long: ['int64', 'float32', 'float64'],
  // MLflow's ONNX pyfunc casts float64 feeds to float32 when the input is tensor(float).
  float: ['float32', 'float64'],
  double: ['float64', 'float32'],
  string: ['string'],
  binary: ['string'],
};

const FLOATS = new Set(['float16', 'float32', 'float64']);
const fmtShape = (s: readonly (number | string | null)[]): string => `[${s.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;

function checkTensor(where: string, spec: TensorSpec, t: OnnxTensorInfo, problems: string[], warnings: string[]): void {
  const want = numpyToOrt(spec.dtype);
  if (want !== t.type) {
    problems.push(`${where} ${t.name}: signature dtype ${spec.dtype} does not match the model's ${t.type}`);
  }
  if (spec.shape.length !== t.shape.length) {
    problems.push(
      `${where} ${t.name}: signature shape ${fmtShape(spec.shape)} has rank ${spec.shape.length} but the model's ${fmtShape(t.shape)} has rank ${t.shape.length}`,
    );
    return;
  }
  spec.shape.forEach((s, i) => {
    const m = t.shape[i];
    if (typeof m !== 'number') return; // symbolic or unknown: the model takes any size
    if (s === -1) {
      warnings.push(`${where} ${t.name}: dimension ${i} is variable in the signature but fixed to ${m} in the model`);
    } else if (s !== m) {
      problems.push(`${where} ${t.name}: dimension ${i} is ${s} in the signature but ${m} in the model (${fmtShape(spec.shape)} vs ${fmtShape(t.shape)})`);
    }
  });
}

function checkTensors(where: 'input' | 'output', specs: readonly TensorSpec[], model: readonly OnnxTensorInfo[], problems: string[], warnings: string[]): void {
  const named = specs.length > 0 && specs.every((s) => s.name !== undefined);
  if (named) {
    const byName = new Map(model.map((t) => [t.name, t]));
    for (const s of specs) {
      const t = byName.get(s.name as string);
      if (!t) problems.push(`signature ${where} ${s.name} is not a model ${where} (model ${where}s: ${model.map((x) => x.name).join(', ') || 'none'})`);
      else checkTensor(where, s, t, problems, warnings);
    }
    if (where === 'input') {
      const declared = new Set(specs.map((s) => s.name));
      for (const t of model) if (!declared.has(t.name)) problems.push(`model input ${t.name} is missing from the signature inputs`);
    }
    return;
  }
  if (specs.length !== model.length) {
    problems.push(`signature has ${specs.length} unnamed ${where} tensor(s) but the model has ${model.length} ${where}(s)`);
    return;
  }
  specs.forEach((s, i) => checkTensor(where, s, model[i] as OnnxTensorInfo, problems, warnings));
}

function columnFits(c: ColumnSpec, ortType: string): boolean {
  return (COLUMN_TO_ORT[c.type] ?? []).includes(ortType);
}

function checkColumns(columns: readonly ColumnSpec[], model: readonly OnnxTensorInfo[], problems: string[]): void {
  if (model.length === 1) {
    // MLflow feeds DataFrame.values, a [rows, columns] matrix, to a model with one input.
    const t = model[0] as OnnxTensorInfo;
    if (t.shape.length !== 2) {
      problems.push(`model input ${t.name} has shape ${fmtShape(t.shape)}; a column-based signature needs one 2-D input [rows, columns]`);
    } else {
      const width = t.shape[1];
      if (typeof width === 'number' && width !== columns.length) {
        problems.push(`signature has ${columns.length} column(s) but model input ${t.name} takes ${width} (shape ${fmtShape(t.shape)})`);
      }
    }
    const bad = columns.filter((c) => !columnFits(c, t.type));
    if (bad.length > 0) {
      problems.push(
        `column(s) ${bad.map((c) => `${c.name ?? '?'} (${c.type})`).join(', ')} cannot be fed to model input ${t.name} of type ${t.type}`,
      );
    }
    if (!FLOATS.has(t.type) && new Set(columns.map((c) => c.type)).size > 1) {
      problems.push(`columns of different types cannot form the single ${t.type} input ${t.name}`);
    }
    return;
  }
  // Several inputs: MLflow feeds each input the DataFrame column of the same name.
  const byName = new Map(columns.map((c) => [c.name, c]));
  for (const t of model) {
    const c = byName.get(t.name);
    if (!c) problems.push(`model input ${t.name} has no column of that name in the signature`);
    else if (!columnFits(c, t.type)) problems.push(`column ${t.name} (${c.type}) cannot be fed to model input ${t.name} of type ${t.type}`);
  }
}

/**
 * Checks an ONNX model against an MLflow signature. Tensor-based: names (when the signature names them), dtypes and
 * shapes (-1 matches a symbolic or unknown dimension; fixed dimensions must be equal; ranks must match).
 * Column-based inputs: one 2-D model input whose fixed width is the column count, or one input per named column; the
 * column types must be feedable to the input type. No signature → ok.
 */
export function checkOnnxAgainstSignature(onnx: OnnxInfo, sig: Signature | undefined): SignatureCheck {
  const problems: string[] = [];
  const warnings: string[] = [];
  if (sig?.inputs) {
    if (sig.inputs.kind === 'tensors') checkTensors('input', sig.inputs.tensors, onnx.inputs, problems, warnings);
    else if (sig.inputs.columns.length > 0) checkColumns(sig.inputs.columns, onnx.inputs, problems);
  }
  if (sig?.outputs?.kind === 'tensors') checkTensors('output', sig.outputs.tensors, onnx.outputs, problems, warnings);
  return { ok: problems.length === 0, problems, warnings };
}

function toSchema(list: readonly OnnxTensorInfo[]): SchemaSpec {
  return {
    kind: 'tensors',
    tensors: list.map((t) => ({
      name: t.name,
      dtype: ORT_TO_NUMPY[t.type] ?? 'object',
      shape: t.shape.map((d) => (typeof d === 'number' ? d : -1)),
    })),
  };
}

/** The tensor-based signature of an ONNX model: its inputs and outputs by name, symbolic/unknown dimensions as -1. */
export function signatureFromOnnx(onnx: OnnxInfo): Signature {
  return { inputs: toSchema(onnx.inputs), outputs: toSchema(onnx.outputs) };
}
