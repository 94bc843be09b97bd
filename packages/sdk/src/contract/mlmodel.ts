/**
 * MLflow's `MLmodel` file: a YAML document at the root of a model folder naming the flavors the model can be loaded
 * as, plus its signature, input example and provenance. MLflow writes it with PyYAML (YAML 1.1, sorted keys) and keeps
 * the signature's `inputs` / `outputs` / `params` as JSON strings inside the YAML.
 *
 * `parseMLmodel` reads what MLflow 1.x/2.x writes and keeps every key it does not know, so `writeMLmodel` gives back a
 * file MLflow's Python `Model.load` reads the same way.
 */
import { LineCounter, parseDocument, stringify, isMap, isScalar, type Document } from 'yaml';
import { invalid } from './errors.js';
import { COLUMN_DATA_TYPES, COMPOSITE_COLUMN_TYPES, type ColumnDataType, type ColumnSpec, type InputExampleInfo, type MLmodel, type ParamSpec, type SchemaSpec, type Signature, type TensorSpec } from './registry-schemas.js';

export type { ColumnDataType, ColumnSpec, CompositeColumnType, InputExampleInfo, MLmodel, ParamSpec, SchemaSpec, Signature, TensorSpec } from './registry-schemas.js';

/** numpy dtype names MLflow writes in a tensor spec (`np.dtype(...).name`). */
export const TENSOR_DTYPES = [
  'bool',
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'float16',
  'float32',
  'float64',
  'float128',
  'longdouble',
  'complex64',
  'complex128',
  'complex256',
  'object',
  'str',
  'bytes',
] as const;

/** True for a numpy dtype name a tensor spec may carry, including sized strings (`str160`) and datetimes. */
export function isTensorDtype(name: string): boolean {
  if ((TENSOR_DTYPES as readonly string[]).includes(name)) return true;
  return /^(str|bytes|void)\d+$/.test(name) || /^(datetime64|timedelta64)(\[[a-zA-Z]+\])?$/.test(name);
}

/** Largest MLmodel file accepted. */
export const MAX_MLMODEL_BYTES = 1024 * 1024;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

class Reader {
  readonly lines = new LineCounter();
  doc!: Document.Parsed;

  constructor(readonly text: string) {}

  /** "(line N)" of the node at `path`, or '' when the path has no node. */
  at(path: readonly (string | number)[]): string {
    const node = this.doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
    const off = node?.range?.[0];
    if (off === undefined) {
      // fall back on the key of the nearest parent that exists
      return path.length > 1 ? this.at(path.slice(0, -1)) : '';
    }
    return ` (line ${this.lines.linePos(off).line})`;
  }

  fail(path: readonly (string | number)[], reason: string): never {
    throw invalid(`MLmodel: ${reason}${this.at(path)}`);
  }
}

/** Parses an MLmodel file. A malformed file → KilnError INVALID_PARAMETER_VALUE "MLmodel: <reason> (line N)". */
export function parseMLmodel(text: string): MLmodel {
  if (Buffer.byteLength(text, 'utf8') > MAX_MLMODEL_BYTES) {
    throw invalid(`MLmodel: the file is larger than ${MAX_MLMODEL_BYTES} bytes`);
  }
  const r: Reader = new Reader(text);
  // PyYAML reads YAML 1.1 (yes/no booleans, sexagesimal numbers); timestamps stay strings here.
  r.doc = parseDocument(text, {
    version: '1.1',
    lineCounter: r.lines,
    prettyErrors: false,
    uniqueKeys: true,
    customTags: (tags) => tags.filter((t) => typeof t === 'string' || t.tag !== 'tag:yaml.org,2002:timestamp'),
  });
  const first = r.doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0] ?? r.lines.linePos(first.pos[0]);
    const where = ` (line ${pos.line}, column ${pos.col})`;
    throw invalid(`MLmodel: not valid YAML: ${first.message.split('\n')[0]}${where}`);
  }
  if (!isMap(r.doc.contents)) {
    throw invalid('MLmodel: the file must be a YAML mapping of keys (artifact_path, flavors, ...)');
  }
  let root: unknown;
  try {
    root = r.doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw invalid(`MLmodel: ${(e as Error).message}`);
  }
  if (!isObj(root)) throw invalid('MLmodel: the file must be a YAML mapping of keys');

  const out: MLmodel = { flavors: {}, extra: {} };
  const str = (key: string): string | undefined => {
    const v = root[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') {
      // a plain scalar YAML read as a number (e.g. an all-digit id): keep the text as written
      const node = r.doc.get(key, true);
      return isScalar(node) && typeof node.source === 'string' ? node.source : String(v);
    }
    return r.fail([key], `${key} must be a string`);
  };

  for (const [key, value] of Object.entries(root)) {
    switch (key) {
      case 'flavors': {
        if (value === null || value === undefined) break;
        if (!isObj(value)) r.fail([key], 'flavors must be a mapping of flavor name to its configuration');
        for (const [name, conf] of Object.entries(value)) {
          if (conf === null) out.flavors[name] = {};
          else if (isObj(conf)) out.flavors[name] = conf;
          else r.fail([key, name], `flavor ${name} must be a mapping`);
        }
        break;
      }
      case 'artifact_path':
      case 'model_uuid':
      case 'run_id':
      case 'utc_time_created':
      case 'mlflow_version':
      case 'databricks_runtime': {
        const s = str(key);
        if (s !== undefined) out[key] = s;
        break;
      }
      case 'model_size_bytes': {
        if (value === null || value === undefined) break;
        if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
          r.fail([key], 'model_size_bytes must be a whole number of bytes');
        }
        out.model_size_bytes = value;
        break;
      }
      case 'metadata': {
        if (value === null || value === undefined) break;
        if (!isObj(value)) r.fail([key], 'metadata must be a mapping');
        out.metadata = value;
        break;
      }
      case 'saved_input_example_info': {
        if (value === null || value === undefined) break;
        if (!isObj(value)) r.fail([key], 'saved_input_example_info must be a mapping');
        if (typeof value.artifact_path !== 'string' || value.artifact_path === '') {
          r.fail([key], 'saved_input_example_info.artifact_path must be a file name');
        }
        if (typeof value.type !== 'string') r.fail([key], 'saved_input_example_info.type must be a string');
        out.saved_input_example_info = value as InputExampleInfo;
        break;
      }
      case 'signature': {
        if (value === null || value === undefined) break;
        if (!isObj(value)) r.fail([key], 'signature must be a mapping with inputs and outputs');
        out.signature = parseSignatureObject(value, (sub, reason) => r.fail([key, ...sub], reason));
        break;
      }
      default:
        out.extra[key] = value;
    }
  }
  if (!('flavors' in root) || Object.keys(out.flavors).length === 0) {
    r.fail(['flavors'], 'the file names no flavors (a model needs at least one, e.g. onnx or python_function)');
  }
  return out;
}

type Fail = (path: readonly string[], reason: string) => never;

/**
 * Reads MLmodel's `signature` mapping ({inputs, outputs, params} with JSON strings). Also accepts already-decoded
 * arrays, as the `signature` of MLflow's logged-model REST answers carries them.
 */
export function parseSignatureObject(value: Readonly<Record<string, unknown>>, fail?: Fail): Signature {
  const f: Fail =
    fail ??
    ((path, reason) => {
      throw invalid(`signature${path.length ? '.' + path.join('.') : ''}: ${reason}`);
    });
  const sig: { inputs?: SchemaSpec; outputs?: SchemaSpec; params?: ParamSpec[] } = {};
  for (const part of ['inputs', 'outputs', 'params'] as const) {
    const raw = value[part];
    if (raw === undefined || raw === null || raw === '') continue;
    let list: unknown = raw;
    if (typeof raw === 'string') {
      try {
        list = JSON.parse(raw);
      } catch (e) {
        f([part], `signature ${part} is not valid JSON: ${(e as Error).message}`);
      }
    }
    if (list === null) continue;
    if (!Array.isArray(list)) f([part], `signature ${part} must be a JSON list of specs`);
    if (part === 'params') sig.params = parseParams(list, (reason) => f([part], `signature params: ${reason}`));
    else sig[part] = parseSchema(list, (reason) => f([part], `signature ${part}: ${reason}`));
  }
  return sig;
}

/** Parses one schema (the decoded JSON list). */
export function parseSchema(list: readonly unknown[], fail: (reason: string) => never): SchemaSpec {
  if (list.length === 0) return { kind: 'columns', columns: [] };
  const tensors: TensorSpec[] = [];
  const columns: ColumnSpec[] = [];
  list.forEach((item, i) => {
    if (!isObj(item)) fail(`entry ${i} must be an object`);
    const name = item.name;
    if (name !== undefined && name !== null && typeof name !== 'string') fail(`entry ${i}: name must be a string`);
    const named = typeof name === 'string' ? { name } : {};
    if (item.type === 'tensor') {
      const ts = item['tensor-spec'];
      if (!isObj(ts)) fail(`entry ${i}: a tensor needs "tensor-spec" with dtype and shape`);
      if (typeof ts.dtype !== 'string' || !isTensorDtype(ts.dtype)) {
        fail(`entry ${i}: unknown tensor dtype ${JSON.stringify(ts.dtype)} (expected a numpy dtype such as float32, int64, bool, str)`);
      }
      if (!Array.isArray(ts.shape) || !ts.shape.every((d) => Number.isInteger(d) && (d as number) >= -1)) {
        fail(`entry ${i}: tensor shape must be a list of whole numbers (-1 for a variable dimension)`);
      }
      tensors.push({ ...named, dtype: ts.dtype, shape: ts.shape as number[] });
    } else {
      columns.push({ ...named, ...parseColumnType(item, `entry ${i}`, fail) });
    }
  });
  if (tensors.length > 0 && columns.length > 0) fail('mixes tensor and column specs, which MLflow does not allow');
  const names = list.map((x) => (isObj(x) ? x.name : undefined));
  const namedCount = names.filter((n) => typeof n === 'string').length;
  if (namedCount !== 0 && namedCount !== names.length) fail('mixes named and unnamed entries, which MLflow does not allow');
  return tensors.length > 0 ? { kind: 'tensors', tensors } : { kind: 'columns', columns };
}

function parseColumnType(
  item: Obj,
  where: string,
  fail: (reason: string) => never,
): { type: ColumnSpec['type']; required?: boolean; items?: Obj; properties?: Obj; values?: Obj } {
  const t = item.type;
  const req = item.required;
  if (req !== undefined && typeof req !== 'boolean') fail(`${where}: required must be true or false`);
  const required = typeof req === 'boolean' ? { required: req } : {};
  if (typeof t === 'string' && (COLUMN_DATA_TYPES as readonly string[]).includes(t)) {
    return { type: t as ColumnDataType, ...required };
  }
  switch (t) {
    case 'array': {
      if (!isObj(item.items)) fail(`${where}: an array needs "items"`);
      parseColumnType(item.items, `${where}.items`, fail);
      return { type: 'array', items: item.items, ...required };
    }
    case 'object': {
      if (!isObj(item.properties)) fail(`${where}: an object needs "properties"`);
      for (const [k, v] of Object.entries(item.properties)) {
        if (!isObj(v)) fail(`${where}.properties.${k} must be an object`);
        parseColumnType(v, `${where}.properties.${k}`, fail);
      }
      return { type: 'object', properties: item.properties, ...required };
    }
    case 'map': {
      if (!isObj(item.values)) fail(`${where}: a map needs "values"`);
      parseColumnType(item.values, `${where}.values`, fail);
      return { type: 'map', values: item.values, ...required };
    }
    case 'any':
      return { type: 'any', ...required };
    default:
      return fail(
        `${where}: unknown column type ${JSON.stringify(t)} (expected one of ${[...COLUMN_DATA_TYPES, ...COMPOSITE_COLUMN_TYPES, 'tensor'].join(', ')})`,
      );
  }
}

function parseParams(list: readonly unknown[], fail: (reason: string) => never): ParamSpec[] {
  return list.map((item, i) => {
    if (!isObj(item)) fail(`entry ${i} must be an object`);
    if (typeof item.name !== 'string' || item.name === '') fail(`entry ${i}: a param needs a name`);
    if (typeof item.type !== 'string' || !(COLUMN_DATA_TYPES as readonly string[]).includes(item.type)) {
      fail(`param ${item.name}: unknown type ${JSON.stringify(item.type)} (expected one of ${COLUMN_DATA_TYPES.join(', ')})`);
    }
    const shape = item.shape ?? null;
    if (shape !== null && !(Array.isArray(shape) && shape.every((d) => Number.isInteger(d)))) {
      fail(`param ${item.name}: shape must be null or a list of whole numbers`);
    }
    return { name: item.name, type: item.type as ColumnDataType, default: item.default ?? null, shape: shape as number[] | null };
  });
}

// ---------------------------------------------------------------- writing

/** Python's json.dumps separators, so the strings read the same as MLflow's own. */
function pyJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(pyJson).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value as Obj)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${JSON.stringify(k)}: ${pyJson(v)}`)
      .join(', ')}}`;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  return JSON.stringify(value);
}

/** The JSON list MLflow's `Schema.to_json` writes. */
export function schemaToJson(schema: SchemaSpec): string {
  if (schema.kind === 'tensors') {
    return pyJson(
      schema.tensors.map((t) => ({
        ...(t.name !== undefined ? { name: t.name } : {}),
        type: 'tensor',
        'tensor-spec': { dtype: t.dtype, shape: [...t.shape] },
      })),
    );
  }
  return pyJson(
    schema.columns.map((c) => ({
      type: c.type,
      items: c.items,
      properties: c.properties,
      values: c.values,
      ...(c.name !== undefined ? { name: c.name } : {}),
      required: c.required ?? true,
    })),
  );
}

/** The JSON list MLflow's `ParamSchema.to_json` writes. */
export function paramsToJson(params: readonly ParamSpec[]): string {
  return pyJson(params.map((p) => ({ name: p.name, type: p.type, default: p.default, shape: p.shape })));
}

/** The `signature` mapping as MLflow 2.x writes it (params: null when there are none). */
export function signatureToObject(sig: Signature): { inputs: string | null; outputs: string | null; params: string | null } {
  return {
    inputs: sig.inputs ? schemaToJson(sig.inputs) : null,
    outputs: sig.outputs ? schemaToJson(sig.outputs) : null,
    params: sig.params && sig.params.length > 0 ? paramsToJson(sig.params) : null,
  };
}

function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortDeep);
  if (isObj(v)) {
    const o: Obj = {};
    for (const k of Object.keys(v).sort()) if (v[k] !== undefined) o[k] = sortDeep(v[k]);
    return o;
  }
  return v;
}

/**
 * Writes an MLmodel file the way MLflow does (sorted keys, block style) in YAML that PyYAML reads back to the same
 * values: strings YAML 1.1 would read as booleans, numbers or timestamps are quoted.
 */
export function writeMLmodel(m: MLmodel): string {
  const o: Obj = { ...m.extra };
  if (m.artifact_path !== undefined) o.artifact_path = m.artifact_path;
  o.flavors = m.flavors;
  if (m.model_uuid !== undefined) o.model_uuid = m.model_uuid;
  if (m.run_id !== undefined) o.run_id = m.run_id;
  if (m.utc_time_created !== undefined) o.utc_time_created = m.utc_time_created;
  if (m.mlflow_version !== undefined) o.mlflow_version = m.mlflow_version;
  if (m.signature !== undefined) o.signature = signatureToObject(m.signature);
  if (m.saved_input_example_info !== undefined) o.saved_input_example_info = m.saved_input_example_info;
  if (m.metadata !== undefined) o.metadata = m.metadata;
  if (m.model_size_bytes !== undefined) o.model_size_bytes = m.model_size_bytes;
  if (m.databricks_runtime !== undefined) o.databricks_runtime = m.databricks_runtime;
  return stringify(sortDeep(o), { version: '1.1', lineWidth: 0, indentSeq: false, aliasDuplicateObjects: false });
}
