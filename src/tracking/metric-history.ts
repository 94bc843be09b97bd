import { sql, type Kysely } from 'kysely';
import type { Database } from '../platform/db/schema.js';
import { decodePageToken, encodePageToken } from '../platform/pagination.js';
import { invalid } from '../platform/errors.js';
import { toMetric } from './run-store.js';
import type { Metric, MetricHistory } from './types.js';

export interface HistoryQuery {
  readonly runId: string;
  readonly key: string;
  readonly limit?: number;
  readonly pageToken?: string;
  readonly startStep?: number;
  readonly endStep?: number;
}

/** Reads metric histories: full (keyset-paginated by step, timestamp, id) or downsampled. */
export class MetricHistoryReader {
  constructor(private readonly db: Kysely<Database>) {}

  async page(q: HistoryQuery): Promise<MetricHistory> {
    const after = decodeAfter(q.pageToken);
    let query = this.db
      .selectFrom('metrics')
      .select(['id', 'key', 'value', 'timestamp', 'step'])
      .where('run_id', '=', q.runId)
      .where('key', '=', q.key);
    if (q.startStep !== undefined) query = query.where('step', '>=', q.startStep);
    if (q.endStep !== undefined) query = query.where('step', '<=', q.endStep);
    if (after) query = query.where((eb) => eb(eb.refTuple('step', 'timestamp', 'id'), '>', eb.tuple(after.s, after.t, after.i)));
    query = query.orderBy('step').orderBy('timestamp').orderBy('id');
    if (q.limit !== undefined) query = query.limit(q.limit + 1);
    const rows = await query.execute();
    let next: string | undefined;
    if (q.limit !== undefined && rows.length > q.limit) {
      rows.length = q.limit;
      const last = rows[rows.length - 1]!;
      next = encodePageToken({ s: Number(last.step), t: Number(last.timestamp), i: Number(last.id) });
    }
    return { metrics: rows.map(toMetric), nextPageToken: next, downsampled: false };
  }

  /**
   * At most `maxPoints` points: when the history is longer, the step range is cut into maxPoints/2 equal
   * buckets and each bucket gives its minimum and its maximum (placed at the bucket's first and last
   * logged step), so spikes survive and the envelope of the curve is exact at the bucket resolution.
   * NaN points are left out of a downsampled history.
   */
  async downsampled(q: HistoryQuery & { maxPoints: number }): Promise<MetricHistory> {
    let range = this.db
      .selectFrom('metrics')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('step').as('lo'), eb.fn.max('step').as('hi')])
      .where('run_id', '=', q.runId)
      .where('key', '=', q.key);
    if (q.startStep !== undefined) range = range.where('step', '>=', q.startStep);
    if (q.endStep !== undefined) range = range.where('step', '<=', q.endStep);
    const stats = await range.executeTakeFirstOrThrow();
    const total = Number(stats.n);
    if (total <= q.maxPoints) {
      const all = await this.page({ ...q, limit: undefined, pageToken: undefined });
      return { ...all, totalPoints: total };
    }
    const lo = Number(stats.lo);
    const hi = Number(stats.hi);
    const buckets = Math.max(1, Math.floor(q.maxPoints / 2));
    const width = Math.max(1, Math.ceil((hi - lo + 1) / buckets));
    const rows = await sql<{ b: number; n: number; min_v: number | null; max_v: number | null; lo_s: number; hi_s: number; lo_t: number; hi_t: number }>`
      SELECT CAST(step - ${lo} AS BIGINT) / CAST(${width} AS BIGINT) AS b, count(*) AS n,
             min(value) AS min_v, max(value) AS max_v,
             min(step) AS lo_s, max(step) AS hi_s, min(timestamp) AS lo_t, max(timestamp) AS hi_t
      FROM metrics
      WHERE run_id = ${q.runId} AND key = ${q.key} AND step >= ${lo} AND step <= ${hi}
      GROUP BY b
      ORDER BY b`.execute(this.db);
    const out: Metric[] = [];
    for (const r of rows.rows) {
      if (r.min_v === null || r.max_v === null) continue;
      out.push({ key: q.key, value: Number(r.min_v), step: Number(r.lo_s), timestamp: Number(r.lo_t) });
      if (Number(r.n) > 1) out.push({ key: q.key, value: Number(r.max_v), step: Number(r.hi_s), timestamp: Number(r.hi_t) });
    }
    return { metrics: out, downsampled: true, totalPoints: total };
  }
}

function decodeAfter(token: string | undefined): { s: number; t: number; i: number } | undefined {
  const p = decodePageToken(token);
  if (!p) return undefined;
  const { s, t, i } = p;
  if (typeof s !== 'number' || typeof t !== 'number' || typeof i !== 'number') throw invalid('Invalid page token for metric history');
  return { s, t, i };
}
