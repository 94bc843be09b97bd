import type { Entity, Operator } from './ast.js';

/** The value type and operators a field accepts. */
export interface FieldRule {
  readonly type: 'number' | 'string';
  readonly ops: readonly Operator[];
}

/** What a search language accepts: its entities, attributes and the operators of each field. */
export interface Grammar {
  /** Entity spellings (lower case) → entity. */
  readonly entities: Readonly<Record<string, Entity>>;
  /** Attribute spellings → canonical attribute name. Looked up as written, then in lower case. */
  readonly attributeAliases: Readonly<Record<string, string>>;
  /** Filterable attributes by canonical name. */
  readonly attributes: Readonly<Record<string, FieldRule>>;
  /** Canonical names of the attributes order_by accepts. */
  readonly orderableAttributes: readonly string[];
  /** Entities other than attributes that order_by accepts. */
  readonly orderableEntities: readonly Entity[];
  /** Rule of a non-attribute field, or undefined when the entity takes no such key. */
  rule(entity: Entity, key: string): FieldRule | undefined;
  /** Keys an entity accepts, when it is a fixed list (for messages). */
  keysOf?(entity: Entity): readonly string[] | undefined;
  /** Human list of the allowed entities, for messages. */
  readonly entityHint: string;
}

export const NUMERIC_OPS: readonly Operator[] = ['=', '!=', '>', '>=', '<', '<='];
export const STRING_OPS: readonly Operator[] = ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'];
const NULL_OPS: readonly Operator[] = ['IS NULL', 'IS NOT NULL'];

export const numberField = (nullable = false): FieldRule => ({ type: 'number', ops: nullable ? [...NUMERIC_OPS, ...NULL_OPS] : NUMERIC_OPS });
export const stringField = (nullable = false): FieldRule => ({ type: 'string', ops: nullable ? [...STRING_OPS, ...NULL_OPS] : STRING_OPS });

const RUN_ENTITIES: Record<string, Entity> = {
  metric: 'metric',
  metrics: 'metric',
  param: 'param',
  params: 'param',
  parameter: 'param',
  parameters: 'param',
  tag: 'tag',
  tags: 'tag',
  attribute: 'attribute',
  attributes: 'attribute',
  attr: 'attribute',
  run: 'attribute',
  dataset: 'dataset',
  datasets: 'dataset',
};

export const DATASET_KEYS: readonly string[] = ['name', 'digest', 'context'];

/** MLflow's run search language, plus OR, parentheses and IS [NOT] NULL. */
export const RUN_GRAMMAR: Grammar = {
  entities: RUN_ENTITIES,
  attributeAliases: {
    run_id: 'run_id',
    run_name: 'run_name',
    'run name': 'run_name',
    user_id: 'user_id',
    status: 'status',
    artifact_uri: 'artifact_uri',
    lifecycle_stage: 'lifecycle_stage',
    start_time: 'start_time',
    created: 'start_time',
    end_time: 'end_time',
    experiment_id: 'experiment_id',
  },
  attributes: {
    run_id: stringField(),
    run_name: stringField(),
    user_id: stringField(),
    status: stringField(),
    artifact_uri: stringField(),
    lifecycle_stage: stringField(),
    start_time: numberField(),
    end_time: numberField(true),
    // Experiment ids are strings in the MLflow API; compared as text.
    experiment_id: stringField(),
  },
  orderableAttributes: ['run_id', 'run_name', 'user_id', 'status', 'artifact_uri', 'lifecycle_stage', 'start_time', 'end_time', 'experiment_id'],
  orderableEntities: ['metric', 'param', 'tag'],
  rule(entity, key) {
    if (entity === 'metric') return numberField(true);
    if (entity === 'param' || entity === 'tag') return stringField(true);
    if (entity === 'dataset') return DATASET_KEYS.includes(key) ? stringField() : undefined;
    return undefined;
  },
  keysOf: (entity) => (entity === 'dataset' ? DATASET_KEYS : undefined),
  entityHint: 'metrics, params, tags, attributes or datasets',
};

/** Experiment search: name, times and tags. */
export const EXPERIMENT_GRAMMAR: Grammar = {
  entities: { tag: 'tag', tags: 'tag', attribute: 'attribute', attributes: 'attribute', attr: 'attribute' },
  attributeAliases: { name: 'name', creation_time: 'creation_time', last_update_time: 'last_update_time', experiment_id: 'experiment_id' },
  attributes: { name: stringField(), creation_time: numberField(), last_update_time: numberField(), experiment_id: stringField() },
  orderableAttributes: ['name', 'experiment_id', 'creation_time', 'last_update_time'],
  orderableEntities: [],
  rule(entity) {
    return entity === 'tag' ? stringField(true) : undefined;
  },
  entityHint: 'tags or attributes',
};
