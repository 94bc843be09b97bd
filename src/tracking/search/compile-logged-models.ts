import { sql, type RawBuilder } from 'kysely';
import { KilnError } from '../../platform/errors.js';
import { compileFilter, numberField, parseFilter, stringField, type FieldSql, type Grammar } from '../../platform/search/index.js';

const str = stringField();
const num = numberField();

const COLUMNS: Record<string, string> = {
  name: 'logged_models.name',
  model_id: 'logged_models.model_id',
  model_type: 'logged_models.model_type',
  status: 'logged_models.status',
  source_run_id: 'logged_models.source_run_id',
  creation_timestamp: 'logged_models.creation_time',
  last_updated_timestamp: 'logged_models.last_update_time',
};

/** MLflow 3's logged model search: attributes, params, tags and metrics (a model matches when any of its points for the key does, as in MLflow). */
export const LOGGED_MODEL_GRAMMAR: Grammar = {
  entities: { param: 'param', params: 'param', tag: 'tag', tags: 'tag', attribute: 'attribute', attributes: 'attribute', metric: 'metric', metrics: 'metric' },
  attributeAliases: Object.fromEntries(Object.keys(COLUMNS).map((k) => [k, k])),
  attributes: { name: str, model_id: str, model_type: str, status: str, source_run_id: str, creation_timestamp: num, last_updated_timestamp: num },
  orderableAttributes: Object.keys(COLUMNS),
  orderableEntities: [],
  rule(entity) {
    if (entity === 'metric') return numberField(true);
    return entity === 'param' || entity === 'tag' ? stringField(true) : undefined;
  },
  entityHint: 'metrics, params, tags, attributes',
};

const fields: FieldSql = {
  attribute: (key) => ({ expr: sql.ref(COLUMNS[key]!), integer: key === 'creation_timestamp' || key === 'last_updated_timestamp' }),
  member(c, cond, negate) {
    if (c.entity === 'metric') {
      return sql<boolean>`logged_models.model_id ${sql.raw(negate ? 'NOT IN' : 'IN')} (SELECT model_id FROM logged_model_metrics WHERE ${sql.ref('key')} = ${c.key} AND is_nan = 0 AND ${cond(sql.ref('value'))})`;
    }
    const table = sql.table(c.entity === 'param' ? 'logged_model_params' : 'logged_model_tags');
    return sql<boolean>`logged_models.model_id ${sql.raw(negate ? 'NOT IN' : 'IN')} (SELECT model_id FROM ${table} WHERE ${sql.ref('key')} = ${c.key} AND ${cond(sql.ref('value'))})`;
  },
};

export function compileLoggedModelFilter(filter: string | undefined): RawBuilder<boolean> | undefined {
  const node = parseFilter(filter, LOGGED_MODEL_GRAMMAR);
  return node ? compileFilter(node, fields, 'in') : undefined;
}

/** Structured order_by ({field_name, ascending}) over attributes; default creation_timestamp DESC; ties by model_id. */
export function compileLoggedModelOrder(order: readonly { fieldName: string; ascending: boolean }[]): RawBuilder<unknown>[] {
  const out: RawBuilder<unknown>[] = [];
  for (const o of order) {
    const field = o.fieldName.replace(/^attributes?\./, '');
    const col = COLUMNS[field];
    if (!col) throw new KilnError('INVALID_PARAMETER_VALUE', `Invalid order_by field '${o.fieldName}': expected one of ${Object.keys(COLUMNS).join(', ')}`);
    out.push(sql`${sql.ref(col)} ${sql.raw(o.ascending ? 'ASC' : 'DESC')}`);
  }
  if (order.length === 0) out.push(sql`logged_models.creation_time DESC`);
  out.push(sql`logged_models.model_id ASC`);
  return out;
}
