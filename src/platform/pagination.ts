import { invalid } from './errors.js';
import { describeValue } from './validation.js';

import type { Page } from '@kiln-mlops/sdk/contract/page';

/** One page of a list, and the token of the next page when there is one (the API's shape, from the SDK's contract). */
export type { Page };

/** The page size a caller asked for (`max_results`), or `def` when it asked for none; at most `max`. */
export function validateMaxResults(v: unknown, def: number, max: number): number {
  if (v === undefined || v === null) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw invalid(`Invalid value ${describeValue(v)} for parameter 'max_results' supplied. It must be a positive integer.`);
  if (v > max) throw invalid(`Invalid value ${v} for parameter 'max_results' supplied. It must be at most ${max}.`);
  return v;
}

/** Opaque page tokens: base64url JSON. Clients must treat them as opaque. */
export function encodePageToken(payload: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
}

export function decodePageToken(token: string | undefined): Record<string, unknown> | undefined {
  if (token === undefined || token === '') return undefined;
  if (typeof token !== 'string' || token.length > 4096) throw invalid('Invalid page token');
  let parsed: unknown;
  try {
    // Accept both base64url and standard base64 (MLflow's clients pass tokens back as they got them).
    parsed = JSON.parse(Buffer.from(token, token.includes('+') || token.includes('/') ? 'base64' : 'base64url').toString('utf8'));
  } catch {
    throw invalid(`Invalid page token '${token.slice(0, 64)}': it was not produced by this server`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid(`Invalid page token '${token.slice(0, 64)}'`);
  return parsed as Record<string, unknown>;
}

/** How a page token's field is checked: a safe integer, or a non-negative one. */
export type TokenField = 'integer' | 'nonNegative';

/**
 * A page token decoded and checked against the shape this server writes: exactly the named fields, each a safe
 * integer (non-negative where asked). Anything else (a fraction, 1e308, a negative offset, a string, another
 * field) is INVALID_PARAMETER_VALUE, so a forged token never reaches the database.
 */
export function decodePageTokenAs<K extends string>(token: string | undefined, shape: Readonly<Record<K, TokenField>>, what = 'page token'): Record<K, number> | undefined {
  const p = decodePageToken(token);
  if (!p) return undefined;
  const keys = Object.keys(shape) as K[];
  const extra = Object.keys(p).find((k) => !(keys as string[]).includes(k));
  if (extra !== undefined) throw invalid(`Invalid ${what}: it was not produced by this server (unexpected field)`);
  const out = {} as Record<K, number>;
  for (const k of keys) {
    const v = p[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || (shape[k] === 'nonNegative' && v < 0)) {
      throw invalid(`Invalid ${what}: it was not produced by this server (bad '${k}')`);
    }
    out[k] = v;
  }
  return out;
}

export function offsetFromPageToken(token: string | undefined): number {
  return decodePageTokenAs(token, { offset: 'nonNegative' })?.offset ?? 0;
}

/**
 * The page answered from `rows`, fetched with limit + 1 so that one extra row tells whether another page
 * follows; `load` turns the kept rows into entities.
 */
export async function offsetPage<R, T>(rows: readonly R[], limit: number, offset: number, load: (rows: R[]) => Promise<T[]>): Promise<Page<T>> {
  const items = await load(rows.slice(0, limit));
  return { items, nextPageToken: rows.length > limit ? encodePageToken({ offset: offset + limit }) : undefined };
}
