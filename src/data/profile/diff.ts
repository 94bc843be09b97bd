/** Differences between two profiles (a → b): columns added/removed/retyped, numeric deltas, JS divergence. */
import { columnDivergence } from './divergence.js';
import { QUANTILE_KEYS, type ColumnDiff, type ColumnProfile, type DatasetProfile, type NumberDelta, type ProfileDiff } from './types.js';

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function delta(a: unknown, b: unknown): NumberDelta {
  const x = num(a);
  const y = num(b);
  return { a: x, b: y, delta: x !== null && y !== null ? y - x : null };
}

const missingRate = (c: ColumnProfile) => (c.count + c.missing > 0 ? c.missing / (c.count + c.missing) : 0);

export function diffProfiles(a: DatasetProfile, b: DatasetProfile): ProfileDiff {
  const inA = new Map(a.columns.map((c) => [c.name, c]));
  const inB = new Map(b.columns.map((c) => [c.name, c]));
  const columns: ColumnDiff[] = [];
  for (const ca of a.columns) {
    const cb = inB.get(ca.name);
    if (!cb) {
      columns.push({ name: ca.name, status: 'removed', type_a: ca.type, type_b: null, type_changed: false });
      continue;
    }
    const d: ColumnDiff = {
      name: ca.name,
      status: 'unchanged',
      type_a: ca.type,
      type_b: cb.type,
      type_changed: ca.type !== cb.type,
      count: delta(ca.count, cb.count),
      missing_rate: delta(missingRate(ca), missingRate(cb)),
      distinct: delta(ca.distinct, cb.distinct),
    };
    if (typeof ca.mean === 'number' || typeof cb.mean === 'number') {
      d.mean = delta(ca.mean, cb.mean);
      d.std = delta(ca.std, cb.std);
      d.min = delta(ca.min, cb.min);
      d.max = delta(ca.max, cb.max);
      d.quantiles = Object.fromEntries(QUANTILE_KEYS.map((k) => [k, delta(ca.quantiles?.[k], cb.quantiles?.[k])]));
    }
    d.js_divergence = columnDivergence(ca, cb);
    const moved =
      d.type_changed ||
      d.count!.delta !== 0 ||
      d.missing_rate!.delta !== 0 ||
      d.distinct!.delta !== 0 ||
      (d.mean?.delta ?? 0) !== 0 ||
      (d.std?.delta ?? 0) !== 0 ||
      (d.js_divergence ?? 0) > 0;
    d.status = moved ? 'changed' : 'unchanged';
    columns.push(d);
  }
  for (const cb of b.columns) {
    if (!inA.has(cb.name)) columns.push({ name: cb.name, status: 'added', type_a: null, type_b: cb.type, type_changed: false });
  }
  return {
    rows: delta(a.rows, b.rows),
    added_columns: b.columns.filter((c) => !inA.has(c.name)).map((c) => c.name),
    removed_columns: a.columns.filter((c) => !inB.has(c.name)).map((c) => c.name),
    columns,
  };
}
