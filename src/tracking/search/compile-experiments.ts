import { sql, type Kysely, type RawBuilder, type Selectable } from 'kysely';
import type { Database, ExperimentsTable } from '../../platform/db/schema.js';
import { compileFilter, type FieldSql } from './compile.js';
import { EXPERIMENT_GRAMMAR } from './grammars.js';
import { parseFilter, parseOrderBy } from './parser.js';

export interface ExperimentSearchOptions {
  readonly filter?: string;
  readonly orderBy?: readonly string[];
  readonly viewType: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
  readonly offset: number;
  readonly limit: number;
}

const experimentFields: FieldSql = {
  attribute: (key) => (key === 'experiment_id' ? sql`CAST(experiments.experiment_id AS TEXT)` : sql.ref(`experiments.${key}`)),
  member(c, cond, negate) {
    return sql<boolean>`experiments.experiment_id ${sql.raw(negate ? 'NOT IN' : 'IN')} (SELECT experiment_id FROM experiment_tags WHERE key = ${c.key} AND ${cond(sql.ref('value'))})`;
  },
};

/** One page of experiments; default order creation_time DESC, ties by experiment_id. */
export function buildExperimentSearchQuery(opts: ExperimentSearchOptions): RawBuilder<Selectable<ExperimentsTable>> {
  const filter = parseFilter(opts.filter, EXPERIMENT_GRAMMAR);
  const order = parseOrderBy(opts.orderBy, EXPERIMENT_GRAMMAR);
  const where: RawBuilder<unknown>[] = [sql`1 = 1`];
  if (opts.viewType === 'ACTIVE_ONLY') where.push(sql`experiments.lifecycle_stage = ${'active'}`);
  if (opts.viewType === 'DELETED_ONLY') where.push(sql`experiments.lifecycle_stage = ${'deleted'}`);
  if (filter) where.push(sql`(${compileFilter(filter, experimentFields)})`);
  const orderSql: RawBuilder<unknown>[] = [];
  for (const term of order) {
    const col = term.key === 'experiment_id' ? sql.ref('experiments.experiment_id') : experimentFields.attribute(term.key);
    orderSql.push(sql`${col} ${sql.raw(term.ascending ? 'ASC' : 'DESC')}`);
  }
  if (order.length === 0) orderSql.push(sql`experiments.creation_time DESC`);
  orderSql.push(sql`experiments.experiment_id ASC`);
  return sql<Selectable<ExperimentsTable>>`SELECT experiments.* FROM experiments WHERE ${sql.join(where, sql` AND `)} ORDER BY ${sql.join(orderSql)} LIMIT ${opts.limit} OFFSET ${opts.offset}`;
}

export async function searchExperimentRows(db: Kysely<Database>, opts: ExperimentSearchOptions): Promise<Selectable<ExperimentsTable>[]> {
  return (await buildExperimentSearchQuery(opts).execute(db)).rows;
}
