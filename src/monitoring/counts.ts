/**
 * Binned counts: the reference profile's bins and the live windows' counts in the same bins. Every figure a report
 * shows comes from these counts, so a report costs O(columns × bins) whatever a window holds, and windows from
 * several replicas (or flushes) merge by adding their counts.
 *
 * Numeric columns: bins on the reference's quantile edges, left-closed as `np.histogram` counts them (a value equal
 * to an edge belongs to the bin the edge opens; the reference maximum to the last bin), plus an open bin below the
 * reference's minimum and one above its maximum. Categorical columns: the reference's top-k categories plus "other".
 * Missing values (empty, NA, null, NaN) are counted apart; values of the wrong type and infinities count as invalid.
 */
import { MISSING_TOKENS } from '../data/profile/index.js';

export type ColumnKind = 'numeric' | 'categorical';

/** The reference of one numeric column. `counts` has edges.length + 1 entries: below, the edges.length − 1 bins, above. */
export interface NumericReference {
  readonly name: string;
  readonly kind: 'numeric';
  /** Increasing: the reference's minimum, its unique inner quantiles, its maximum (at least two: [v, v] for a constant column). */
  readonly edges: number[];
  readonly counts: number[];
  readonly missing: number;
  readonly invalid: number;
  readonly mean: number;
  /** Population standard deviation of the reference (NumPy's `std`), the scale of the normalised Wasserstein distance. */
  readonly std: number;
  /** Distinct values in the reference (up to a cap), for the default method. */
  readonly unique: number;
  /** The reference's 0th..100th percentiles (its quantile sketch), for the histograms the UI overlays. */
  readonly percentiles: number[];
}

/** The reference of one categorical column: counts of `categories` then of every other value. */
export interface CategoricalReference {
  readonly name: string;
  readonly kind: 'categorical';
  readonly categories: string[];
  readonly counts: number[];
  readonly missing: number;
  readonly invalid: number;
  readonly unique: number;
  /** The categories are numbers (a numeric column with few distinct values): values are compared as numbers. */
  readonly numeric: boolean;
}

export type ColumnReference = NumericReference | CategoricalReference;

export interface ReferenceProfile {
  readonly rows: number;
  readonly columns: ColumnReference[];
}

/** One column's counts in a window (mergeable by addition). */
export interface ColumnCounts {
  /** Numeric: [below, bins…, above]; categorical: [categories…, other]. */
  c: number[];
  /** Missing values. */
  m: number;
  /** Invalid values (wrong type, infinite). */
  i: number;
  /** Numeric only: the sums of the values below and above the reference's range (their means place the outer bins). */
  lo?: number;
  hi?: number;
}

export interface WindowCounts {
  rows: number;
  cols: Record<string, ColumnCounts>;
}

export function emptyCounts(ref: ColumnReference): ColumnCounts {
  const c = new Array<number>(ref.counts.length).fill(0);
  return ref.kind === 'numeric' ? { c, m: 0, i: 0, lo: 0, hi: 0 } : { c, m: 0, i: 0 };
}

/** Adds `b` into `a` (same reference). */
export function mergeInto(a: WindowCounts, b: WindowCounts): WindowCounts {
  a.rows += b.rows;
  for (const name in b.cols) {
    const x = b.cols[name]!;
    const y = a.cols[name];
    if (!y) {
      a.cols[name] = { c: [...x.c], m: x.m, i: x.i, ...(x.lo !== undefined ? { lo: x.lo, hi: x.hi } : {}) };
      continue;
    }
    const n = Math.min(x.c.length, y.c.length);
    for (let k = 0; k < n; k++) y.c[k]! += x.c[k]!;
    y.m += x.m;
    y.i += x.i;
    if (x.lo !== undefined) {
      y.lo = (y.lo ?? 0) + x.lo;
      y.hi = (y.hi ?? 0) + (x.hi ?? 0);
    }
  }
  return a;
}

/** Text that is NaN: counted as missing, as pandas reads it. */
export const NAN_TEXT: ReadonlySet<string> = new Set(['NaN', 'nan', 'NAN']);
/** Exact powers of ten (every one a double without rounding). */
export const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/**
 * `+s` for a plain decimal (`-?digits[.digits]`, at most 15 digits), about 3× faster than V8's general conversion;
 * NaN for anything else (the caller takes the general path). Exact: the digits form an integer below 2^53 and the
 * power of ten is exact, so the one division rounds as `+s` does.
 */
function plainDecimal(s: string): number {
  const n = s.length;
  let i = n > 0 && s.charCodeAt(0) === 45 ? 1 : 0;
  const negative = i === 1;
  let m = 0;
  let digits = 0;
  let point = -1;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      m = m * 10 + (c - 48);
      digits++;
    } else if (c === 46 && point < 0) point = i;
    else return NaN;
  }
  if (digits === 0 || digits > 15) return NaN;
  const x = point < 0 ? m : m / POW10[n - 1 - point]!;
  return negative ? -x : x;
}

/** Canonical text of a categorical value (numbers as JavaScript prints them, so "1.0" and 1 are one category). */
function canonicalNumber(s: string): string | undefined {
  const x = Number(s);
  return s.trim() !== '' && Number.isFinite(x) ? String(x) : undefined;
}

/**
 * Counts values of one column into its reference's bins. `addText` takes CSV fields; `addValue` typed values
 * (JSON, parquet, tensors). Hot path: no allocation per value.
 */
export class ColumnCounter {
  readonly counts: ColumnCounts;
  /** The numeric reference's edges (null for a categorical column). */
  readonly edges: Float64Array | null;
  private readonly index: Map<string, number> | null;
  private readonly other: number;

  constructor(readonly ref: ColumnReference) {
    this.counts = emptyCounts(ref);
    if (ref.kind === 'numeric') {
      this.edges = Float64Array.from(ref.edges);
      this.index = null;
      this.other = -1;
    } else {
      this.edges = null;
      this.index = new Map(ref.categories.map((c, i) => [c, i]));
      this.other = ref.categories.length;
    }
  }

  /** A fresh counter on the same reference (the next window). */
  fresh(): ColumnCounter {
    return new ColumnCounter(this.ref);
  }

  missing(): void {
    this.counts.m++;
  }

  addText(s: string): void {
    if (this.edges !== null) {
      const d = plainDecimal(s);
      if (d === d) return this.addNumber(d);
    }
    if (s.length <= 4 && MISSING_TOKENS.has(s)) return void this.counts.m++;
    if (this.edges !== null) {
      const x = +s;
      if (x !== x) {
        if (NAN_TEXT.has(s)) this.counts.m++;
        else this.counts.i++;
        return;
      }
      if (s.trim() === '') return void this.counts.m++;
      this.addNumber(x);
      return;
    }
    this.addCategory((this.ref as CategoricalReference).numeric ? (canonicalNumber(s) ?? s) : s);
  }

  addValue(v: unknown): void {
    switch (typeof v) {
      case 'number':
        if (this.edges !== null) {
          if (v !== v) this.counts.m++;
          else this.addNumber(v);
        } else if (v !== v) this.counts.m++;
        else this.addCategory(String(v));
        return;
      case 'string':
        this.addText(v);
        return;
      case 'bigint':
        this.addValue(Number(v));
        return;
      case 'boolean':
        if (this.edges !== null) this.addNumber(v ? 1 : 0);
        else this.addCategory(v ? 'true' : 'false');
        return;
      default:
        if (v === null || v === undefined) this.counts.m++;
        else this.counts.i++;
    }
  }

  addNumber(x: number): void {
    const e = this.edges;
    if (e === null) {
      if (x !== x) this.counts.m++;
      else if (!Number.isFinite(x)) this.counts.i++;
      else this.addCategory(String(x));
      return;
    }
    const c = this.counts.c;
    const n = e.length;
    if (x < e[0]!) {
      if (x === -Infinity) return void this.counts.i++;
      c[0]!++;
      this.counts.lo! += x;
      return;
    }
    if (x > e[n - 1]!) {
      if (x === Infinity) return void this.counts.i++;
      c[n]!++;
      this.counts.hi! += x;
      return;
    }
    if (x !== x) return void this.counts.m++;
    // The first inner edge above x closes its bin ([a, b), as np.histogram); the maximum falls in the last bin.
    let lo = 1;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (e[mid]! > x) hi = mid;
      else lo = mid + 1;
    }
    c[lo]!++;
  }

  private addCategory(s: string): void {
    const k = this.index!.get(s);
    this.counts.c[k === undefined ? this.other : k]!++;
  }
}

/** Bin labels of a column, as reports show them. */
export function binLabels(ref: ColumnReference): string[] {
  if (ref.kind === 'categorical') return [...ref.categories, '(other)'];
  const e = ref.edges;
  const f = (x: number) => String(Number(x.toPrecision(6)));
  const out = [`< ${f(e[0]!)}`];
  for (let k = 1; k < e.length; k++) out.push(k === e.length - 1 ? `[${f(e[k - 1]!)}, ${f(e[k]!)}]` : `[${f(e[k - 1]!)}, ${f(e[k]!)})`);
  out.push(`> ${f(e[e.length - 1]!)}`);
  return out;
}
