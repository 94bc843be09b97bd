import { sql, type Insertable, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { TrackingTables, MetricBucketsTable } from './tables.js';

/**
 * Steps per stored bucket, fine and coarse. A 1,000,000-step history keeps ~15,600 fine and ~980 coarse
 * rows; wide views read the coarse ones, narrower views the fine ones, and views narrower than a fine
 * bucket per group are folded from the points themselves.
 */
export const METRIC_BUCKET_WIDTHS = [64, 1024] as const;

export interface StoredPoint {
  readonly key: string;
  readonly value: number | null; // NULL = NaN
  readonly timestamp: number;
  readonly step: number;
}

export type BucketSummary = Omit<Selectable<MetricBucketsTable>, 'run_pk' | 'key' | 'width'>;

export const bucketOf = (step: number, width: number) => Math.floor(step / width);

/** Adds one point to a summary (or starts one). Ties keep the earlier step. */
export function addPoint(s: BucketSummary | undefined, p: StoredPoint, bucket: number): BucketSummary {
  if (!s) {
    return {
      bucket,
      count: 1,
      first_step: p.step,
      last_step: p.step,
      min_value: p.value,
      min_step: p.step,
      min_timestamp: p.timestamp,
      max_value: p.value,
      max_step: p.step,
      max_timestamp: p.timestamp,
    };
  }
  return mergeSummaries(s, addPoint(undefined, p, bucket), bucket);
}

/** Merges two summaries; `bucket` names the result. */
export function mergeSummaries(a: BucketSummary, b: BucketSummary, bucket: number): BucketSummary {
  const takeMin = b.min_value !== null && (a.min_value === null || b.min_value < a.min_value || (b.min_value === a.min_value && b.min_step < a.min_step));
  const takeMax = b.max_value !== null && (a.max_value === null || b.max_value > a.max_value || (b.max_value === a.max_value && b.max_step < a.max_step));
  return {
    bucket,
    count: Number(a.count) + Number(b.count),
    first_step: Math.min(a.first_step, b.first_step),
    last_step: Math.max(a.last_step, b.last_step),
    min_value: takeMin ? b.min_value : a.min_value,
    min_step: takeMin ? b.min_step : a.min_step,
    min_timestamp: takeMin ? b.min_timestamp : a.min_timestamp,
    max_value: takeMax ? b.max_value : a.max_value,
    max_step: takeMax ? b.max_step : a.max_step,
    max_timestamp: takeMax ? b.max_timestamp : a.max_timestamp,
  };
}

/** Summaries of newly stored points, per (key, bucket). */
export function summarize(points: readonly StoredPoint[], width: number): Map<string, Map<number, BucketSummary>> {
  const byKey = new Map<string, Map<number, BucketSummary>>();
  for (const p of points) {
    let buckets = byKey.get(p.key);
    if (!buckets) byKey.set(p.key, (buckets = new Map()));
    const b = bucketOf(p.step, width);
    buckets.set(b, addPoint(buckets.get(b), p, b));
  }
  return byKey;
}

/** Folds newly stored points into the stored summaries, in the caller's transaction. */
export async function upsertBuckets(trx: Kysely<TrackingTables> | Transaction<TrackingTables>, runPk: number, points: readonly StoredPoint[], rowsPerStatement: number): Promise<void> {
  const rows: Insertable<MetricBucketsTable>[] = [];
  for (const width of METRIC_BUCKET_WIDTHS) {
    for (const [key, buckets] of summarize(points, width)) for (const s of buckets.values()) rows.push({ run_pk: runPk, key, width, ...s });
  }
  for (let i = 0; i < rows.length; i += rowsPerStatement) {
    await trx
      .insertInto('metric_buckets')
      .values(rows.slice(i, i + rowsPerStatement))
      .onConflict((oc) =>
        oc.columns(['run_pk', 'key', 'width', 'bucket']).doUpdateSet({
          count: sql`metric_buckets.count + excluded.count`,
          first_step: sql`CASE WHEN excluded.first_step < metric_buckets.first_step THEN excluded.first_step ELSE metric_buckets.first_step END`,
          last_step: sql`CASE WHEN excluded.last_step > metric_buckets.last_step THEN excluded.last_step ELSE metric_buckets.last_step END`,
          min_value: sql`CASE WHEN ${newMin} THEN excluded.min_value ELSE metric_buckets.min_value END`,
          min_step: sql`CASE WHEN ${newMin} THEN excluded.min_step ELSE metric_buckets.min_step END`,
          min_timestamp: sql`CASE WHEN ${newMin} THEN excluded.min_timestamp ELSE metric_buckets.min_timestamp END`,
          max_value: sql`CASE WHEN ${newMax} THEN excluded.max_value ELSE metric_buckets.max_value END`,
          max_step: sql`CASE WHEN ${newMax} THEN excluded.max_step ELSE metric_buckets.max_step END`,
          max_timestamp: sql`CASE WHEN ${newMax} THEN excluded.max_timestamp ELSE metric_buckets.max_timestamp END`,
        }),
      )
      .execute();
  }
}

/**
 * Rebuilds the summaries of the buckets these points fall in from the stored points themselves: used when
 * a batch repeated points already stored, so that counts only count stored points.
 */
export async function recomputeBuckets(trx: Kysely<TrackingTables> | Transaction<TrackingTables>, runPk: number, points: readonly StoredPoint[]): Promise<void> {
  for (const width of METRIC_BUCKET_WIDTHS) {
    const touched = new Map<string, Set<number>>();
    for (const p of points) {
      const set = touched.get(p.key) ?? new Set<number>();
      set.add(bucketOf(p.step, width));
      touched.set(p.key, set);
    }
    for (const [key, buckets] of touched) {
      for (const b of buckets) {
        const rows = await trx
          .selectFrom('metrics')
          .select(['value', 'timestamp', 'step', 'is_nan'])
          .where('run_pk', '=', runPk)
          .where('key', '=', key)
          .where('step', '>=', b * width)
          .where('step', '<', (b + 1) * width)
          .execute();
        let s: BucketSummary | undefined;
        for (const r of rows) s = addPoint(s, { key, value: Number(r.is_nan) ? null : Number(r.value), timestamp: Number(r.timestamp), step: Number(r.step) }, b);
        await trx.deleteFrom('metric_buckets').where('run_pk', '=', runPk).where('key', '=', key).where('width', '=', width).where('bucket', '=', b).execute();
        if (s) await trx.insertInto('metric_buckets').values({ run_pk: runPk, key, width, ...s }).execute();
      }
    }
  }
}

// Every SET expression sees the row as it was before the update, in SQLite and PostgreSQL alike.
const NEW_MIN = `(excluded.min_value IS NOT NULL AND (metric_buckets.min_value IS NULL OR excluded.min_value < metric_buckets.min_value OR (excluded.min_value = metric_buckets.min_value AND excluded.min_step < metric_buckets.min_step)))`;
const NEW_MAX = `(excluded.max_value IS NOT NULL AND (metric_buckets.max_value IS NULL OR excluded.max_value > metric_buckets.max_value OR (excluded.max_value = metric_buckets.max_value AND excluded.max_step < metric_buckets.max_step)))`;
const newMin = sql.raw(NEW_MIN);
const newMax = sql.raw(NEW_MAX);

/** The SET list that folds `excluded` into a stored bucket, as SQL text (the same merge as upsertBuckets). */
export const BUCKET_MERGE_SQL = [
  'count = metric_buckets.count + excluded.count',
  'first_step = CASE WHEN excluded.first_step < metric_buckets.first_step THEN excluded.first_step ELSE metric_buckets.first_step END',
  'last_step = CASE WHEN excluded.last_step > metric_buckets.last_step THEN excluded.last_step ELSE metric_buckets.last_step END',
  ...['min_value', 'min_step', 'min_timestamp'].map((c) => `${c} = CASE WHEN ${NEW_MIN} THEN excluded.${c} ELSE metric_buckets.${c} END`),
  ...['max_value', 'max_step', 'max_timestamp'].map((c) => `${c} = CASE WHEN ${NEW_MAX} THEN excluded.${c} ELSE metric_buckets.${c} END`),
].join(', ');
