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

export function offsetFromPageToken(token: string | undefined): number {
  const p = decodePageToken(token);
  if (!p) return 0;
  const offset = p.offset;
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw invalid('Invalid page token: bad offset');
  return offset;
}

/**
 * The page answered from `rows`, fetched with limit + 1 so that one extra row tells whether another page
 * follows; `load` turns the kept rows into entities.
 */
export async function offsetPage<R, T>(rows: readonly R[], limit: number, offset: number, load: (rows: R[]) => Promise<T[]>): Promise<Page<T>> {
  const items = await load(rows.slice(0, limit));
  return { items, nextPageToken: rows.length > limit ? encodePageToken({ offset: offset + limit }) : undefined };
}
