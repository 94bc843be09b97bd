import type { FastifyRequest } from 'fastify';
import { KilnError, invalid } from '../platform/errors.js';

/**
 * Reads MLflow request fields the way MLflow's protobuf parser does: int64 fields may come as numbers or
 * numeric strings, doubles may be "NaN"/"Infinity"/"-Infinity", GET requests carry everything in the
 * query string (repeated keys for lists). Every violation is an INVALID_PARAMETER_VALUE naming the field.
 */
export class Fields {
  private readonly src: Record<string, unknown>;

  constructor(source: unknown, private readonly fromQuery: boolean) {
    if (source === undefined || source === null) source = {};
    if (typeof source !== 'object' || Array.isArray(source)) throw new KilnError('MALFORMED_REQUEST', 'Request body must be a JSON object.');
    this.src = source as Record<string, unknown>;
  }

  has(name: string): boolean {
    const v = this.src[name];
    return v !== undefined && v !== null;
  }

  raw(name: string): unknown {
    const v = this.src[name];
    // A query string repeats a key for a list; a scalar field takes its last value.
    return this.fromQuery && Array.isArray(v) ? v[v.length - 1] : v;
  }

  requiredString(name: string, alias?: string): string {
    const v = this.optionalString(name) ?? (alias ? this.optionalString(alias) : undefined);
    if (v === undefined || v === '') throw missing(name);
    return v;
  }

  optionalString(name: string): string | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw badType(name, v, 'a string');
    return v;
  }

  /** A string field that also accepts a number (ids are strings in MLflow but some clients send numbers). */
  idString(name: string, required: true): string;
  idString(name: string, required?: false): string | undefined;
  idString(name: string, required = false): string | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null || v === '') {
      if (required) throw missing(name);
      return undefined;
    }
    if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
    if (typeof v !== 'string') throw badType(name, v, 'a string');
    return v;
  }

  optionalInt(name: string): number | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null || v === '') return undefined;
    const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw badType(name, v, 'an integer');
    return n;
  }

  requiredInt(name: string): number {
    const n = this.optionalInt(name);
    if (n === undefined) throw missing(name);
    return n;
  }

  optionalBool(name: string): boolean | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'True') return true;
    if (v === 'false' || v === 'False') return false;
    throw badType(name, v, 'a boolean');
  }

  stringList(name: string): string[] | undefined {
    const v = this.src[name];
    if (v === undefined || v === null) return undefined;
    const list = Array.isArray(v) ? v : this.fromQuery ? [v] : undefined;
    if (!list) throw badType(name, v, 'a list of strings');
    return list.map((x, i) => {
      if (typeof x === 'number' && Number.isSafeInteger(x)) return String(x);
      if (typeof x !== 'string') throw badType(`${name}[${i}]`, x, 'a string');
      return x;
    });
  }

  objectList(name: string): Record<string, unknown>[] {
    const v = this.src[name];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw badType(name, v, 'a list');
    return v.map((x, i) => {
      if (typeof x !== 'object' || x === null || Array.isArray(x)) throw badType(`${name}[${i}]`, x, 'an object');
      return x as Record<string, unknown>;
    });
  }

  /** A view type by name (ACTIVE_ONLY) or by number (1, 2, 3). */
  viewType(name: string): 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL' | undefined {
    const v = this.raw(name);
    if (v === undefined || v === null || v === '') return undefined;
    const byNum: Record<string, 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL'> = { '1': 'ACTIVE_ONLY', '2': 'DELETED_ONLY', '3': 'ALL' };
    const s = String(v);
    if (s === 'ACTIVE_ONLY' || s === 'DELETED_ONLY' || s === 'ALL') return s;
    if (byNum[s] && (typeof v === 'number' || typeof v === 'string')) return byNum[s];
    throw invalid(`Invalid value ${JSON.stringify(v)} for parameter '${name}': expected ACTIVE_ONLY, DELETED_ONLY or ALL.`);
  }
}

/** A double as protobuf JSON writes it: a number, a numeric string, or "NaN" / "Infinity" / "-Infinity". */
export function parseDouble(field: string, v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v === 'NaN' || v === 'nan') return NaN;
    if (v === 'Infinity' || v === 'inf') return Infinity;
    if (v === '-Infinity' || v === '-inf') return -Infinity;
    if (/^\s*-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(v)) return Number(v);
  }
  throw badType(field, v, 'a double (a number, or "NaN", "Infinity", "-Infinity")');
}

/** An int64 as protobuf JSON writes it: a number or a numeric string. */
export function parseInt64(field: string, v: unknown, def?: number): number {
  if ((v === undefined || v === null) && def !== undefined) return def;
  const n = typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    if (v === undefined || v === null) throw missing(field);
    throw badType(field, v, 'an integer');
  }
  return n;
}

export function missing(name: string): KilnError {
  return invalid(`Missing value for required parameter '${name}'. See the API docs for more information about request parameters.`, { field: name });
}

export function badType(name: string, v: unknown, expected: string): KilnError {
  const shown = typeof v === 'string' ? `'${v.length > 60 ? v.slice(0, 60) + '…' : v}'` : JSON.stringify(v)?.slice(0, 60) ?? String(v);
  return invalid(`Invalid value ${shown} for parameter '${name}' supplied: expected ${expected}.`, { field: name });
}

/** The tag an MLflow request sets to name the project of what it creates (MLflow has no project field). */
export const PROJECT_TAG = 'kiln.project';

/**
 * The project an MLflow request creates an experiment or a registered model in: its `kiln.project` tag, else its
 * `X-Kiln-Project` header, else none (the caller's default project). Several such tags give several projects, each
 * of which the rule then checks.
 */
export function mlflowProject(req: FastifyRequest): unknown {
  const body = req.body;
  const tags = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>).tags : undefined;
  const named = Array.isArray(tags) ? tags.filter((t): t is { key: unknown; value: unknown } => t !== null && typeof t === 'object' && (t as { key?: unknown }).key === PROJECT_TAG).map((t) => t.value) : [];
  if (named.length > 0) return named.length === 1 ? named[0] : named;
  const header = req.headers['x-kiln-project'];
  return header === '' ? undefined : header;
}
