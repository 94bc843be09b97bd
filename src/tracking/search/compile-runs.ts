import { sql, type Kysely, type RawBuilder, type Selectable } from 'kysely';
import type { Database, RunsTable } from '../../platform/db/schema.js';
import type { Comparison } from './ast.js';
import { compileFilter, type FieldSql } from './compile.js';
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

const runFields: FieldSql = {
  attribute: (key) => (key === 'experiment_id' ? sql`CAST(runs.experiment_id AS TEXT)` : sql.ref(RUN_COLUMNS[key]!)),
  member(c: Comparison, cond, negate = false) {
    const not = sql.raw(negate ? 'NOT IN' : 'IN');
    if (c.entity === 'dataset') {
      const from =
        c.key === 'context'
          ? sql`run_inputs ri JOIN input_tags it ON it.input_id = ri.input_id AND it.key = ${'mlflow.data.context'}`
          : sql`run_inputs ri JOIN datasets d ON d.dataset_id = ri.dataset_id`;
      const col = c.key === 'context' ? sql.ref('it.value') : sql.ref(`d.${c.key === 'name' ? 'name' : 'digest'}`);
      return sql<boolean>`runs.run_id ${not} (SELECT ri.run_id FROM ${from} WHERE ${cond(col)})`;
    }
    const table = sql.table(VALUE_TABLES[c.entity as keyof typeof VALUE_TABLES]);
    return sql<boolean>`runs.run_id ${not} (SELECT run_id FROM ${table} WHERE key = ${c.key} AND ${cond(sql.ref('value'))})`;
  },
};

/**
 * One SQL query for one page of runs: the filter as indexed membership tests, ordering through left joins
 * of the value tables (missing and NaN last in both directions), ties broken by start_time DESC, run_id.
 * The filter and order_by are parsed first, so a syntax error never reaches the database.
 */
export function buildRunSearchQuery(opts: RunSearchOptions): RawBuilder<Selectable<RunsTable>> {
  const filter = parseFilter(opts.filter, RUN_GRAMMAR);
  const order = parseOrderBy(opts.orderBy, RUN_GRAMMAR);
  const where: RawBuilder<unknown>[] = [];
  if (opts.experimentIds.length === 0) where.push(sql`1 = 0`);
  else where.push(sql`runs.experiment_id IN (${sql.join(opts.experimentIds.map((id) => sql`${id}`))})`);
  if (opts.viewType === 'ACTIVE_ONLY') where.push(sql`runs.lifecycle_stage = ${'active'}`);
  if (opts.viewType === 'DELETED_ONLY') where.push(sql`runs.lifecycle_stage = ${'deleted'}`);
  if (filter) where.push(sql`(${compileFilter(filter, runFields)})`);

  const joins: RawBuilder<unknown>[] = [];
  const orderSql: RawBuilder<unknown>[] = [];
  order.forEach((term, i) => {
    const dir = sql.raw(term.ascending ? 'ASC' : 'DESC');
    let col: RawBuilder<unknown>;
    if (term.entity === 'attribute') col = runFields.attribute(term.key);
    else {
      const alias = `o${i}`;
      const table = sql.table(VALUE_TABLES[term.entity as keyof typeof VALUE_TABLES]);
      joins.push(sql`LEFT JOIN ${table} AS ${sql.raw(alias)} ON ${sql.raw(alias)}.run_id = runs.run_id AND ${sql.raw(alias)}.key = ${term.key}`);
      col = sql.ref(`${alias}.value`);
    }
    orderSql.push(sql`CASE WHEN ${col} IS NULL THEN 1 ELSE 0 END`, sql`${col} ${dir}`);
  });
  orderSql.push(sql`runs.start_time DESC`, sql`runs.run_id ASC`);
  return sql<Selectable<RunsTable>>`SELECT runs.* FROM runs ${sql.join(joins, sql` `)} WHERE ${sql.join(where, sql` AND `)} ORDER BY ${sql.join(orderSql)} LIMIT ${opts.limit} OFFSET ${opts.offset}`;
}

/** Runs one page of a run search. */
export async function searchRunRows(db: Kysely<Database>, opts: RunSearchOptions): Promise<Selectable<RunsTable>[]> {
  return (await buildRunSearchQuery(opts).execute(db)).rows;
}
