import { sql, type Kysely, type RawBuilder, type Selectable, type SelectQueryBuilder } from 'kysely';
import type { TrackingTables, RunsTable } from '../tables.js';
import { compileFilter, type AttributeSql, type Comparison, type FieldSql, type FilterNode, type MemberStyle, type OrderTerm } from '../../platform/search/index.js';
import { parseRunFilter, parseRunOrderBy } from './grammars.js';
import { invalid } from '../../platform/errors.js';

export interface RunSearchOptions {
  readonly experimentIds: readonly number[];
  /** What the caller may read (a condition on runs.project_id / runs.experiment_id; none: everything). */
  readonly readable?: RawBuilder<boolean>;
  readonly filter?: string;
  readonly orderBy?: readonly string[];
  readonly viewType: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
  readonly offset: number;
  readonly limit: number;
}

export type RunRow = Selectable<RunsTable>;
/** One page of runs (runs.*), in order. */
export type RunSearchQuery = SelectQueryBuilder<TrackingTables, 'runs', RunRow>;

const RUN_COLUMNS: Readonly<Record<string, string>> = {
  run_id: 'runs.run_id',
  run_name: 'runs.name',
  user_id: 'runs.user_id',
  status: 'runs.status',
  artifact_uri: 'runs.artifact_uri',
  lifecycle_stage: 'runs.lifecycle_stage',
  start_time: 'runs.start_time',
  end_time: 'runs.end_time',
  experiment_id: 'runs.experiment_id',
};
const INTEGER_ATTRIBUTES = new Set(['start_time', 'end_time']);
const NULLABLE_ATTRIBUTES = new Set(['end_time']);

export const VALUE_TABLES = { metric: 'latest_metrics', param: 'params', tag: 'tags' } as const;
type ValueEntity = keyof typeof VALUE_TABLES;
const isValueEntity = (e: string): e is ValueEntity => e in VALUE_TABLES;

/** The input tag that holds a dataset input's context (training, eval, ...). */
export const DATASET_CONTEXT_TAG = 'mlflow.data.context';

function datasetMember(c: Comparison, cond: (v: RawBuilder<unknown>) => RawBuilder<unknown>, negate: boolean, style: MemberStyle): RawBuilder<boolean> {
  const from =
    c.key === 'context'
      ? sql`run_inputs AS ri JOIN input_tags AS it ON it.input_id = ri.input_id AND ${sql.ref('it.key')} = ${DATASET_CONTEXT_TAG}`
      : sql`run_inputs AS ri JOIN datasets AS d ON d.dataset_id = ri.dataset_id`;
  const col = c.key === 'context' ? sql.ref('it.value') : sql.ref(c.key === 'name' ? 'd.name' : 'd.digest');
  if (style === 'exists') return sql<boolean>`${sql.raw(negate ? 'NOT EXISTS' : 'EXISTS')} (SELECT 1 FROM ${from} WHERE ri.run_id = runs.run_id AND ${cond(col)})`;
  return sql<boolean>`runs.run_id ${sql.raw(negate ? 'NOT IN' : 'IN')} (SELECT ri.run_id FROM ${from} WHERE ${cond(col)})`;
}

/**
 * Run fields: metric filters read latest_metrics (one row per run and key, NaN stored as NULL), params and
 * tags their tables; each comparison is a membership test on run_id, which both SQLite and PostgreSQL answer
 * from the (key, value) indexes.
 */
const runFields: FieldSql = {
  attribute(key): AttributeSql {
    // Experiment ids are strings in the API: compared as text.
    if (key === 'experiment_id') return { expr: sql`CAST(runs.experiment_id AS TEXT)` };
    return { expr: sql.ref(RUN_COLUMNS[key]!), integer: INTEGER_ATTRIBUTES.has(key) };
  },
  member(c, cond, negate, style) {
    if (c.entity === 'dataset') return datasetMember(c, cond, negate, style);
    const table = sql.table(VALUE_TABLES[c.entity as ValueEntity]);
    if (style === 'exists') {
      return sql<boolean>`${sql.raw(negate ? 'NOT EXISTS' : 'EXISTS')} (SELECT 1 FROM ${table} AS x WHERE x.run_id = runs.run_id AND ${sql.ref('x.key')} = ${c.key} AND ${cond(sql.ref('x.value'))})`;
    }
    return sql<boolean>`runs.run_id ${sql.raw(negate ? 'NOT IN' : 'IN')} (SELECT run_id FROM ${table} WHERE ${sql.ref('key')} = ${c.key} AND ${cond(sql.ref('value'))})`;
  },
};

/** How the query is driven: the filter-first plan, or the order-first plan of searchRunRows. */
interface Plan {
  readonly style: MemberStyle;
  /** Order-first: the first order term's value bound (inclusive); its join becomes an inner join. */
  readonly threshold?: string | number;
}

const FILTER_FIRST: Plan = { style: 'in' };

function scoped(q: RunSearchQuery, opts: Pick<RunSearchOptions, 'experimentIds' | 'viewType' | 'readable'>): RunSearchQuery {
  q = opts.experimentIds.length === 0 ? q.where(sql<boolean>`1 = 0`) : q.where('runs.experiment_id', 'in', [...opts.experimentIds]);
  if (opts.readable) q = q.where(opts.readable);
  if (opts.viewType === 'ACTIVE_ONLY') q = q.where('runs.lifecycle_stage', '=', 'active');
  if (opts.viewType === 'DELETED_ONLY') q = q.where('runs.lifecycle_stage', '=', 'deleted');
  return q;
}

/** `LEFT JOIN <table> AS <alias> ON <alias>.run_id = runs.run_id AND <alias>.key = ?` (inner join for the order-first plan). */
function joinValue(q: RunSearchQuery, db: Kysely<TrackingTables>, entity: ValueEntity, alias: string, key: string, inner: boolean): RunSearchQuery {
  const table = db.dynamic.table(VALUE_TABLES[entity]).as(alias);
  const on = sql<boolean>`${sql.ref(`${alias}.run_id`)} = runs.run_id AND ${sql.ref(`${alias}.key`)} = ${key}`;
  // The alias is only known at run time, so the builder's type cannot name the joined table; runs.* is unchanged.
  const joined = inner ? q.innerJoin(table, (j) => j.on(on)) : q.leftJoin(table, (j) => j.on(on));
  return joined as unknown as RunSearchQuery;
}

/** ORDER BY terms (missing and NaN values last in both directions), then start_time DESC, run_id ASC. */
function ordered(q: RunSearchQuery, db: Kysely<TrackingTables>, order: readonly OrderTerm[], plan: Plan): RunSearchQuery {
  order.forEach((term, i) => {
    const dir = term.ascending ? 'asc' : 'desc';
    let col: RawBuilder<unknown>;
    let nullable = true;
    if (isValueEntity(term.entity)) {
      const alias = `o${i}`;
      q = joinValue(q, db, term.entity, alias, term.key, i === 0 && plan.threshold !== undefined);
      col = sql.ref(`${alias}.value`);
    } else {
      col = sql.ref(RUN_COLUMNS[term.key]!);
      nullable = NULLABLE_ATTRIBUTES.has(term.key);
    }
    if (nullable) q = q.orderBy(sql`CASE WHEN ${col} IS NULL THEN 1 ELSE 0 END`, 'asc');
    q = q.orderBy(col, dir);
  });
  return q.orderBy('runs.start_time', 'desc').orderBy('runs.run_id', 'asc');
}

function runQuery(db: Kysely<TrackingTables>, opts: RunSearchOptions, filter: FilterNode | undefined, order: readonly OrderTerm[], plan: Plan): RunSearchQuery {
  let q = scoped(db.selectFrom('runs').selectAll('runs'), opts);
  if (plan.threshold !== undefined) {
    const first = order[0] ?? DEFAULT_FIRST;
    const col = isValueEntity(first.entity) ? sql.ref('o0.value') : sql.ref('runs.start_time');
    q = q.where(sql<boolean>`${col} ${sql.raw(first.ascending ? '<=' : '>=')} ${plan.threshold}`);
  }
  if (filter) q = q.where(compileFilter(filter, runFields, plan.style));
  return ordered(q, db, order, plan).limit(opts.limit).offset(opts.offset);
}

/** A filter-first query from already parsed parts, bound to a database when executed. */
export interface DeferredRunQuery {
  execute(db: Kysely<TrackingTables>): Promise<{ rows: RunRow[] }>;
}

const isDb = (x: unknown): x is Kysely<TrackingTables> => typeof (x as Kysely<TrackingTables>).selectFrom === 'function';

/**
 * The filter-first plan for one page of a run search: the filter as indexed membership tests, then a sort of
 * every match (right for selective filters; always correct). The filter and order_by are parsed before any SQL
 * is built, so a bad one throws INVALID_PARAMETER_VALUE here.
 */
export function buildRunSearchQuery(db: Kysely<TrackingTables>, opts: RunSearchOptions): RunSearchQuery;
/** The same plan from an already parsed filter and order (used to cross-check the plans of searchRunRows). */
export function buildRunSearchQuery(opts: RunSearchOptions, filter: FilterNode | undefined, order: readonly OrderTerm[]): DeferredRunQuery;
export function buildRunSearchQuery(
  a: Kysely<TrackingTables> | RunSearchOptions,
  b?: RunSearchOptions | FilterNode,
  c?: readonly OrderTerm[],
): RunSearchQuery | DeferredRunQuery {
  if (isDb(a)) {
    const opts = b as RunSearchOptions;
    const filter = parseRunFilter(opts.filter);
    const order = parseRunOrderBy(opts.orderBy);
    return runQuery(a, opts, filter, order, FILTER_FIRST);
  }
  const filter = b as FilterNode | undefined;
  const order = c ?? [];
  return { execute: async (db) => ({ rows: await runQuery(db, a, filter, order, FILTER_FIRST).execute() }) };
}

const DEFAULT_FIRST: OrderTerm = { entity: 'attribute', key: 'start_time', ascending: false };

/** Past this many candidates, the filter-first plan is the better bet. */
const MAX_ORDER_FIRST_SCAN = 50_000;

/**
 * The order-first plan for a search ordered by a metric, param, tag or start time (the default order):
 * only runs whose value is within the first `scan` values in that order are candidates (found through an
 * index on the value), and the filter is probed per candidate by primary key. When the candidates hold a
 * full page of matches, those are exactly the first matches overall (every value tied with the last
 * candidate is a candidate too); otherwise the caller falls back to the filter-first plan.
 */
async function orderFirst(db: Kysely<TrackingTables>, opts: RunSearchOptions, filter: FilterNode | undefined, order: readonly OrderTerm[]): Promise<RunRow[] | undefined> {
  const first = order[0] ?? DEFAULT_FIRST;
  const byValue = isValueEntity(first.entity);
  if (!byValue && !(first.entity === 'attribute' && first.key === 'start_time')) return undefined;
  if (!filter && !byValue) return undefined; // nothing to probe: the plain query already walks the index
  const need = opts.offset + opts.limit;
  // A small scan first; when it falls short, a second one sized by the match rate the first one saw.
  let scan = Math.max(256, 4 * need);
  for (let attempt = 0; attempt < 2; attempt++) {
    const threshold = await candidateBound(db, opts, first, scan);
    if (threshold === undefined) return undefined; // few values: the filter-first plan is cheap
    const rows = await runQuery(db, opts, filter, order, { style: 'exists', threshold }).execute();
    if (rows.length === opts.limit) return rows;
    // Matches among the candidates: the rows returned after the offset, plus the offset they passed.
    const matched = rows.length > 0 ? opts.offset + rows.length : 1;
    scan = Math.ceil((1.5 * need * scan) / matched);
    if (scan > MAX_ORDER_FIRST_SCAN) return undefined;
  }
  return undefined;
}

/** The `scan`-th value in the first term's order, or undefined when there are fewer values. */
async function candidateBound(db: Kysely<TrackingTables>, opts: RunSearchOptions, first: OrderTerm, scan: number): Promise<string | number | undefined> {
  const dir = first.ascending ? 'asc' : 'desc';
  let row: { value: string | number | null } | undefined;
  if (isValueEntity(first.entity)) {
    const table = VALUE_TABLES[first.entity];
    row = await db
      .selectFrom(table)
      .select(sql<string | number | null>`value`.as('value'))
      .where('key', '=', first.key)
      .where('value', 'is not', null)
      .orderBy('value', dir)
      .limit(1)
      .offset(scan - 1)
      .executeTakeFirst();
  } else {
    row = await scoped(db.selectFrom('runs').selectAll('runs'), opts)
      .clearSelect()
      .select('runs.start_time as value')
      .orderBy('runs.start_time', dir)
      .limit(1)
      .offset(scan - 1)
      .executeTakeFirst();
  }
  return row?.value ?? undefined;
}

/**
 * One page of a run search. The filter and order_by are parsed first, so a syntax error never reaches the
 * database; then the order-first plan is tried when it applies, and the filter-first plan answers otherwise.
 */
export async function searchRunRows(db: Kysely<TrackingTables>, opts: RunSearchOptions): Promise<RunRow[]> {
  const filter = parseRunFilter(opts.filter);
  const order = parseRunOrderBy(opts.orderBy);
  const fast = await orderFirst(db, opts, filter, order);
  if (fast) return fast;
  return runQuery(db, opts, filter, order, FILTER_FIRST).execute();
}

export interface RunCountOptions {
  readonly experimentIds: readonly number[];
  readonly readable?: RawBuilder<boolean>;
  readonly filter?: string;
  readonly viewType: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
  /** A param or tag (`params.lr`, ``tags.`team name` ``): count per value of it as well. */
  readonly groupBy?: string;
  /** At most this many groups, the largest first. */
  readonly maxGroups: number;
}

export interface RunCounts {
  readonly count: number;
  /** Per value of the group key, the largest first; `null` counts the runs without the key. */
  readonly groups?: { entity: 'param' | 'tag'; key: string; values: { value: string | null; count: number }[] };
}

/** How many runs match a filter and, with groupBy, how many per value of a param or tag (one grouped query). */
export async function countRunRows(db: Kysely<TrackingTables>, opts: RunCountOptions): Promise<RunCounts> {
  const filter = parseRunFilter(opts.filter);
  let group: OrderTerm | undefined;
  if (opts.groupBy !== undefined && opts.groupBy !== '') {
    group = parseRunOrderBy([opts.groupBy])[0];
    if (!group || (group.entity !== 'param' && group.entity !== 'tag')) throw invalid(`group_by must name a param or a tag (params.<key> or tags.<key>), got '${opts.groupBy}'`);
  }
  let q = scoped(db.selectFrom('runs').selectAll('runs'), opts);
  if (filter) q = q.where(compileFilter(filter, runFields, 'in'));
  if (!group) {
    const row = await q.clearSelect().select(sql<number>`COUNT(*)`.as('n')).executeTakeFirst();
    return { count: Number(row?.n ?? 0) };
  }
  q = joinValue(q, db, group.entity as ValueEntity, 'g', group.key, false);
  const rows = await q
    .clearSelect()
    .select([sql<string | null>`g.value`.as('value'), sql<number>`COUNT(*)`.as('n')])
    .groupBy(sql`g.value`)
    .orderBy(sql`COUNT(*)`, 'desc')
    .orderBy(sql`g.value`, 'asc')
    .execute();
  const values = rows.map((r) => ({ value: r.value ?? null, count: Number(r.n) }));
  return {
    count: values.reduce((n, v) => n + v.count, 0),
    groups: { entity: group.entity as 'param' | 'tag', key: group.key, values: values.slice(0, opts.maxGroups) },
  };
}
