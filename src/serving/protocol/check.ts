/**
 * Requests against the model: the inputs it takes (names, element types, ranks, fixed dimensions), the outputs it
 * gives, whether it can be batched, and its OIP metadata.
 */
import { ELEMENT_TO_OIP, type ElementType, type Tensor, type TensorSpec } from '../tensor.js';
import { formatShape, invalid } from './values.js';

/** A symbolic (named) or unknown dimension, or -1 as some tools write it: any size fits. */
export function isDynamicDim(d: number | string | null | undefined): boolean {
  return d === null || typeof d === 'string' || d === -1;
}

/** A spec's type as OIP names it (a non-tensor type, e.g. 'sequence', is given as it is, upper-cased). */
export function oipDatatypeOf(type: string): string {
  return ELEMENT_TO_OIP[type as ElementType] ?? type.toUpperCase();
}

function metaShape(shape: readonly (number | string | null)[]): number[] {
  return shape.map((d) => (isDynamicDim(d) ? -1 : (d as number)));
}

function describeSpecs(specs: readonly TensorSpec[]): string {
  return specs.map((s) => `'${s.name}' (${oipDatatypeOf(s.type)} ${formatShape(metaShape(s.shape))})`).join(', ');
}

/**
 * Checks the request's inputs against the model's and returns them in the model's input order: every input present,
 * no unknown one, the model's element type, its rank, and its size in every fixed dimension.
 */
export function checkInputs(inputs: readonly Tensor[], specs: readonly TensorSpec[]): Tensor[] {
  const byName = new Map<string, Tensor>();
  for (const t of inputs) byName.set(t.name, t);
  const known = new Set(specs.map((s) => s.name));
  const unknown = inputs.filter((t) => !known.has(t.name)).map((t) => `'${t.name}'`);
  if (unknown.length > 0) throw invalid(`unknown input${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: the model takes ${describeSpecs(specs)}`);
  const missing = specs.filter((s) => !byName.has(s.name)).map((s) => `'${s.name}'`);
  if (missing.length > 0) throw invalid(`missing input${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: the model takes ${describeSpecs(specs)}`);
  return specs.map((spec) => {
    const t = byName.get(spec.name) as Tensor;
    const what = `input '${spec.name}'`;
    if (t.type !== spec.type) {
      throw invalid(`${what}: expected datatype ${oipDatatypeOf(spec.type)} (the model's ${spec.type}), got ${ELEMENT_TO_OIP[t.type]}`);
    }
    if (t.dims.length !== spec.shape.length) {
      throw invalid(`${what}: expected ${spec.shape.length} dimension${spec.shape.length === 1 ? '' : 's'} (the model's shape ${formatShape(metaShape(spec.shape))}, -1 for any size), got shape ${formatShape(t.dims)}`);
    }
    spec.shape.forEach((d, i) => {
      if (!isDynamicDim(d) && t.dims[i] !== d) {
        throw invalid(`${what}: dimension ${i} must be ${d} (the model's shape ${formatShape(metaShape(spec.shape))}, -1 for any size), got ${t.dims[i]} in shape ${formatShape(t.dims)}`);
      }
    });
    return t;
  });
}

/** True when every input's first dimension takes any size: requests can then be stacked into one batch along it. */
export function firstDimDynamic(specs: readonly TensorSpec[]): boolean {
  return specs.length > 0 && specs.every((s) => s.shape.length > 0 && isDynamicDim(s.shape[0]));
}

/** The number of rows (the first dimension) of a request's inputs; see checkSameRows for the agreement of all inputs. */
export function rowsOf(inputs: readonly Tensor[]): number {
  const first = inputs[0];
  if (!first || first.dims.length === 0) throw invalid(`the inputs have no first (batch) dimension to count rows along`);
  return first.dims[0] as number;
}

/** The rows of the inputs, which must all have a first dimension and agree on it (to be batched with other requests). */
export function checkSameRows(inputs: readonly Tensor[]): number {
  const rows = rowsOf(inputs);
  const name0 = (inputs[0] as Tensor).name;
  for (const t of inputs) {
    if (t.dims.length === 0) throw invalid(`input '${t.name}' is a scalar: batched inputs need a first (batch) dimension`);
    if (t.dims[0] !== rows) {
      throw invalid(`inputs disagree on the batch (first) dimension: '${name0}' has ${rows} rows, '${t.name}' has ${t.dims[0]}`);
    }
  }
  return rows;
}

/** The outputs to return: those requested, in the request's order, or all of the model's when none are named. */
export function selectOutputs(requested: readonly { name: string }[] | undefined, outputSpecs: readonly TensorSpec[]): string[] {
  if (!requested || requested.length === 0) return outputSpecs.map((s) => s.name);
  const known = new Set(outputSpecs.map((s) => s.name));
  const unknown = requested.filter((o) => !known.has(o.name)).map((o) => `'${o.name}'`);
  if (unknown.length > 0) {
    throw invalid(`unknown output${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: the model's outputs are ${outputSpecs.map((s) => `'${s.name}'`).join(', ')}`);
  }
  return [...new Set(requested.map((o) => o.name))];
}

export interface TensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: 'onnx_onnxv1';
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

/** The OIP model metadata response; symbolic and unknown dimensions become -1. */
export function modelMetadata(name: string, versions: readonly string[], inputs: readonly TensorSpec[], outputs: readonly TensorSpec[]): ModelMetadata {
  const meta = (s: TensorSpec): TensorMetadata => ({ name: s.name, datatype: oipDatatypeOf(s.type), shape: metaShape(s.shape) });
  return { name, versions: [...versions], platform: 'onnx_onnxv1', inputs: inputs.map(meta), outputs: outputs.map(meta) };
}
