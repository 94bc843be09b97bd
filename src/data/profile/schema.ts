/** Dataset schemas: inferred from a profile, or parsed (strictly) from user-edited JSON. */
import { invalid } from '../../platform/errors.js';
import { COLUMN_TYPES, type ColumnType, type DatasetProfile, type DatasetSchema, type SchemaColumn } from './types.js';

/** How far inferred numeric bounds reach beyond the observed range, as a fraction of that range on each side. */
export const INFERRED_BOUND_MARGIN = 0.1;

/**
 * The schema a profile satisfies: types, nullability, categories, and numeric bounds: the observed range widened
 * by 10% of its width on each side, so another sample of the same data passes while a shifted one does not.
 * Datetime columns get no inferred bounds (new data is newer by nature); edit the schema to add any bound.
 */
export function inferSchema(profile: DatasetProfile): DatasetSchema {
  const columns = profile.columns.map((c): SchemaColumn => {
    const col: SchemaColumn = { name: c.name, type: c.type, nullable: c.missing > 0 || c.count === 0 };
    if (c.type === 'categorical' && c.categories) col.categories = c.categories.map((v) => v.value);
    if ((c.type === 'integer' || c.type === 'float') && typeof c.min === 'number' && typeof c.max === 'number' && Number.isFinite(c.min) && Number.isFinite(c.max)) {
      const pad = (c.max - c.min) * INFERRED_BOUND_MARGIN;
      const lo = c.min - pad;
      const hi = c.max + pad;
      col.min = c.type === 'integer' ? Math.floor(lo) : Number(lo.toPrecision(12));
      col.max = c.type === 'integer' ? Math.ceil(hi) : Number(hi.toPrecision(12));
    }
    return col;
  });
  return { columns, allow_extra_columns: false, require_rows: true };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const describe = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'string' ? JSON.stringify(v) : typeof v);

const COLUMN_KEYS = new Set(['name', 'type', 'nullable', 'categories', 'min', 'max', 'description']);
const TOP_KEYS = new Set(['columns', 'allow_extra_columns', 'require_rows', 'version', 'description']);

/** Validates user-supplied schema JSON; errors name the path of the problem, e.g. `columns[3].type`. */
export function parseSchema(json: unknown): DatasetSchema {
  const fail = (path: string, msg: string) => invalid(`schema ${path}: ${msg}`, { path });
  if (!isRecord(json)) throw fail('(root)', `expected an object with a "columns" array, got ${describe(json)}`);
  for (const k of Object.keys(json)) if (!TOP_KEYS.has(k)) throw fail(k, `unknown field (expected one of ${[...TOP_KEYS].join(', ')})`);
  if (!Array.isArray(json.columns)) throw fail('columns', `expected an array, got ${describe(json.columns)}`);
  const schema: DatasetSchema = { columns: [] };
  for (const flag of ['allow_extra_columns', 'require_rows'] as const) {
    const v = json[flag];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') throw fail(flag, `expected true or false, got ${describe(v)}`);
    schema[flag] = v;
  }
  const names = new Set<string>();
  json.columns.forEach((raw: unknown, i: number) => {
    const at = `columns[${i}]`;
    if (!isRecord(raw)) throw fail(at, `expected an object, got ${describe(raw)}`);
    for (const k of Object.keys(raw)) if (!COLUMN_KEYS.has(k)) throw fail(`${at}.${k}`, `unknown field (expected one of ${[...COLUMN_KEYS].join(', ')})`);
    const { name, type, nullable, categories, min, max } = raw;
    if (typeof name !== 'string' || name === '') throw fail(`${at}.name`, `expected a non-empty string, got ${describe(name)}`);
    if (names.has(name)) throw fail(`${at}.name`, `duplicate column name ${JSON.stringify(name)}`);
    names.add(name);
    if (typeof type !== 'string' || !COLUMN_TYPES.includes(type as ColumnType)) {
      throw fail(`${at}.type`, `expected one of ${COLUMN_TYPES.join(', ')}, got ${describe(type)}`);
    }
    const col: SchemaColumn = { name, type: type as ColumnType, nullable: true };
    if (nullable !== undefined) {
      if (typeof nullable !== 'boolean') throw fail(`${at}.nullable`, `expected true or false, got ${describe(nullable)}`);
      col.nullable = nullable;
    }
    if (categories !== undefined) {
      if (col.type !== 'categorical') throw fail(`${at}.categories`, `only allowed for type categorical (this column is ${col.type})`);
      if (!Array.isArray(categories)) throw fail(`${at}.categories`, `expected an array of strings, got ${describe(categories)}`);
      categories.forEach((c: unknown, j: number) => {
        if (typeof c !== 'string') throw fail(`${at}.categories[${j}]`, `expected a string, got ${describe(c)}`);
      });
      col.categories = categories as string[];
    }
    for (const [key, v] of [['min', min], ['max', max]] as const) {
      if (v === undefined || v === null) continue;
      if (col.type === 'integer' || col.type === 'float') {
        if (typeof v !== 'number' || !Number.isFinite(v)) throw fail(`${at}.${key}`, `expected a finite number, got ${describe(v)}`);
      } else if (col.type === 'datetime') {
        if (typeof v !== 'string' || Number.isNaN(Date.parse(v))) throw fail(`${at}.${key}`, `expected an ISO 8601 date or timestamp, got ${describe(v)}`);
      } else throw fail(`${at}.${key}`, `only allowed for integer, float and datetime columns (this column is ${col.type})`);
      col[key] = v;
    }
    if (col.min !== undefined && col.min !== null && col.max !== undefined && col.max !== null && boundValue(col.min) > boundValue(col.max)) {
      throw fail(`${at}.min`, `min ${JSON.stringify(col.min)} is greater than max ${JSON.stringify(col.max)}`);
    }
    schema.columns.push(col);
  });
  return schema;
}

/** A bound as a number: numbers as is, ISO strings as epoch milliseconds. */
export function boundValue(v: number | string): number {
  return typeof v === 'number' ? v : Date.parse(v);
}
