/**
 * MLflow's scoring protocol (`POST /invocations`, MLflow 2.x): a JSON body with exactly one of `dataframe_split`,
 * `dataframe_records`, `instances` or `inputs` (and optional `params`, ignored), or a CSV table, turned into the
 * ONNX model's input tensors; output tensors turned into `{"predictions": ...}`.
 *
 * Mapping, as MLflow's ONNX flavor feeds onnxruntime:
 * - a table (columns) for a one-input model is stacked into [rows, columns] of the input's element type, in the
 *   signature's column order when the model has a column signature (a missing column is an error, extra ones are
 *   dropped), else in the payload's order; one column of array cells gives [rows, ...cell shape];
 * - a table for a model of several inputs gives one tensor per input from the column of that name: [rows] or
 *   [rows, 1] after the input's rank, or [rows, ...cell shape] for array cells;
 * - named tensors (`{"inputs": {"x": [[...]]}}`) map by name, shape from their nesting; extra names are dropped;
 * - an unnamed list (`{"instances": [[...]]}`) is the one input of a one-input model, shape from its nesting.
 * Values are checked as in OIP (integers in range, finite floats, strings for string inputs); CSV cells are text,
 * so numeric and boolean cells are read as numbers and booleans first.
 * The tensors still go through checkInputs (ranks and fixed dimensions) before inference.
 */
import Papa from 'papaparse';
import type { Signature } from '@kiln-mlops/sdk/contract/registry-schemas';
import { KilnError } from '../../platform/errors.js';
import { ELEMENT_TO_OIP, type ElementType, type Tensor, type TensorSpec } from '../tensor.js';
import { flattenData, inferDims, invalid, jsonValues, nest, shapedTensorData, show, toTensorData, type ElementLabel } from './values.js';

export interface ScoringModel {
  inputs: readonly TensorSpec[];
  signature?: Pick<Signature, 'inputs'>;
}

const FORMATS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const;

/** A table, column-major: names (null when the payload has none) and each column's cells. */
interface Table {
  names: string[] | null;
  columns: unknown[][];
  rows: number;
  /** CSV: cells are text to be read as the input's element type. */
  text: boolean;
}

const bad = (message: string): KilnError => new KilnError('BAD_REQUEST', message);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (names: readonly string[]) => `[${names.map((n) => `'${n}'`).join(', ')}]`;

export function parseInvocation(body: Buffer | string, contentType: string, model: ScoringModel): Tensor[] {
  return parseInvocationRequest(body, contentType, model).inputs;
}

/**
 * The inputs, and whether MLflow's scoring server would hand them to the ONNX model as a pandas DataFrame (and
 * answer records) rather than as arrays: a table (CSV, `dataframe_split`, `dataframe_records`) unless the model's
 * signature is tensor-based (MLflow's schema enforcement turns the table into an array then), or `instances` /
 * `inputs` with a column-based signature.
 */
export function parseInvocationRequest(body: Buffer | string, contentType: string, model: ScoringModel): { inputs: Tensor[]; table: boolean } {
  const kind = model.signature?.inputs?.kind;
  const text = typeof body === 'string' ? body : body.toString('utf8');
  const mime = contentType.split(';')[0]!.trim().toLowerCase();
  if (mime === 'text/csv') return { inputs: fromTable(parseCsv(text), model), table: kind !== 'tensors' };
  if (mime !== 'application/json') {
    throw new KilnError('UNSUPPORTED_MEDIA_TYPE', `This predictor only supports the following content types: 'text/csv', 'application/json'. Got '${contentType}'.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw bad(`Invalid input. Ensure the input is valid JSON: ${(e as Error).message}`);
  }
  const keys = isRecord(json) ? FORMATS.filter((k) => k in json) : [];
  if (!isRecord(json) || keys.length !== 1) {
    throw bad(
      `Invalid input. The input must be a JSON dictionary with exactly one of the input fields {'dataframe_split', 'dataframe_records', 'instances', 'inputs'}. ` +
        `Received ${isRecord(json) ? `dictionary with input fields: ${list(Object.keys(json))}` : show(json)}.`,
    );
  }
  const key = keys[0] as (typeof FORMATS)[number];
  const value = json[key];
  switch (key) {
    case 'dataframe_split':
      return { inputs: fromTable(splitTable(value), model), table: kind !== 'tensors' };
    case 'dataframe_records':
      return { inputs: fromTable(recordsTable(value), model), table: kind !== 'tensors' };
    default: {
      const table = kind === 'columns';
      if (isRecord(value)) return { inputs: fromNamed(value, false, model), table };
      if (!Array.isArray(value)) throw bad(`Invalid input. '${key}' must be a list or a dictionary of named tensors, got ${show(value)}.`);
      if (value.length > 0 && value.every(isRecord)) return { inputs: fromNamed(stackRecords(value, key), true, model), table };
      return { inputs: fromUnnamed(value, model), table };
    }
  }
}

function checkNames(names: string[], where: string): string[] {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw bad(`Invalid input. ${where} has the column '${n}' more than once.`);
    seen.add(n);
  }
  return names;
}

function splitTable(v: unknown): Table {
  if (!isRecord(v) || !Array.isArray(v.data)) throw bad(`Invalid input. 'dataframe_split' must be a dictionary with 'data' (a list of rows) and optionally 'columns' and 'index', got ${show(v)}.`);
  const rows = v.data as unknown[];
  let names: string[] | null = null;
  if (v.columns !== undefined) {
    if (!Array.isArray(v.columns) || !v.columns.every((c) => typeof c === 'string' || typeof c === 'number')) {
      throw bad(`Invalid input. 'dataframe_split.columns' must be a list of column names, got ${show(v.columns)}.`);
    }
    names = checkNames(v.columns.map(String), "'dataframe_split'");
  }
  const width = names?.length ?? (Array.isArray(rows[0]) ? rows[0].length : 0);
  const columns: unknown[][] = Array.from({ length: width }, () => new Array<unknown>(rows.length));
  rows.forEach((row, r) => {
    if (!Array.isArray(row) || row.length !== width) {
      throw bad(`Invalid input. 'dataframe_split.data[${r}]' must be a list of ${width} values (one per column), got ${show(row)}.`);
    }
    for (let c = 0; c < width; c++) (columns[c] as unknown[])[r] = row[c];
  });
  return { names, columns, rows: rows.length, text: false };
}

function recordsTable(v: unknown): Table {
  if (!Array.isArray(v) || !v.every(isRecord)) throw bad(`Invalid input. 'dataframe_records' must be a list of records ({"column": value}), got ${show(v)}.`);
  const names: string[] = [];
  const known = new Set<string>();
  for (const rec of v) {
    for (const k of Object.keys(rec)) {
      if (known.has(k)) continue;
      known.add(k);
      names.push(k);
    }
  }
  const columns = names.map((n) =>
    v.map((rec, r) => {
      if (!(n in rec)) throw bad(`Invalid input. 'dataframe_records[${r}]' has no value for the column '${n}'.`);
      return rec[n];
    }),
  );
  return { names, columns, rows: v.length, text: false };
}

/** Rows of named values (`instances: [{"a": 1, "b": 2}, ...]`) as one list per name. */
function stackRecords(rows: Record<string, unknown>[], key: string): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  const names = Object.keys(rows[0] as Record<string, unknown>);
  for (const n of names) {
    out[n] = rows.map((row, r) => {
      if (!(n in row)) throw bad(`Invalid input. '${key}[${r}]' has no value for '${n}'; every instance must have the same keys.`);
      return row[n];
    });
  }
  return out;
}

function parseCsv(text: string): Table {
  const parsed = Papa.parse<string[]>(text.startsWith('\uFEFF') ? text.slice(1) : text, { header: false, delimiter: ',', skipEmptyLines: 'greedy' });
  const err = parsed.errors[0];
  if (err) throw bad(`Invalid input. The CSV body could not be parsed${err.row !== undefined ? ` (record ${err.row + 1}, the header being record 1)` : ''}: ${err.message}.`);
  const [header, ...rows] = parsed.data;
  if (!header) throw bad('Invalid input. The CSV body is empty: it needs a header row of column names.');
  const names = checkNames(header, 'The CSV header');
  const columns: unknown[][] = names.map(() => new Array<unknown>(rows.length));
  rows.forEach((row, r) => {
    if (row.length !== names.length) throw bad(`Invalid input. CSV record ${r + 2} (the header being record 1) has ${row.length} fields but the header has ${names.length} columns.`);
    for (let c = 0; c < names.length; c++) (columns[c] as unknown[])[r] = row[c];
  });
  return { names, columns, rows: rows.length, text: true };
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const INTEGER = /^-?\d+$/;

/** A CSV cell as the element type reads it: numbers and booleans from their text (a 64-bit integer stays exact). */
function fromText(cell: unknown, type: ElementType): unknown {
  if (typeof cell !== 'string' || type === 'string') return cell;
  const s = cell.trim();
  if (type === 'bool') {
    const l = s.toLowerCase();
    return l === 'true' ? true : l === 'false' ? false : s === '1' ? 1 : s === '0' ? 0 : cell;
  }
  if ((type === 'int64' || type === 'uint64') && INTEGER.test(s)) return s;
  return NUMBER.test(s) ? Number(s) : cell;
}

function elementTypeOf(spec: TensorSpec): ElementType {
  if (!(spec.type in ELEMENT_TO_OIP)) throw invalid(`input '${spec.name}' is a ${spec.type}, which this server cannot build from a scoring request`);
  return spec.type as ElementType;
}

function convert(values: readonly unknown[], spec: TensorSpec, what: string, text: boolean, label?: ElementLabel) {
  const type = elementTypeOf(spec);
  return toTensorData(text ? values.map((v) => fromText(v, type)) : values, type, what, label);
}

/** One column (or stacked list) as the input's tensor: [rows, ...cell shape], scalars as [rows, 1] for a rank-2 input. */
function columnTensor(cells: unknown[], spec: TensorSpec, what: string, text: boolean): Tensor {
  const dims = inferDims(cells);
  const flat = flattenData(cells, dims, what);
  if (dims.length === 1 && spec.shape.length === 2) dims.push(1);
  return { name: spec.name, type: elementTypeOf(spec), dims, data: convert(flat, spec, what, text) };
}

function missingInputs(missing: string[], given: readonly string[], wanted: readonly string[]): KilnError {
  const extra = given.filter((n) => !wanted.includes(n));
  return invalid(`Model is missing inputs ${list(missing)}.${extra.length > 0 ? ` Note that there were extra inputs: ${list(extra)}.` : ''}`);
}

function fromTable(table: Table, model: ScoringModel): Tensor[] {
  const { names, columns, rows, text } = table;
  if (model.inputs.length !== 1) {
    const specs = model.inputs;
    if (!names) throw invalid(`The model takes ${specs.length} inputs ${list(specs.map((s) => s.name))}: name the columns after them.`);
    const missing = specs.filter((s) => !names.includes(s.name)).map((s) => s.name);
    if (missing.length > 0) throw missingInputs(missing, names, specs.map((s) => s.name));
    return specs.map((s) => columnTensor(columns[names.indexOf(s.name)] as unknown[], s, `column '${s.name}'`, text));
  }
  const spec = model.inputs[0] as TensorSpec;
  let order = columns.map((_, i) => i);
  const sig = model.signature?.inputs;
  if (names && sig?.kind === 'columns' && sig.columns.length > 0 && sig.columns.every((c) => c.name !== undefined)) {
    const wanted = sig.columns.map((c) => c.name as string);
    const missing = wanted.filter((n) => !names.includes(n));
    if (missing.length > 0) throw missingInputs(missing, names, wanted);
    order = wanted.map((n) => names.indexOf(n));
  }
  const colName = (c: number) => (names ? `'${names[c]}'` : `${c}`);
  const what = `input '${spec.name}'`;
  if (order.length === 1 && rows > 0 && Array.isArray((columns[order[0] as number] as unknown[])[0])) {
    return [columnTensor(columns[order[0] as number] as unknown[], spec, `${what} (column ${colName(order[0] as number)})`, text)];
  }
  const width = order.length;
  const flat = new Array<unknown>(rows * width);
  for (let c = 0; c < width; c++) {
    const col = columns[order[c] as number] as unknown[];
    for (let r = 0; r < rows; r++) {
      const v = col[r];
      if (Array.isArray(v)) throw invalid(`${what}: column ${colName(order[c] as number)} holds arrays: a one-input model takes scalar columns, stacked into [rows, columns]`);
      flat[r * width + c] = v;
    }
  }
  const label: ElementLabel = (i) => `row ${Math.floor(i / width)}, column ${colName(order[i % width] as number)}`;
  const dims = spec.shape.length === 1 && width === 1 ? [rows] : [rows, width];
  return [{ name: spec.name, type: elementTypeOf(spec), dims, data: convert(flat, spec, what, text, label) }];
}

function fromNamed(tensors: Record<string, unknown>, stacked: boolean, model: ScoringModel): Tensor[] {
  const given = Object.keys(tensors);
  const missing = model.inputs.filter((s) => !(s.name in tensors)).map((s) => s.name);
  if (missing.length > 0) {
    // Named values that are not the inputs of a one-input model are its columns (as MLflow makes a DataFrame of them).
    if (model.inputs.length === 1 && given.length > 0) return fromTable(columnsOf(tensors), model);
    throw missingInputs(missing, given, model.inputs.map((s) => s.name));
  }
  return model.inputs.map((spec) => {
    const what = `input '${spec.name}'`;
    const value = tensors[spec.name];
    if (stacked) return columnTensor(value as unknown[], spec, what, false);
    const dims = inferDims(value);
    const type = elementTypeOf(spec);
    return { name: spec.name, type, dims, data: shapedTensorData(dims.length === 0 ? [value] : value, dims, type, what) };
  });
}

function columnsOf(named: Record<string, unknown>): Table {
  const names = Object.keys(named);
  const columns = names.map((n) => {
    const col = named[n];
    if (!Array.isArray(col)) throw bad(`Invalid input. '${n}' must be a list of column values, got ${show(col)}.`);
    return col as unknown[];
  });
  const rows = (columns[0] as unknown[]).length;
  columns.forEach((c, i) => {
    if (c.length !== rows) throw bad(`Invalid input. All columns must have the same length: '${names[0]}' has ${rows} values, '${names[i]}' has ${c.length}.`);
  });
  return { names, columns, rows, text: false };
}

function fromUnnamed(value: unknown[], model: ScoringModel): Tensor[] {
  if (model.inputs.length !== 1) {
    throw invalid(`The model takes ${model.inputs.length} inputs ${list(model.inputs.map((s) => s.name))}: send them by name, e.g. {"inputs": {"${model.inputs[0]?.name ?? 'x'}": [...]}}.`);
  }
  const spec = model.inputs[0] as TensorSpec;
  const what = `input '${spec.name}'`;
  const dims = inferDims(value);
  const type = elementTypeOf(spec);
  return [{ name: spec.name, type, dims, data: shapedTensorData(value, dims, type, what) }];
}

/**
 * The scoring response, as MLflow's ONNX flavor and scoring server give it: for array input, `{"predictions":
 * {"<output>": nested list, ...}}` (the flavor answers a dict of outputs, each numpy's tolist()); for DataFrame input,
 * records, one per row, `{"<output>": value}` with each output flattened (MLflow's `reshape(-1)`); where an output
 * has several values per row (MLflow fails there: its columns differ in length), the row's values as a list.
 * Non-finite floats become null and 64-bit integers plain numbers, as in the OIP responses.
 */
export function invocationResponse(outputs: readonly Tensor[], table = false): { predictions: unknown } {
  if (!table) return { predictions: Object.fromEntries(outputs.map((t) => [t.name, nest(jsonValues(t), t.dims)])) };
  const rows = outputs[0]?.dims[0] ?? 0;
  const flat = outputs.map((t) => ({ name: t.name, values: jsonValues(t) }));
  const records: Record<string, unknown>[] = [];
  for (let i = 0; i < rows; i++) {
    const r: Record<string, unknown> = {};
    for (const o of flat) {
      const per = rows === 0 ? 0 : o.values.length / rows;
      r[o.name] = per === 1 ? o.values[i] : o.values.slice(i * per, (i + 1) * per);
    }
    records.push(r);
  }
  return { predictions: records };
}
