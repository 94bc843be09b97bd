import { sql, type Kysely, type RawBuilder, type Selectable } from 'kysely';
import type { Database, RunsTable } from '../../platform/db/schema.js';
import type { Comparison, FilterNode, OrderTerm } from './ast.js';
import { compileFilter, type FieldSql, type MemberStyle } from './compile.js';
import { RUN_GRAMMAR } from './grammars.js';
import { parseFilter, parseOrderBy } from './parser.js';

export interface RunSearchOptions {
  readonly experimentIds: readonly number[];
  readonly filter?: string;
  readonly orderBy?: readonly string[];
  readonly viewType: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
  readonly offset: number;
  readonly limit: number;
}

type RunRow = Selectable<RunsTable>;

const RUN_COLUMNS: Record<string, string> = {
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

const VALUE_TABLES = { metric: 'latest_metrics', param: 'params', tag: 'tags' } as const;
type ValueEntity = keyof typeof VALUE_TABLES;
const isValueEntity = (e: string): e is ValueEntity => e in VALUE_TABLES;

const runFields: FieldSql = {
  attribute: (key) => (key === 'experiment_id' ? sql`CAST(runs.experiment_id AS TEXT)` : sql.ref(RUN_COLUMNS[key]!)),
  member(c: Comparison, cond, negate, style: MemberStyle) {
    if (c.entity === 'dataset') {
      const from =
        c.key === 'context'
          ? sql`run_inputs ri JOIN input_tags it ON it.input_id = ri.input_id AND it.key = ${'mlflow.data.context'}`
          : sql`run_inputs ri JOIN datasets d ON d.dataset_id = ri.dataset_id`;
      const col = c.key === 'context' ? sql.ref('it.value') : sql.ref(`d.${c.key === 'name' ? 'name' : 'digest'}`);
      if (style === 'exists') return sql<boolean>`${sql.raw(negate ? 'NOT EXISTS' : 'EXISTS')} (SELECT 1 FROM ${from} WHERE ri.run_id = runs.run_id AND ${cond(col)})`;
      return sql<boolean>`runs.run_id ${sql.raw(negate ? 'NOT IN' : 'IN')} (SELECT ri.run_id FROM ${from} WHERE ${cond(col)})`;
    }
    const table = sql.table(VALUE_TABLES[c.entity as ValueEntity]);
    if (style === 'exists') {
      return sql<boolean>`${sql.raw(negate ? 'NOT EXISTS' : 'EXISTS')} (SELECT 1 FROM ${table} x WHERE x.run_id = runs.run_id AND x.key = ${c.key} AND ${cond(sql.ref('x.value'))})`;
    }
    return sql<boolean>`runs.run_id ${sql.raw(negate ? 'NOT IN' : 'IN')} (SELECT run_id FROM ${table} WHERE key = ${c.key} AND ${cond(sql.ref('value'))})`;
  },
};

function scopeConditions(opts: RunSearchOptions): RawBuilder<unknown>[] {
  const where: RawBuilder<unknown>[] = [];
  if (opts.experimentIds.length === 0) where.push(sql`1 = 0`);
  else where.push(sql`runs.experiment_id IN (${sql.join(opts.experimentIds.map((id) => sql`${id}`))})`);
  if (opts.viewType === 'ACTIVE_ONLY') where.push(sql`runs.lifecycle_stage = ${'active'}`);
  if (opts.viewType === 'DELETED_ONLY') where.push(sql`runs.lifecycle_stage = ${'deleted'}`);
  return where;
}

/** ORDER BY terms (missing and NaN last in both directions) plus the fixed tie-breakers, and the joins they need. */
function ordering(order: readonly OrderTerm[]): { joins: RawBuilder<unknown>[]; terms: RawBuilder<unknown>[] } {
  const joins: RawBuilder<unknown>[] = [];
  const terms: RawBuilder<unknown>[] = [];
  order.forEach((term, i) => {
    const dir = sql.raw(term.ascending ? 'ASC' : 'DESC');
    let col: RawBuilder<unknown>;
    if (term.entity === 'attribute') col = runFields.attribute(term.key);
    else {
      const alias = sql.raw(`o${i}`);
      joins.push(sql`LEFT JOIN ${sql.table(VALUE_TABLES[term.entity as ValueEntity])} AS ${alias} ON ${alias}.run_id = runs.run_id AND ${alias}.key = ${term.key}`);
      col = sql`${alias}.value`;
    }
    terms.push(sql`CASE WHEN ${col} IS NULL THEN 1 ELSE 0 END`, sql`${col} ${dir}`);
  });
  terms.push(sql`runs.start_time DESC`, sql`runs.run_id ASC`);
  return { joins, terms };
}

/**
 * The filter-first plan: the filter as indexed membership tests, then a sort of every match.
 * Right for selective filters; always correct.
 */
export function buildRunSearchQuery(opts: RunSearchOptions, filter: FilterNode | undefined, order: readonly OrderTerm[]): RawBuilder<RunRow> {
  const where = scopeConditions(opts);
  if (filter) where.push(sql`(${compileFilter(filter, runFields, 'in')})`);
  const { joins, terms } = ordering(order);
  return sql<RunRow>`SELECT runs.* FROM runs ${sql.join(joins, sql` `)} WHERE ${sql.join(where, sql` AND `)} ORDER BY ${sql.join(terms)} LIMIT ${opts.limit} OFFSET ${opts.offset}`;
}

/**
 * The order-first plan for a search ordered by a metric, param, tag or start time (the default order):
 * only runs whose value is within the first `scan` values in that order are candidates (found through an
 * index on the value), and the filter is probed per candidate by primary key. When the candidates hold a
 * full page of matches, those are exactly the first matches overall (every value tied with the last
 * candidate is a candidate too); otherwise the caller falls back to the filter-first plan.
 */
async function orderFirst(db: Kysely<Database>, opts: RunSearchOptions, filter: FilterNode | undefined, order: readonly OrderTerm[]): Promise<RunRow[] | undefined> {
  const first: OrderTerm = order[0] ?? { entity: 'attribute', key: 'start_time', ascending: false };
  const byValue = isValueEntity(first.entity);
  if (!byValue && !(first.entity === 'attribute' && first.key === 'start_time')) return undefined;
  if (!filter && !byValue) return undefined; // nothing to probe: the plain query already walks the index
  const need = opts.offset + opts.limit;
  // A small scan first; when it falls short, a second one sized by the match rate the first one saw.
  let scan = Math.max(256, 4 * need);
  for (let attempt = 0; attempt < 2; attempt++) {
    const rows = await scanCandidates(db, opts, filter, order, first, byValue, scan);
    if (rows === undefined) return undefined;
    if (rows.length === opts.limit) return rows;
    // Matches among the candidates: the rows returned after the offset, plus the offset they passed.
    const matched = rows.length > 0 ? opts.offset + rows.length : 1;
    scan = Math.ceil((1.5 * need * scan) / matched);
    if (scan > MAX_ORDER_FIRST_SCAN) return undefined;
  }
  return undefined;
}

/** Past this many candidates, the filter-first plan is the better bet. */
const MAX_ORDER_FIRST_SCAN = 50_000;

/** One order-first attempt over the first `scan` values in order; undefined when there are fewer values. */
async function scanCandidates(
  db: Kysely<Database>,
  opts: RunSearchOptions,
  filter: FilterNode | undefined,
  order: readonly OrderTerm[],
  first: OrderTerm,
  byValue: boolean,
  scan: number,
): Promise<RunRow[] | undefined> {
  const dir = sql.raw(first.ascending ? 'ASC' : 'DESC');
  const cmp = sql.raw(first.ascending ? '<=' : '>=');
  const where = scopeConditions(opts);
  const { joins, terms } = ordering(order);
  let edge;
  if (byValue) {
    const table = sql.table(VALUE_TABLES[first.entity as ValueEntity]);
    edge = await sql<{ value: unknown }>`SELECT value FROM ${table} WHERE key = ${first.key} AND value IS NOT NULL ORDER BY value ${dir} LIMIT 1 OFFSET ${scan - 1}`.execute(db);
    joins[0] = sql`JOIN ${table} AS o0 ON o0.run_id = runs.run_id AND o0.key = ${first.key}`;
  } else {
    edge = await sql<{ value: unknown }>`SELECT runs.start_time AS value FROM runs WHERE ${sql.join(scopeConditions(opts), sql` AND `)} ORDER BY runs.start_time ${dir} LIMIT 1 OFFSET ${scan - 1}`.execute(db);
  }
  const threshold = edge.rows[0]?.value;
  if (threshold === undefined || threshold === null) return undefined; // few values: the filter-first plan is cheap
  where.push(sql`${byValue ? sql`o0.value` : sql`runs.start_time`} ${cmp} ${threshold as string | number}`);
  if (filter) where.push(sql`(${compileFilter(filter, runFields, 'exists')})`);
  const rows = (await sql<RunRow>`SELECT runs.* FROM runs ${sql.join(joins, sql` `)} WHERE ${sql.join(where, sql` AND `)} ORDER BY ${sql.join(terms)} LIMIT ${opts.limit} OFFSET ${opts.offset}`.execute(db)).rows;
  return rows;
}

/**
 * One page of a run search. The filter and order_by are parsed first, so a syntax error never reaches the
 * database; then the order-first plan is tried when it applies, and the filter-first plan answers otherwise.
 */
export async function searchRunRows(db: Kysely<Database>, opts: RunSearchOptions): Promise<RunRow[]> {
  const filter = parseFilter(opts.filter, RUN_GRAMMAR);
  const order = parseOrderBy(opts.orderBy, RUN_GRAMMAR);
  const fast = await orderFirst(db, opts, filter, order);
  if (fast) return fast;
  return (await buildRunSearchQuery(opts, filter, order).execute(db)).rows;
}
