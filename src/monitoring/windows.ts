/** Tumbling windows: by time (aligned to the UTC epoch, so a 1d window is a UTC day) or by row count. */
import { invalid } from '../platform/errors.js';
import { parseDatetime } from '../data/profile/index.js';

export type WindowSpec = { readonly kind: 'time'; readonly ms: number; readonly text: string } | { readonly kind: 'rows'; readonly rows: number; readonly text: string };

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

export function parseWindow(v: unknown): WindowSpec {
  const text = typeof v === 'string' ? v.trim() : '';
  const t = /^(\d{1,6})\s*(s|m|h|d|w)$/.exec(text);
  if (t) {
    const ms = Number(t[1]) * UNITS[t[2]!]!;
    if (ms < 1000 || ms > 366 * 86_400_000) throw invalid(`Invalid window '${text}': between 1s and 366d.`, { field: 'window' });
    return { kind: 'time', ms, text: `${Number(t[1])}${t[2]}` };
  }
  const r = /^(\d{1,10})\s*rows?$/.exec(text);
  if (r) {
    const rows = Number(r[1]);
    if (rows < 1 || rows > 1e9) throw invalid(`Invalid window '${text}': between 1 and 1,000,000,000 rows.`, { field: 'window' });
    return { kind: 'rows', rows, text: `${rows} rows` };
  }
  throw invalid(`Invalid window ${JSON.stringify(v)?.slice(0, 60)}: expected a duration such as 5m, 1h, 1d, 7d, or a row count such as "10000 rows".`, { field: 'window' });
}

/** The start of the time window holding `t` (epoch ms). */
export function windowOf(spec: { ms: number }, t: number): number {
  return Math.floor(t / spec.ms) * spec.ms;
}

/** The end (exclusive) of a window. */
export function windowEnd(spec: WindowSpec, start: number): number {
  return spec.kind === 'time' ? start + spec.ms : start + 1;
}

/** Epoch ms of a record's time value: ISO 8601 text (UTC unless it says otherwise) or epoch milliseconds; NaN when neither. */
export function parseTime(v: unknown): number {
  if (typeof v === 'number') return Number.isFinite(v) ? v : NaN;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.getTime();
  if (typeof v !== 'string' || v === '') return NaN;
  const ms = parseDatetime(v);
  if (ms === ms) return ms;
  if (/^\d{10,13}$/.test(v)) return Number(v);
  return NaN;
}

/** A range bound from the CLI or the API: ISO date or time; a date alone as `to` means the end of that day. */
export function parseBound(v: unknown, field: 'from' | 'to'): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const ms = parseTime(v);
  if (ms !== ms) throw invalid(`Invalid '${field}' ${JSON.stringify(v)?.slice(0, 60)}: expected an ISO 8601 date or time, such as 2014-01-01 or 2014-01-01T00:00:00Z.`, { field });
  if (field === 'to' && typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)) return ms + 86_400_000 - 1;
  return ms;
}
