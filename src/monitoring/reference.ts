/**
 * The reference profile, computed once when a monitor is created: the dataset's rows are read with the data
 * capability's readers (the ones its profiler uses) and its stored profile gives each column's type. Numeric columns
 * get bins on the reference's quantile edges (NumPy's default linear interpolation, 10 bins unless configured);
 * categorical columns their top-k categories plus "other".
 */
import { MISSING_TOKENS, type ColumnProfile, type DatasetProfile, type RowSink } from '../data/profile/index.js';
import { invalid } from '../platform/errors.js';
import { ColumnCounter, NAN_TEXT, type CategoricalReference, type ColumnKind, type ColumnReference, type NumericReference, type ReferenceProfile } from './counts.js';

/** Values kept per numeric column for exact quantiles; beyond, the edges come from the stored profile's sketch. */
const EXACT_CAP = 5_000_000;
/** Distinct values counted per categorical column. */
const CATEGORY_CAP = 100_000;
/** Numeric columns with this many distinct values or fewer are compared as categories (as Evidently does). */
export const FEW_VALUES = 5;

export interface ColumnRequest {
  readonly name: string;
  /** Forced kind; otherwise from the stored profile's type. */
  readonly kind?: ColumnKind;
}

export interface ReferenceOptions {
  readonly bins: number;
  readonly topK: number;
}

/** The kind a column of the stored profile is monitored as, or undefined when it can't be (text, dates, empty). */
export function kindOf(c: ColumnProfile): ColumnKind | undefined {
  if (c.type === 'integer' || c.type === 'float') return 'numeric';
  if (c.type === 'categorical' || c.type === 'boolean') return 'categorical';
  return undefined;
}

class Collector {
  values: Float64Array = new Float64Array(1024);
  n = 0;
  capped = false;
  missing = 0;
  invalid = 0;
  categories = new Map<string, number>();

  constructor(readonly kind: ColumnKind) {}

  private push(x: number): void {
    if (this.n >= EXACT_CAP) {
      this.capped = true;
      return;
    }
    if (this.n === this.values.length) {
      const next = new Float64Array(Math.min(EXACT_CAP, this.values.length * 2));
      next.set(this.values);
      this.values = next;
    }
    this.values[this.n++] = x;
  }

  add(v: unknown): void {
    if (v === null || v === undefined) return void this.missing++;
    if (this.kind === 'numeric') {
      const x = typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : typeof v === 'boolean' ? (v ? 1 : 0) : typeof v === 'string' ? (v.trim() === '' || MISSING_TOKENS.has(v) ? NaN : +v) : NaN;
      if (x !== x) {
        if (typeof v === 'string' && v.trim() !== '' && !MISSING_TOKENS.has(v) && !NAN_TEXT.has(v)) this.invalid++;
        else this.missing++;
        return;
      }
      if (!Number.isFinite(x)) return void this.invalid++;
      this.push(x);
      return;
    }
    const s = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v as number);
    if (MISSING_TOKENS.has(s)) return void this.missing++;
    const c = this.categories.get(s);
    if (c !== undefined) this.categories.set(s, c + 1);
    else if (this.categories.size < CATEGORY_CAP) this.categories.set(s, 1);
    else this.invalid++;
  }
}

/** A RowSink keeping the values of the requested columns. */
class ReferenceSink implements RowSink {
  rows = 0;
  private readonly byName: Map<string, Collector>;
  private header: (Collector | undefined)[] = [];

  constructor(readonly collectors: Map<string, Collector>) {
    this.byName = collectors;
  }
  setHeader(names: string[]): number[] {
    this.header = names.map((n) => this.byName.get(n));
    return names.map((_, i) => i);
  }
  markFloat(): void {}
  addTextRow(row: readonly string[], map: readonly number[] | null): void {
    for (let i = 0; i < row.length; i++) this.header[map ? map[i]! : i]?.add(row[i]);
    this.rows++;
  }
  addValueRow(row: readonly unknown[], map: readonly number[]): void {
    for (let i = 0; i < row.length; i++) this.header[map[i]!]?.add(row[i]);
    this.rows++;
  }
  addObject(obj: Record<string, unknown>): void {
    for (const [name, c] of this.byName) c.add(obj[name]);
    this.rows++;
  }
}

/** NumPy's `quantile(x, q)` with the default linear interpolation, on sorted values. */
export function quantileSorted(sorted: Float64Array, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  // NumPy's _lerp: from the nearer end, so the result is the same double NumPy gives.
  const t = h - lo;
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

function edgesFrom(quantile: (q: number) => number, min: number, max: number, bins: number): number[] {
  const out = [min];
  for (let k = 1; k < bins; k++) {
    const e = quantile(k / bins);
    if (e > out[out.length - 1]! && e < max) out.push(e);
  }
  out.push(max);
  return out;
}

/**
 * Builds the reference of `columns` from the rows `scan` streams (the dataset's files) and its stored profile.
 * Columns the profile lacks, or that can't be monitored, are refused with the reason.
 */
export async function buildReference(profile: DatasetProfile, scan: (sink: RowSink) => Promise<void>, columns: readonly ColumnRequest[], opts: ReferenceOptions): Promise<ReferenceProfile> {
  const stored = new Map(profile.columns.map((c) => [c.name, c]));
  const collectors = new Map<string, Collector>();
  const forced = new Map<string, ColumnKind | undefined>();
  for (const col of columns) {
    const p = stored.get(col.name);
    if (!p) throw invalid(`The reference has no column '${col.name}' (it has ${profile.columns.map((c) => c.name).join(', ')}).`, { field: 'features', column: col.name });
    const kind = col.kind ?? kindOf(p);
    if (!kind) throw invalid(`Column '${col.name}' of the reference is ${p.type}: only numeric and categorical columns can be monitored (name its kind to monitor it as categorical).`, { field: 'features', column: col.name });
    collectors.set(col.name, new Collector(kind));
    forced.set(col.name, col.kind);
  }
  const sink = new ReferenceSink(collectors);
  await scan(sink);
  const out: ColumnReference[] = [];
  for (const [name, c] of collectors) {
    if (c.kind === 'numeric') {
      const sorted = c.values.subarray(0, c.n).slice().sort();
      let unique = 0;
      for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) unique++;
      if (!c.capped && unique <= FEW_VALUES && unique > 0 && forced.get(name) !== 'numeric') {
        // Few distinct numbers (a flag, a count): compared as categories.
        const cats = new Map<string, number>();
        for (const x of sorted) cats.set(String(x), (cats.get(String(x)) ?? 0) + 1);
        out.push(categorical(name, cats, c.missing, c.invalid, unique, true, opts.topK));
        continue;
      }
      if (c.n === 0) throw invalid(`Column '${name}' of the reference has no numeric value to take bins from.`, { field: 'features', column: name });
      const p = stored.get(name)!;
      let edges: number[];
      let percentiles: number[];
      let mean: number;
      let std: number;
      if (!c.capped) {
        edges = edgesFrom((q) => quantileSorted(sorted, q), sorted[0]!, sorted[sorted.length - 1]!, opts.bins);
        percentiles = Array.from({ length: 101 }, (_, k) => quantileSorted(sorted, k / 100));
        let s = 0;
        for (const x of sorted) s += x;
        mean = s / sorted.length;
        let m2 = 0;
        for (const x of sorted) m2 += (x - mean) * (x - mean);
        std = Math.sqrt(m2 / sorted.length);
      } else {
        // More values than kept: the stored profile's sketch gives the quantiles.
        const cdf = p.cdf ?? [];
        const at = (q: number) => cdf[Math.round(q * 100)] ?? NaN;
        edges = edgesFrom(at, p.min as number, p.max as number, opts.bins);
        percentiles = [...cdf];
        mean = (p.mean as number) ?? 0;
        std = (p.std as number) ?? 0;
      }
      if (edges.length < 2) edges = [edges[0]!, edges[0]!];
      const ref: NumericReference = { name, kind: 'numeric', edges, counts: [], missing: c.missing, invalid: c.invalid, mean, std, unique, percentiles };
      const counter = new ColumnCounter({ ...ref, counts: new Array<number>(edges.length + 1).fill(0) });
      for (const x of sorted) counter.addNumber(x);
      out.push({ ...ref, counts: counter.counts.c });
      continue;
    }
    out.push(categorical(name, c.categories, c.missing, c.invalid, c.categories.size, false, opts.topK));
  }
  // A capped column's counts came from the values kept; recount on a second pass so they cover every row.
  const capped = [...collectors].filter(([, c]) => c.capped).map(([n]) => n);
  if (capped.length > 0) await recount(out, capped, scan);
  return { rows: sink.rows, columns: out };
}

function categorical(name: string, counts: Map<string, number>, missing: number, invalidCount: number, unique: number, numeric: boolean, topK: number): CategoricalReference {
  const sorted = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const top = sorted.slice(0, topK);
  const other = sorted.slice(topK).reduce((s, [, n]) => s + n, 0);
  // Numbers in numeric order, text in the order of frequency.
  if (numeric) top.sort((a, b) => Number(a[0]) - Number(b[0]));
  return { name, kind: 'categorical', categories: top.map(([v]) => v), counts: [...top.map(([, n]) => n), other], missing, invalid: invalidCount, unique, numeric };
}

async function recount(out: ColumnReference[], names: readonly string[], scan: (sink: RowSink) => Promise<void>): Promise<void> {
  const counters = new Map(out.filter((r) => names.includes(r.name)).map((r) => [r.name, new ColumnCounter({ ...r, counts: new Array<number>(r.counts.length).fill(0) } as ColumnReference)]));
  let header: (ColumnCounter | undefined)[] = [];
  await scan({
    setHeader: (ns) => ((header = ns.map((n) => counters.get(n))), ns.map((_, i) => i)),
    markFloat: () => undefined,
    addTextRow: (row, map) => row.forEach((v, i) => header[map ? map[i]! : i]?.addText(v)),
    addValueRow: (row, map) => row.forEach((v, i) => header[map[i]!]?.addValue(v)),
    addObject: (obj) => counters.forEach((c, n) => c.addValue(obj[n])),
  });
  for (let k = 0; k < out.length; k++) {
    const c = counters.get(out[k]!.name);
    if (c) out[k] = { ...out[k]!, counts: c.counts.c, missing: c.counts.m, invalid: c.counts.i } as ColumnReference;
  }
}
