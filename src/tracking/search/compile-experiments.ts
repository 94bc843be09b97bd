import { sql, type Kysely, type RawBuilder, type Selectable, type SelectQueryBuilder } from 'kysely';
import type { TrackingTables, ExperimentsTable } from '../tables.js';
import { compileFilter, type FieldSql } from '../../platform/search/index.js';
import { parseExperimentFilter, parseExperimentOrderBy } from './grammars.js';

export interface ExperimentSearchOptions {
  /** What the caller may read (a condition on experiments.project_id / experiment_id; none: everything). */
  readonly readable?: RawBuilder<boolean>;
  /** Only the experiments of this project. */
  readonly projectId?: number;
  readonly filter?: string;
  readonly orderBy?: readonly string[];
  readonly viewType: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
  readonly offset: number;
  readonly limit: number;
}

export type ExperimentRow = Selectable<ExperimentsTable>;
/** One page of experiments (experiments.*), in order. */
export type ExperimentSearchQuery = SelectQueryBuilder<TrackingTables, 'experiments', ExperimentRow>;

const COLUMNS = {
  name: 'experiments.name',
  experiment_id: 'experiments.experiment_id',
  creation_time: 'experiments.creation_time',
  last_update_time: 'experiments.last_update_time',
} as const;

const experimentFields: FieldSql = {
  attribute(key) {
    // Experiment ids are strings in the API: compared as text.
    if (key === 'experiment_id') return { expr: sql`CAST(experiments.experiment_id AS TEXT)` };
    return { expr: sql.ref(COLUMNS[key as keyof typeof COLUMNS]), integer: key !== 'name' };
  },
  member(c, cond, negate) {
    return sql<boolean>`experiments.experiment_id ${sql.raw(negate ? 'NOT IN' : 'IN')} (SELECT experiment_id FROM experiment_tags WHERE ${sql.ref('key')} = ${c.key} AND ${cond(sql.ref('value'))})`;
  },
};

/**
 * One page of an experiment search; default order creation_time DESC, and experiment_id ASC breaks every tie.
 * The filter and order_by are parsed before any SQL is built, so a bad one throws INVALID_PARAMETER_VALUE here.
 */
export function buildExperimentSearchQuery(db: Kysely<TrackingTables>, opts: ExperimentSearchOptions): ExperimentSearchQuery {
  const filter = parseExperimentFilter(opts.filter);
  const order = parseExperimentOrderBy(opts.orderBy);
  let q: ExperimentSearchQuery = db.selectFrom('experiments').selectAll('experiments');
  if (opts.viewType === 'ACTIVE_ONLY') q = q.where('experiments.lifecycle_stage', '=', 'active');
  if (opts.viewType === 'DELETED_ONLY') q = q.where('experiments.lifecycle_stage', '=', 'deleted');
  if (opts.readable) q = q.where(opts.readable);
  if (opts.projectId !== undefined) q = q.where('experiments.project_id', '=', opts.projectId);
  if (filter) q = q.where(compileFilter(filter, experimentFields));
  for (const term of order) q = q.orderBy(COLUMNS[term.key as keyof typeof COLUMNS], term.ascending ? 'asc' : 'desc');
  if (order.length === 0) q = q.orderBy('experiments.creation_time', 'desc');
  return q.orderBy('experiments.experiment_id', 'asc').limit(opts.limit).offset(opts.offset);
}

export async function searchExperimentRows(db: Kysely<TrackingTables>, opts: ExperimentSearchOptions): Promise<ExperimentRow[]> {
  return buildExperimentSearchQuery(db, opts).execute();
}
