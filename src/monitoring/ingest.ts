/**
 * Counting records into windows: rows from a file (through the data capability's readers) or JSON, and served
 * requests (tensors). Counts live in memory per window until they are written, one part per window; only rows that
 * carry a request id (or a label) are kept as rows, for joining labels later. Memory is flat in the number of rows.
 */
import type { RowSink } from '../data/profile/index.js';
import { invalid, KilnError } from '../platform/errors.js';
import { ColumnCounter, POW10, type ColumnReference, type WindowCounts } from './counts.js';
import { parseTime, windowOf, type WindowSpec } from './windows.js';
import type { PredictionRow } from './store.js';

/** The column a record's request id is read from. */
export const REQUEST_ID = 'request_id';
/** Rows kept for labels per upload, at most (each is a row in the database). */
export const MAX_KEPT_PER_UPLOAD = 2_000_000;

export interface CountingPlan {
  readonly monitorPk: number;
  /** Features and predictions, counted. */
  readonly refs: readonly ColumnReference[];
  readonly window: WindowSpec;
  readonly timeColumn: string | null;
  readonly label: string | null;
  /** The prediction whose value is kept with a request id (the first prediction output). */
  readonly prediction: string | null;
  readonly score: string | null;
}

export class WindowAccumulator {
  rows = 0;
  readonly counters: ColumnCounter[];
  constructor(refs: readonly ColumnReference[]) {
    this.counters = refs.map((r) => new ColumnCounter(r));
  }
  toCounts(): WindowCounts {
    const cols: WindowCounts['cols'] = {};
    for (const c of this.counters) cols[c.ref.name] = c.counts;
    return { rows: this.rows, cols };
  }
}

/** Where each input column goes. */
const enum Role {
  Ignored = 0,
  Counted = 1,
  Time = 2,
  RequestId = 3,
  Label = 4,
  Score = 5,
}

/** Counts the rows a reader pushes (CSV, JSON lines, parquet) or JSON objects given one by one. */
export class IngestSink implements RowSink {
  readonly windows = new Map<number, WindowAccumulator>();
  readonly kept: PredictionRow[] = [];
  readonly ignored = new Set<string>();
  rows = 0;
  private roles: Role[] = [];
  private counterAt: number[] = [];
  private predictionAt = -1;
  private timeAt = -1;
  private readonly refIndex: Map<string, number>;
  private current: WindowAccumulator | undefined;
  private currentStart = NaN;
  /** Row-count windows: the open window and the rows already in it. */
  private openWindow: number;
  private openRows: number;
  private readonly known: Set<string>;

  constructor(
    private readonly plan: CountingPlan,
    private readonly now: number,
    open: { window: number; rows: number } = { window: 0, rows: 0 },
  ) {
    this.refIndex = new Map(plan.refs.map((r, i) => [r.name, i]));
    this.openWindow = open.window;
    this.openRows = open.rows;
    this.known = new Set([...this.refIndex.keys(), REQUEST_ID, ...[plan.timeColumn, plan.label, plan.score].filter((x): x is string => x !== null)]);
  }

  /** The row-count window state after these rows. */
  get open(): { window: number; rows: number } {
    return { window: this.openWindow, rows: this.openRows };
  }

  get invalidValues(): number {
    let n = 0;
    for (const w of this.windows.values()) for (const c of w.counters) n += c.counts.i;
    return n;
  }

  setHeader(names: string[], source: string): number[] {
    const seen = new Set<string>();
    this.roles = [];
    this.counterAt = [];
    this.predictionAt = -1;
    this.timeAt = this.plan.timeColumn === null ? -1 : names.indexOf(this.plan.timeColumn);
    names.forEach((n, i) => {
      if (seen.has(n)) throw invalid(`${source}: duplicate column name "${n}" in the header`, { source, column: n });
      seen.add(n);
      const k = this.refIndex.get(n);
      this.counterAt.push(k ?? -1);
      if (n === this.plan.prediction) this.predictionAt = i;
      this.roles.push(k !== undefined ? Role.Counted : n === this.plan.timeColumn ? Role.Time : n === REQUEST_ID ? Role.RequestId : n === this.plan.label ? Role.Label : n === this.plan.score ? Role.Score : Role.Ignored);
      if (!this.known.has(n)) this.ignored.add(n);
    });
    if (this.plan.timeColumn !== null && !seen.has(this.plan.timeColumn)) throw invalid(`${source}: the time column '${this.plan.timeColumn}' is missing (the monitor places rows in windows by it).`, { source, column: this.plan.timeColumn });
    if (![...this.refIndex.keys()].some((n) => seen.has(n))) {
      throw invalid(`${source}: none of the monitored columns is there (expected some of ${[...this.refIndex.keys()].slice(0, 20).join(', ')}).`, { source });
    }
    return names.map((_, i) => i);
  }

  markFloat(): void {}

  /** The accumulator of the window a row with time `t` (or arrival now) goes to. */
  private windowFor(t: number | undefined): WindowAccumulator {
    let start: number;
    const spec = this.plan.window;
    if (spec.kind === 'rows') {
      if (this.openRows >= spec.rows) {
        this.openWindow++;
        this.openRows = 0;
      }
      this.openRows++;
      start = this.openWindow;
    } else start = windowOf(spec, t ?? this.now);
    if (start === this.currentStart) return this.current!;
    let w = this.windows.get(start);
    if (!w) {
      w = new WindowAccumulator(this.plan.refs);
      this.windows.set(start, w);
    }
    this.current = w;
    this.currentStart = start;
    return w;
  }

  private time(v: unknown): number | undefined {
    if (this.plan.timeColumn === null) return undefined;
    const t = parseTime(v);
    if (t !== t) throw invalid(`Row ${this.rows + 1}: the time column '${this.plan.timeColumn}' holds ${JSON.stringify(v)?.slice(0, 60) ?? 'nothing'}, not an ISO 8601 date or time (or epoch milliseconds).`, { row: this.rows + 1, column: this.plan.timeColumn });
    return t;
  }

  private keep(requestId: unknown, prediction: unknown, score: unknown, label: unknown): void {
    const hasId = requestId !== undefined && requestId !== null && requestId !== '';
    const hasLabel = label !== undefined && label !== null && label !== '';
    if (!hasId && !hasLabel) return;
    if (this.kept.length >= MAX_KEPT_PER_UPLOAD) throw new KilnError('REQUEST_TOO_LARGE', `More than ${MAX_KEPT_PER_UPLOAD} rows with request ids in one upload: split it.`);
    const id = hasId ? String(requestId).slice(0, 200) : `row-${this.now}-${this.rows}`;
    const s = score === undefined || score === null || score === '' ? null : Number(score);
    this.kept.push({
      monitor_pk: this.plan.monitorPk,
      request_id: id,
      window_start: this.currentStart,
      prediction: prediction === undefined || prediction === null || prediction === '' ? null : String(prediction),
      score: s !== null && Number.isFinite(s) ? s : null,
      label: hasLabel ? String(label) : null,
      label_time: hasLabel ? this.now : null,
    });
  }

  addTextRow(row: readonly string[], map: readonly number[] | null): void {
    const roles = this.roles;
    let t: number | undefined;
    let requestId: string | undefined;
    let label: string | undefined;
    let score: string | undefined;
    for (let i = 0; i < row.length; i++) {
      const r = roles[map ? map[i]! : i];
      if (r === Role.Time) t = this.time(row[i]);
      else if (r === Role.RequestId) requestId = row[i];
      else if (r === Role.Label) label = row[i];
      else if (r === Role.Score) score = row[i];
    }
    const w = this.windowFor(t);
    w.rows++;
    const counters = w.counters;
    const at = this.counterAt;
    for (let i = 0; i < row.length; i++) {
      const k = at[map ? map[i]! : i]!;
      if (k >= 0) counters[k]!.addText(row[i]!);
    }
    if (requestId !== undefined || label !== undefined) this.keep(requestId, this.predictionAt >= 0 ? row[this.predictionAt] : undefined, score, label);
    this.rows++;
  }

  /**
   * Reads a CSV (or TSV) without any quote character straight from its bytes: fields are cut at the delimiter and
   * plain decimals counted without making strings (the general reader, papaparse, makes a string per field). The
   * caller picks it only when the file holds no '"'; errors say the line, as the general reader's do.
   */
  async readPlainCsv(chunks: AsyncIterable<Buffer>, source: string, delimiter: number): Promise<{ rows: number; bytes: number }> {
    let carry: Buffer | null = null;
    let bytes = 0;
    let line = 0;
    let width = -1;
    const doLine = (buf: Buffer, s: number, e: number) => {
      line++;
      if (e > s && buf[e - 1] === 13) e--;
      if (e === s) return;
      if (width < 0) {
        const text = buf.toString('utf8', s, e).replace(/^\uFEFF/, '');
        const names = text.split(String.fromCharCode(delimiter)).map((h, i) => (h === '' ? `column_${i + 1}` : h));
        this.setHeader(names, source);
        width = names.length;
        return;
      }
      if (!this.addLine(buf, s, e, delimiter, width)) {
        let k = 1;
        for (let i = s; i < e; i++) if (buf[i] === delimiter) k++;
        throw invalid(`${source}: line ${line} has ${k} field${k === 1 ? '' : 's'}, the header has ${width}`, { source, line, fields: k, expected_fields: width });
      }
    };
    for await (const chunk of chunks) {
      bytes += chunk.length;
      const buf: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
      let pos = 0;
      for (;;) {
        const nl = buf.indexOf(10, pos);
        if (nl < 0) break;
        doLine(buf, pos, nl);
        pos = nl + 1;
      }
      carry = pos < buf.length ? buf.subarray(pos) : null;
    }
    if (carry) doLine(carry, 0, carry.length);
    if (width < 0) throw invalid(`${source}: empty file (no header row)`, { source });
    return { rows: this.rows, bytes };
  }

  /**
   * One line [s, e) of a quote-free CSV, in one pass: numeric fields are read digit by digit as the delimiter is
   * looked for (the same double as Number(); anything but a plain decimal goes through the counter's text path).
   * False when the line does not have `width` fields (the caller refuses the whole upload: nothing of it is written).
   */
  private addLine(buf: Buffer, s: number, e: number, delim: number, width: number): boolean {
    const roles = this.roles;
    let t: number | undefined;
    let requestId: string | undefined;
    let label: string | undefined;
    let score: string | undefined;
    let prediction: string | undefined;
    // The window first: it depends on the time column, wherever it is.
    if (this.timeAt >= 0) {
      let i = s;
      for (let k = 0; k < this.timeAt; k++) {
        while (i < e && buf[i] !== delim) i++;
        i++;
      }
      if (i > e) return false;
      let j = i;
      while (j < e && buf[j] !== delim) j++;
      t = this.time(buf.toString('utf8', i, j));
    }
    const w = this.windowFor(t);
    const counters = w.counters;
    const at = this.counterAt;
    let i = s;
    for (let k = 0; k < width; k++) {
      if (i > e) return false;
      const st = i;
      const c = at[k]!;
      const counter = c >= 0 ? counters[c]! : undefined;
      if (counter !== undefined && counter.edges !== null) {
        let neg = false;
        if (i < e && buf[i] === 45) {
          neg = true;
          i++;
        }
        let m = 0;
        let digits = 0;
        let point = -1;
        let plain = true;
        for (; i < e; i++) {
          const b = buf[i]!;
          if (b === delim) break;
          if (b >= 48 && b <= 57) {
            m = m * 10 + (b - 48);
            digits++;
          } else if (b === 46 && point < 0) point = i;
          else plain = false;
        }
        if (plain && digits > 0 && digits <= 15) {
          const x = point < 0 ? m : m / POW10[i - 1 - point]!;
          counter.addNumber(neg ? -x : x);
        } else counter.addText(buf.toString('utf8', st, i));
      } else {
        while (i < e && buf[i] !== delim) i++;
        if (counter !== undefined) counter.addText(buf.toString('utf8', st, i));
        else {
          const r = roles[k];
          if (r === Role.RequestId) requestId = buf.toString('utf8', st, i);
          else if (r === Role.Label) label = buf.toString('utf8', st, i);
          else if (r === Role.Score) score = buf.toString('utf8', st, i);
        }
      }
      if (k === this.predictionAt) prediction = buf.toString('utf8', st, i);
      i++;
    }
    if (i <= e) return false;
    w.rows++;
    if (requestId !== undefined || label !== undefined) this.keep(requestId, prediction, score, label);
    this.rows++;
    return true;
  }

  addValueRow(row: readonly unknown[], map: readonly number[]): void {
    const roles = this.roles;
    let t: number | undefined;
    let requestId: unknown;
    let label: unknown;
    let score: unknown;
    for (let i = 0; i < row.length; i++) {
      const r = roles[map[i]!];
      if (r === Role.Time) t = this.time(row[i]);
      else if (r === Role.RequestId) requestId = row[i];
      else if (r === Role.Label) label = row[i];
      else if (r === Role.Score) score = row[i];
    }
    const w = this.windowFor(t);
    w.rows++;
    for (let i = 0; i < row.length; i++) {
      const k = this.counterAt[map[i]!]!;
      if (k >= 0) w.counters[k]!.addValue(row[i]);
    }
    this.keep(requestId, this.predictionAt >= 0 ? row[this.predictionAt] : undefined, score, label);
    this.rows++;
  }

  addObject(obj: Record<string, unknown>): void {
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw invalid(`Record ${this.rows + 1} is not a JSON object.`, { row: this.rows + 1 });
    for (const key in obj) if (!this.known.has(key)) this.ignored.add(key);
    const t = this.plan.timeColumn !== null ? (obj[this.plan.timeColumn] === undefined ? this.missingTime() : this.time(obj[this.plan.timeColumn])) : undefined;
    const w = this.windowFor(t);
    w.rows++;
    for (const c of w.counters) c.addValue(obj[c.ref.name]);
    this.keep(obj[REQUEST_ID], this.plan.prediction !== null ? obj[this.plan.prediction] : undefined, this.plan.score !== null ? obj[this.plan.score] : undefined, this.plan.label !== null ? obj[this.plan.label] : undefined);
    this.rows++;
  }

  private missingTime(): never {
    throw invalid(`Record ${this.rows + 1} has no '${this.plan.timeColumn}' (the monitor's time column).`, { row: this.rows + 1, column: this.plan.timeColumn });
  }
}
