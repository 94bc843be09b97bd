import type { Kysely } from 'kysely';
import type { MetadataStore } from '../platform/db/types.js';
import type { TrackingTables } from './tables.js';
import { METRIC_BUCKET_WIDTHS, addPoint, bucketOf, mergeSummaries, type BucketSummary, type StoredPoint } from './metric-buckets.js';
import { decodePageTokenAs, encodePageToken } from '../platform/pagination.js';
import { yieldToEventLoop } from '../platform/slices.js';
import type { Metric, MetricHistory } from './types.js';
import type { MetricHistoryColumns } from './history-types.js';

export interface HistoryQuery {
  /** The run's integer key (runs.run_pk). */
  readonly runPk: number;
  readonly key: string;
  readonly limit?: number;
  readonly pageToken?: string;
  readonly startStep?: number;
  readonly endStep?: number;
}

/** Reads metric histories: full (keyset-paginated by step, timestamp, id) or downsampled. */
export class MetricHistoryReader {
  private readonly db: Kysely<TrackingTables>;
  constructor(private readonly store: MetadataStore) {
    this.db = store.db.withTables<TrackingTables>();
  }

  /** A page of points (or, without a limit, every point in the range), one object per point. */
  async page(q: HistoryQuery): Promise<MetricHistory> {
    const c = await this.pageColumns(q);
    await yieldToEventLoop();
    return { metrics: toMetrics(c), nextPageToken: c.nextPageToken, downsampled: false };
  }

  /** A page as columns: nothing per point but numbers in Float64Arrays, from the database's answer to the page. */
  async pageColumns(q: HistoryQuery): Promise<MetricHistoryColumns> {
    const after = decodeAfter(q.pageToken);
    // Hand-written and read as columns: the longest read the server does. Ordered exactly like the
    // metrics_point index (step, timestamp, value, is_nan), so it needs no sort.
    const p = this.store.adapter.placeholder;
    const params: unknown[] = [q.runPk, q.key];
    const where = [`run_pk = ${p(1)}`, `key = ${p(2)}`];
    const bind = (v: unknown) => {
      params.push(v);
      return p(params.length);
    };
    if (q.startStep !== undefined) where.push(`step >= ${bind(q.startStep)}`);
    if (q.endStep !== undefined) where.push(`step <= ${bind(q.endStep)}`);
    if (after) where.push(`(step, timestamp) >= (${bind(after.s)}, ${bind(after.t)})`);
    const skip = after?.n ?? 0;
    const limit = q.limit !== undefined ? ` LIMIT ${bind(q.limit + skip + 1)}` : '';
    const res = await this.store.selectColumns(`SELECT value, timestamp, step, is_nan FROM metrics WHERE ${where.join(' AND ')} ORDER BY step, timestamp, value, is_nan${limit}`, params);
    const rowCount = res.rowCount;
    const [value, timestamp, step, isNan] = res.columns as [NumberColumn, NumberColumn, NumberColumn, NumberColumn];
    const end = q.limit !== undefined ? Math.min(rowCount, skip + q.limit) : rowCount;
    const from = Math.min(skip, end);
    const steps = numbers(step, from, end);
    const timestamps = numbers(timestamp, from, end);
    const values = new Float64Array(end - from);
    for (let i = from; i < end; i++) values[i - from] = Number(isNan[i]) ? NaN : Number(value[i]);
    let next: string | undefined;
    if (q.limit !== undefined && rowCount > end) {
      // The token names the last (step, timestamp) and how many points with exactly that pair were returned.
      const last = steps.length - 1;
      const s = steps[last]!;
      const t = timestamps[last]!;
      let n = 0;
      for (let i = last; i >= 0 && steps[i] === s && timestamps[i] === t; i--) n++;
      if (after && after.s === s && after.t === t) n += skip;
      next = encodePageToken({ s, t, n });
    }
    return { key: q.key, steps, timestamps, values, nextPageToken: next, downsampled: false };
  }

  /**
   * At most `maxPoints` points. A longer history is cut into equal step ranges (about maxPoints/2 of them)
   * and each range gives its minimum and its maximum point, at their real steps, so spikes survive and the
   * envelope of the curve is exact at that resolution. The stored bucket summaries (metric_buckets) answer
   * this without reading every point; ranges narrower than a stored bucket are computed from the points.
   * NaN points count in `totalPoints` but are left out of a downsampled history.
   */
  async downsampled(q: HistoryQuery & { maxPoints: number }): Promise<MetricHistory> {
    const d = await this.downsample(q);
    if (d.points) return { metrics: d.points, downsampled: true, totalPoints: d.total };
    return { ...(await this.page({ ...q, limit: undefined, pageToken: undefined })), totalPoints: d.total };
  }

  /** downsampled(), as columns. */
  async downsampledColumns(q: HistoryQuery & { maxPoints: number }): Promise<MetricHistoryColumns> {
    const d = await this.downsample(q);
    if (d.points) return historyColumns({ metrics: d.points, downsampled: true, totalPoints: d.total }, q.key);
    return { ...(await this.pageColumns({ ...q, limit: undefined, pageToken: undefined })), totalPoints: d.total };
  }

  /** The number of points in the range, and the downsampled points unless they are no more than maxPoints. */
  private async downsample(q: HistoryQuery & { maxPoints: number }): Promise<{ total: number; points?: Metric[] }> {
    const [FINE, COARSE] = METRIC_BUCKET_WIDTHS;
    const coarse = await this.bucketRows(q, COARSE);
    const total = coarse.reduce((n, r) => n + r.count, 0);
    if (total <= q.maxPoints) return { total };
    const lo = coarse.reduce((m, r) => Math.min(m, r.first_step), Infinity);
    const hi = coarse.reduce((m, r) => Math.max(m, r.last_step), -Infinity);
    const groups = Math.max(1, Math.floor(q.maxPoints / 2) - 2);
    const width = Math.ceil((hi - lo + 1) / groups);
    const byGroup = new Map<number, BucketSummary>();
    const fold = (rows: readonly BucketSummary[], bucketWidth: number) => {
      // Each stored bucket goes whole into the group its first step falls in.
      for (const r of rows) {
        const g = Math.max(0, Math.floor((r.bucket * bucketWidth - lo) / width));
        const cur = byGroup.get(g);
        byGroup.set(g, cur ? mergeSummaries(cur, r, g) : { ...r, bucket: g });
      }
    };
    if (width >= COARSE) fold(coarse, COARSE);
    else if (width >= FINE) fold(await this.bucketRows(q, FINE), FINE);
    else {
      // Finer than the stored buckets: fold the points themselves (at most ~groups * FINE steps of them).
      for (const p of await this.rawPoints(q, lo, hi)) {
        const g = Math.floor((p.step - lo) / width);
        byGroup.set(g, addPoint(byGroup.get(g), p, g));
      }
    }
    const out: Metric[] = [];
    for (const g of [...byGroup.values()].sort((a, b) => a.bucket - b.bucket)) {
      if (g.min_value === null || g.max_value === null) continue;
      const lowPoint = { key: q.key, value: g.min_value, step: g.min_step, timestamp: g.min_timestamp };
      const highPoint = { key: q.key, value: g.max_value, step: g.max_step, timestamp: g.max_timestamp };
      if (g.min_step === g.max_step && g.min_timestamp === g.max_timestamp && g.min_value === g.max_value) out.push(lowPoint);
      else if (g.max_step < g.min_step) out.push(highPoint, lowPoint);
      else out.push(lowPoint, highPoint);
    }
    return { total, points: out };
  }

  /**
   * Stored summaries of one width in the requested range, read as arrays; buckets that straddle the
   * range's ends are recomputed from their points inside it.
   */
  private async bucketRows(q: HistoryQuery, W: number): Promise<BucketSummary[]> {
    const p = this.store.adapter.placeholder;
    const params: unknown[] = [q.runPk, q.key, W];
    let range = '';
    if (q.startStep !== undefined) range += ` AND bucket >= ${p(params.push(bucketOf(q.startStep, W)))}`;
    if (q.endStep !== undefined) range += ` AND bucket <= ${p(params.push(bucketOf(q.endStep, W)))}`;
    const raw = await this.store.selectColumns(
      `SELECT ${BUCKET_COLUMNS.join(', ')} FROM metric_buckets WHERE run_pk = ${p(1)} AND key = ${p(2)} AND width = ${p(3)}${range} ORDER BY bucket`,
      params,
    );
    let rows = Array.from({ length: raw.rowCount }, (_, i) => fromColumns(raw.columns, i));
    if (rows.length > 0 && q.startStep !== undefined && rows[0]!.first_step < q.startStep) {
      const b = rows[0]!.bucket;
      rows = [...(await this.exact(q, q.startStep, Math.min((b + 1) * W - 1, q.endStep ?? Infinity), b)), ...rows.slice(1)];
    }
    if (rows.length > 0 && q.endStep !== undefined && rows[rows.length - 1]!.last_step > q.endStep) {
      const b = rows[rows.length - 1]!.bucket;
      rows = [...rows.slice(0, -1), ...(await this.exact(q, Math.max(b * W, q.startStep ?? -Infinity), q.endStep, b))];
    }
    return rows;
  }

  private async rawPoints(q: HistoryQuery, from: number, to: number): Promise<StoredPoint[]> {
    const rows = await this.db
      .selectFrom('metrics')
      .select(['key', 'value', 'timestamp', 'step', 'is_nan'])
      .where('run_pk', '=', q.runPk)
      .where('key', '=', q.key)
      .where('step', '>=', from)
      .where('step', '<=', to)
      .orderBy('step')
      .orderBy('timestamp')
      .execute();
    return rows.map((r) => ({ key: r.key, value: Number(r.is_nan) ? null : Number(r.value), timestamp: Number(r.timestamp), step: Number(r.step) }));
  }

  /** One exact summary of the points in [from, to], or none when there are none. */
  private async exact(q: HistoryQuery, from: number, to: number, bucket: number): Promise<BucketSummary[]> {
    let s: BucketSummary | undefined;
    for (const p of await this.rawPoints(q, from, to)) s = addPoint(s, p, bucket);
    return s ? [s] : [];
  }
}

const BUCKET_COLUMNS = ['bucket', 'count', 'first_step', 'last_step', 'min_value', 'min_step', 'min_timestamp', 'max_value', 'max_step', 'max_timestamp'] as const;

function fromColumns(c: readonly ArrayLike<unknown>[], row: number): BucketSummary {
  const n = (i: number) => Number(c[i]![row]);
  const v = (i: number) => (c[i]![row] === null ? null : Number(c[i]![row]));
  return { bucket: n(0), count: n(1), first_step: n(2), last_step: n(3), min_value: v(4), min_step: n(5), min_timestamp: n(6), max_value: v(7), max_step: n(8), max_timestamp: n(9) };
}

type NumberColumn = Float64Array | readonly unknown[];

/** Entries [from, to) of a column of numbers, as a Float64Array (a view when it is one already). */
function numbers(c: NumberColumn, from: number, to: number): Float64Array {
  if (c instanceof Float64Array) return c.subarray(from, to);
  const out = new Float64Array(to - from);
  for (let i = from; i < to; i++) out[i - from] = Number(c[i]);
  return out;
}

/** Columns to the TrackingApi's points, one object per point. */
export function toMetrics(c: MetricHistoryColumns): Metric[] {
  const { key, steps, timestamps, values } = c;
  const metrics: Metric[] = new Array(steps.length);
  for (let i = 0; i < steps.length; i++) metrics[i] = { key, value: values[i]!, timestamp: timestamps[i]!, step: steps[i]! };
  return metrics;
}

/** Points to columns (a downsampled history: at most max_points of them). */
export function historyColumns(h: MetricHistory, key: string): MetricHistoryColumns {
  const n = h.metrics.length;
  const steps = new Float64Array(n);
  const timestamps = new Float64Array(n);
  const values = new Float64Array(n);
  h.metrics.forEach((m, i) => {
    steps[i] = m.step;
    timestamps[i] = m.timestamp;
    values[i] = m.value;
  });
  return { key, steps, timestamps, values, nextPageToken: h.nextPageToken, downsampled: h.downsampled, totalPoints: h.totalPoints };
}

function decodeAfter(token: string | undefined): { s: number; t: number; n: number } | undefined {
  // s: the last step returned, t: its timestamp, n: how many points with exactly that (step, timestamp) were returned.
  return decodePageTokenAs(token, { s: 'integer', t: 'nonNegative', n: 'nonNegative' }, 'page token for metric history');
}
