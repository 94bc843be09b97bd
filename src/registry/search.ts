import { sql, type RawBuilder } from 'kysely';
import { compileFilter, numberField, parseFilter, parseOrderBy, stringField, type Comparison, type FieldSql, type FilterNode, type Grammar } from '../platform/search/index.js';

/**
 * The registry's search languages: MLflow's registered-model and model-version filters (`name LIKE '%x%'`,
 * `tags.team = 'a'`, `run_id IN (...)`, `version_number > 3`), with the same grammar as run search (OR,
 * parentheses, IS NULL, positioned error messages) compiled to one SQL query.
 */

const MODEL_COLUMNS: Record<string, { col: string; integer?: boolean }> = {
  name: { col: 'registered_models.name' },
  creation_timestamp: { col: 'registered_models.creation_time', integer: true },
  last_updated_timestamp: { col: 'registered_models.last_update_time', integer: true },
  description: { col: 'registered_models.description' },
};

export const REGISTERED_MODEL_GRAMMAR: Grammar = {
  entities: { tag: 'tag', tags: 'tag', attribute: 'attribute', attributes: 'attribute', attr: 'attribute' },
  attributeAliases: { name: 'name', creation_timestamp: 'creation_timestamp', last_updated_timestamp: 'last_updated_timestamp', timestamp: 'last_updated_timestamp', description: 'description' },
  attributes: { name: stringField(), creation_timestamp: numberField(), last_updated_timestamp: numberField(), description: stringField(true) },
  orderableAttributes: ['name', 'creation_timestamp', 'last_updated_timestamp'],
  orderableEntities: [],
  rule: (entity) => (entity === 'tag' ? stringField(true) : undefined),
  entityHint: 'tags or attributes (name, creation_timestamp, last_updated_timestamp, description)',
};

const VERSION_COLUMNS: Record<string, { col: string; integer?: boolean }> = {
  name: { col: 'registered_models.name' },
  version_number: { col: 'model_versions.version', integer: true },
  run_id: { col: 'model_versions.run_id' },
  source_path: { col: 'model_versions.source' },
  current_stage: { col: 'model_versions.current_stage' },
  status: { col: 'model_versions.status' },
  user_id: { col: 'model_versions.user_id' },
  creation_timestamp: { col: 'model_versions.creation_time', integer: true },
  last_updated_timestamp: { col: 'model_versions.last_update_time', integer: true },
};

export const MODEL_VERSION_GRAMMAR: Grammar = {
  entities: { tag: 'tag', tags: 'tag', attribute: 'attribute', attributes: 'attribute', attr: 'attribute' },
  attributeAliases: {
    ...Object.fromEntries(Object.keys(VERSION_COLUMNS).map((k) => [k, k])),
    version: 'version_number',
    source: 'source_path',
    timestamp: 'last_updated_timestamp',
  },
  attributes: {
    name: stringField(),
    version_number: numberField(),
    run_id: stringField(true),
    source_path: stringField(),
    current_stage: stringField(),
    status: stringField(),
    user_id: stringField(true),
    creation_timestamp: numberField(),
    last_updated_timestamp: numberField(),
  },
  orderableAttributes: ['name', 'version_number', 'creation_timestamp', 'last_updated_timestamp', 'run_id', 'current_stage', 'status'],
  orderableEntities: [],
  rule: (entity) => (entity === 'tag' ? stringField(true) : undefined),
  entityHint: 'tags or attributes (name, version_number, run_id, source_path, current_stage, status, user_id, creation_timestamp, last_updated_timestamp)',
};

const modelFields: FieldSql = {
  attribute: (key) => ({ expr: sql.ref(MODEL_COLUMNS[key]!.col), integer: MODEL_COLUMNS[key]!.integer ?? false }),
  member: (c, cond, negate) =>
    sql<boolean>`registered_models.model_pk ${sql.raw(negate ? 'NOT IN' : 'IN')} (SELECT model_pk FROM registered_model_tags WHERE ${sql.ref('key')} = ${c.key} AND ${cond(sql.ref('value'))})`,
};

const versionFields: FieldSql = {
  attribute: (key) => ({ expr: sql.ref(VERSION_COLUMNS[key]!.col), integer: VERSION_COLUMNS[key]!.integer ?? false }),
  member: (c, cond, negate) =>
    sql<boolean>`${sql.raw(negate ? 'NOT ' : '')}EXISTS (SELECT 1 FROM model_version_tags AS t WHERE t.model_pk = model_versions.model_pk AND t.version = model_versions.version AND ${sql.ref('t.key')} = ${c.key} AND ${cond(sql.ref('t.value'))})`,
};

export function compileModelFilter(filter: string | undefined): RawBuilder<boolean> | undefined {
  const node = parseFilter(filter, REGISTERED_MODEL_GRAMMAR);
  return node ? compileFilter(node, modelFields) : undefined;
}

/** order_by items such as `name ASC`, `last_updated_timestamp DESC`; default name ASC; the primary key breaks ties. */
export function compileModelOrder(orderBy: readonly string[] | undefined): RawBuilder<unknown>[] {
  const out = parseOrderBy(orderBy, REGISTERED_MODEL_GRAMMAR).map((t) => sql`${sql.ref(MODEL_COLUMNS[t.key]!.col)} ${sql.raw(t.ascending ? 'ASC' : 'DESC')}`);
  if (out.length === 0) out.push(sql`registered_models.name ASC`);
  out.push(sql`registered_models.model_pk ASC`);
  return out;
}

/**
 * A version filter, optionally scoped to one model. The scope is a node of the syntax tree ANDed with the parsed
 * filter, never text pasted around it: whatever the filter holds (an unbalanced `')`, an OR), it only narrows the
 * model's versions.
 */
export function compileVersionFilter(filter: string | undefined, scope?: { readonly model: string }): RawBuilder<boolean> | undefined {
  const parsed = parseFilter(filter, MODEL_VERSION_GRAMMAR);
  const node = scope === undefined ? parsed : andNodes(modelIs(scope.model), parsed);
  return node ? compileFilter(node, versionFields) : undefined;
}

/** `name = '<model>'` as a tree node. */
function modelIs(name: string): Comparison {
  return { kind: 'cmp', entity: 'attribute', key: 'name', op: '=', value: name, pos: 0, opPos: 0 };
}

/** Both conditions, at the tree level (the second may be absent). */
function andNodes(a: FilterNode, b: FilterNode | undefined): FilterNode {
  return b === undefined ? a : { kind: 'and', items: [a, b], pos: 0 };
}

/** Default: newest first (MLflow orders versions by last update); ties by model and version. */
export function compileVersionOrder(orderBy: readonly string[] | undefined): RawBuilder<unknown>[] {
  const out = parseOrderBy(orderBy, MODEL_VERSION_GRAMMAR).map((t) => sql`${sql.ref(VERSION_COLUMNS[t.key]!.col)} ${sql.raw(t.ascending ? 'ASC' : 'DESC')}`);
  if (out.length === 0) out.push(sql`model_versions.last_update_time DESC`);
  out.push(sql`registered_models.name ASC`, sql`model_versions.version DESC`);
  return out;
}
