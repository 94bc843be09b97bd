/**
 * One column's running statistics over a single pass. Every candidate type (integer, float, boolean,
 * datetime) is tracked until a value rules it out; text statistics (lengths, distinct, top values) are
 * kept for every column so that a column that falls back to string still has complete statistics.
 */
import { HyperLogLog, KllSketch, SpaceSaving } from './sketch.js';
import { QUANTILE_KEYS, type ColumnProfile, type ColumnType, type QuantileKey, type ValueCount } from './types.js';

/** Text that counts as a missing value (besides JSON null / absent keys / parquet nulls). */
export const MISSING_TOKENS: ReadonlySet<string> = new Set(['', 'NA', 'N/A', 'null', 'NULL', 'None']);
const NAN_TOKENS = new Set(['NaN', 'nan', 'NAN']);
const POS_INF_TOKENS = new Set(['inf', 'Inf', 'INF', '+inf', '+Inf', 'Infinity', '+Infinity']);
const NEG_INF_TOKENS = new Set(['-inf', '-Inf', '-INF', '-Infinity']);
const DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

export interface ProfileOptions {
  /** Largest distinct count for a categorical column (default 50). */
  maxCategories?: number;
  /** Largest distinct / non-missing ratio for a categorical column (default 0.05). */
  categoricalRatio?: number;
  /** Values kept in `top` (default 20). */
  topK?: number;
  /** Distinct values counted exactly before switching to HyperLogLog + space-saving (default 10,000). */
  exactDistinctCap?: number;
  /** KLL accuracy parameter (default 400). */
  sketchK?: number;
  /** Bins of the numeric histogram (default 20). */
  histogramBins?: number;
}

export type ResolvedOptions = Required<ProfileOptions>;

export function resolveOptions(o: ProfileOptions = {}): ResolvedOptions {
  return {
    maxCategories: o.maxCategories ?? 50,
    categoricalRatio: o.categoricalRatio ?? 0.05,
    topK: o.topK ?? 20,
    exactDistinctCap: o.exactDistinctCap ?? 10_000,
    sketchK: o.sketchK ?? 400,
    histogramBins: o.histogramBins ?? 20,
  };
}

const NOT_A_NUMBER = 1;
const IS_FLOAT = 2;
let numberKind = 0; // side result of parseNumberText: 0 integer text, 1 not numeric, 2 float text

/** Parses decimal number text (no hex, no whitespace). Sets numberKind. */
function parseNumberText(s: string): number {
  const c0 = s.charCodeAt(0);
  let kind = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) continue;
    if (c === 46 || c === 101 || c === 69) kind = IS_FLOAT;
    else if ((c === 43 || c === 45) && (i === 0 || kind === IS_FLOAT)) continue;
    else {
      kind = NOT_A_NUMBER;
      break;
    }
  }
  if (kind !== NOT_A_NUMBER && (c0 !== 46 || s.length > 1)) {
    const n = Number(s);
    if (n === n) {
      numberKind = kind;
      return n;
    }
  }
  numberKind = IS_FLOAT;
  if (NAN_TOKENS.has(s)) return NaN;
  if (POS_INF_TOKENS.has(s)) return Infinity;
  if (NEG_INF_TOKENS.has(s)) return -Infinity;
  numberKind = NOT_A_NUMBER;
  return NaN;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** Epoch milliseconds of an ISO 8601 date or timestamp (UTC when no offset is given), or NaN. */
export function parseDatetime(s: string): number {
  // Fast path for the common shapes YYYY-MM-DD and YYYY-MM-DD[T ]HH:MM:SS[Z]; the rest go through the regex.
  const len = s.length;
  if ((len === 10 || len === 19 || (len === 20 && s.charCodeAt(19) === 90)) && s.charCodeAt(4) === 45 && s.charCodeAt(7) === 45) {
    const y = digits(s, 0, 4);
    const mo = digits(s, 5, 2);
    const d = digits(s, 8, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > DAYS_IN_MONTH[mo - 1]!) return NaN;
    if (mo === 2 && d === 29 && !(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0))) return NaN;
    if (len === 10) return Date.UTC(y, mo - 1, d);
    const sep = s.charCodeAt(10);
    if ((sep === 84 || sep === 32) && s.charCodeAt(13) === 58 && s.charCodeAt(16) === 58) {
      const h = digits(s, 11, 2);
      const mi = digits(s, 14, 2);
      const sec = digits(s, 17, 2);
      if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59) return NaN;
      return Date.UTC(y, mo - 1, d, h, mi, sec);
    }
    return NaN;
  }
  return parseDatetimeSlow(s);
}

function parseDatetimeSlow(s: string): number {
  const m = DATETIME_RE.exec(s);
  if (!m) return NaN;
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1 || day > 31) return NaN;
  if (m[4] === undefined) return Date.parse(s);
  const iso = s.replace(' ', 'T') + (m[7] === undefined ? 'Z' : '');
  return Date.parse(iso);
}

export class ColumnAccumulator {
  count = 0;
  missing = 0;
  // candidate types
  private maybeInt = true;
  private maybeNum = true;
  private maybeBool = true;
  private maybeDate = true;
  // numeric moments (finite values only)
  private n = 0;
  private mean = 0;
  private m2 = 0;
  private min = Infinity;
  private max = -Infinity;
  private nan = 0;
  private inf = 0;
  private kll: KllSketch | null;
  // boolean
  private trues = 0;
  private falses = 0;
  // datetime
  private minMs = Infinity;
  private maxMs = -Infinity;
  // text
  private lenMin = Infinity;
  private lenMax = 0;
  private lenSum = 0;
  private freq: Map<string, number> | null = new Map();
  private hll: HyperLogLog | null = null;
  private top: SpaceSaving | null = null;

  constructor(
    readonly name: string,
    private readonly opts: ResolvedOptions,
    seed: number,
  ) {
    this.kll = new KllSketch(opts.sketchK, seed);
  }

  /** Declared floating-point storage (parquet FLOAT/DOUBLE): never inferred as integer. */
  markFloat(): void {
    this.maybeInt = false;
  }

  addMissing(times = 1): void {
    this.missing += times;
  }

  /** A value read as text (CSV fields, JSON strings when `scalars` is false). */
  addText(s: string, scalars = true): void {
    if (s.length <= 4 && MISSING_TOKENS.has(s)) {
      this.missing++;
      return;
    }
    this.count++;
    if (this.maybeNum) {
      if (scalars) {
        const x = parseNumberText(s);
        if (numberKind === NOT_A_NUMBER) this.dropNumeric();
        else this.numeric(x, numberKind === 0);
      } else this.dropNumeric();
    }
    if (this.maybeBool) {
      const l = s.length;
      if (scalars && (l === 4 || l === 5)) {
        const low = s.toLowerCase();
        if (low === 'true') this.trues++;
        else if (low === 'false') this.falses++;
        else this.maybeBool = false;
      } else this.maybeBool = false;
    }
    if (this.maybeDate) {
      const c = s.charCodeAt(0);
      const ms = c >= 48 && c <= 57 && s.length >= 10 ? parseDatetime(s) : NaN;
      if (ms === ms) {
        if (ms < this.minMs) this.minMs = ms;
        if (ms > this.maxMs) this.maxMs = ms;
      } else this.maybeDate = false;
    }
    this.text(s);
  }

  /** A typed value from JSON or parquet. Nested values are profiled as their JSON text. */
  addValue(v: unknown): void {
    switch (typeof v) {
      case 'string':
        this.addText(v, false);
        return;
      case 'number':
        this.addNumber(v, Number.isInteger(v));
        return;
      case 'bigint':
        this.addNumber(Number(v), true, v.toString());
        return;
      case 'boolean':
        this.count++;
        this.dropNumeric();
        this.maybeDate = false;
        if (v) this.trues++;
        else this.falses++;
        this.text(v ? 'true' : 'false');
        return;
      case 'undefined':
        this.missing++;
        return;
      default:
        if (v === null) {
          this.missing++;
          return;
        }
        if (v instanceof Date) {
          const ms = v.getTime();
          this.count++;
          this.dropNumeric();
          this.maybeBool = false;
          if (ms === ms) {
            if (ms < this.minMs) this.minMs = ms;
            if (ms > this.maxMs) this.maxMs = ms;
            this.text(v.toISOString());
          } else {
            this.maybeDate = false;
            this.text('Invalid Date');
          }
          return;
        }
        if (v instanceof Uint8Array) {
          this.addText(Buffer.from(v).toString('base64'), false);
          return;
        }
        this.addText(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)), false);
    }
  }

  private addNumber(x: number, isInt: boolean, text?: string): void {
    this.count++;
    this.maybeBool = false;
    this.maybeDate = false;
    if (this.maybeNum) this.numeric(x, isInt);
    this.text(text ?? String(x));
  }

  private numeric(x: number, isInt: boolean): void {
    if (!isInt) this.maybeInt = false;
    if (x - x !== 0) {
      // NaN or ±Infinity
      if (x === x) this.inf++;
      else this.nan++;
      return;
    }
    const n = ++this.n;
    const d = x - this.mean;
    this.mean += d / n;
    this.m2 += d * (x - this.mean);
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    this.kll!.update(x);
  }

  private dropNumeric(): void {
    if (!this.maybeNum) return;
    this.maybeNum = false;
    this.maybeInt = false;
    this.kll = null;
  }

  private text(s: string): void {
    const l = s.length;
    this.lenSum += l;
    if (l < this.lenMin) this.lenMin = l;
    if (l > this.lenMax) this.lenMax = l;
    const freq = this.freq;
    if (freq !== null) {
      const c = freq.get(s);
      if (c !== undefined) freq.set(s, c + 1);
      else {
        freq.set(s, 1);
        if (freq.size > this.opts.exactDistinctCap) this.goApproximate();
      }
      return;
    }
    this.hll!.add(s);
    // Frequent values of a high-cardinality column are only reported for text columns; while the column may
    // still be numeric or datetime the summary is not fed (it is the costliest part of the pass).
    if (!this.maybeNum && !this.maybeDate) this.top!.add(s);
  }

  private goApproximate(): void {
    const hll = new HyperLogLog();
    const top = new SpaceSaving(Math.max(256, this.opts.topK * 10));
    // Heaviest first so the summary starts with the values most likely to stay.
    const entries = [...this.freq!.entries()].sort((a, b) => b[1] - a[1]);
    for (const [v, c] of entries) {
      hll.add(v);
      top.add(v, c);
    }
    this.freq = null;
    this.hll = hll;
    this.top = top;
  }

  private resolveType(distinct: number, exact: boolean): ColumnType {
    if (this.count === 0) return 'string';
    if (this.maybeBool) return 'boolean';
    if (this.maybeNum) return this.maybeInt ? 'integer' : 'float';
    if (this.maybeDate) return 'datetime';
    const o = this.opts;
    // Few distinct values, each repeated on average: a column of all-distinct values is never categorical.
    if (exact && distinct < this.count && distinct <= o.maxCategories && distinct <= Math.max(1, o.categoricalRatio * this.count)) return 'categorical';
    return 'string';
  }

  finish(): ColumnProfile {
    const exact = this.freq !== null;
    const distinct = exact ? this.freq!.size : Math.max(this.opts.exactDistinctCap, this.hll!.estimate());
    const type = this.resolveType(distinct, exact);
    const p: ColumnProfile = { name: this.name, type, count: this.count, missing: this.missing, distinct, distinct_exact: exact };
    if (type === 'integer' || type === 'float') this.numericProfile(p, type);
    if (type === 'boolean') {
      p.true_count = this.trues;
      p.false_count = this.falses;
    }
    if (type === 'datetime') {
      p.min = new Date(this.minMs).toISOString();
      p.max = new Date(this.maxMs).toISOString();
    }
    if (type === 'string' || type === 'categorical') {
      p.min_length = this.count ? this.lenMin : 0;
      p.max_length = this.lenMax;
      p.mean_length = this.count ? this.lenSum / this.count : 0;
    }
    if (type === 'string' || type === 'categorical' || ((type === 'integer' || type === 'datetime') && exact)) {
      const { top, exactTop } = this.topValues();
      p.top = top;
      p.top_exact = exactTop;
    }
    if (type === 'categorical') {
      p.categories = [...this.freq!.entries()]
        .map(([value, count]) => ({ value, count }))
        .sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
    }
    return p;
  }

  private topValues(): { top: ValueCount[]; exactTop: boolean } {
    const byCount = (a: ValueCount, b: ValueCount) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0);
    if (this.freq !== null) {
      const all = [...this.freq.entries()].map(([value, count]) => ({ value, count }));
      return { top: all.sort(byCount).slice(0, this.opts.topK), exactTop: true };
    }
    const entries = this.top!.entries().sort((a, b) => b.count - a.count);
    return { top: entries.slice(0, this.opts.topK).map(({ value, count }) => ({ value, count })), exactTop: false };
  }

  private numericProfile(p: ColumnProfile, type: 'integer' | 'float'): void {
    const kll = this.kll!;
    const has = this.n > 0;
    p.min = has ? this.min : null;
    p.max = has ? this.max : null;
    p.mean = has ? this.mean : null;
    p.std = has ? Math.sqrt(this.m2 / this.n) : null;
    if (type === 'float') {
      p.nan_count = this.nan;
      p.inf_count = this.inf;
    }
    if (!has) return;
    const qs = kll.quantiles(QUANTILE_KEYS.map(Number));
    const quantiles = {} as Record<QuantileKey, number>;
    QUANTILE_KEYS.forEach((k, i) => (quantiles[k] = qs[i]!));
    p.quantiles = quantiles;
    const cdfRanks = Array.from({ length: 101 }, (_, i) => i / 100);
    const cdf = kll.quantiles(cdfRanks);
    cdf[0] = this.min;
    cdf[100] = this.max;
    p.cdf = cdf;
    const bins = this.opts.histogramBins;
    const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? this.max : this.min + ((this.max - this.min) * i) / bins));
    p.histogram = { edges, counts: kll.histogram(edges) };
  }
}
