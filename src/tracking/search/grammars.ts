import type { Entity, Operator } from './ast.js';
import type { FieldRule, Grammar } from './parser.js';

const NUM: readonly Operator[] = ['=', '!=', '>', '>=', '<', '<='];
const STR: readonly Operator[] = ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'];
const NULLS: readonly Operator[] = ['IS NULL', 'IS NOT NULL'];

const num = (nullable = false): FieldRule => ({ type: 'number', ops: nullable ? [...NUM, ...NULLS] : NUM });
const str = (nullable = false): FieldRule => ({ type: 'string', ops: nullable ? [...STR, ...NULLS] : STR });

const ENTITY_ALIASES: Record<string, Entity> = {
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

const DATASET_KEYS = ['name', 'digest', 'context'];

/** MLflow's run search language, plus OR, parentheses and IS [NOT] NULL. */
export const RUN_GRAMMAR: Grammar = {
  entities: ENTITY_ALIASES,
  attributeAliases: {
    run_id: 'run_id',
    run_name: 'run_name',
    'run name': 'run_name',
    'Run name': 'run_name',
    'Run Name': 'run_name',
    user_id: 'user_id',
    status: 'status',
    artifact_uri: 'artifact_uri',
    lifecycle_stage: 'lifecycle_stage',
    start_time: 'start_time',
    created: 'start_time',
    Created: 'start_time',
    end_time: 'end_time',
    experiment_id: 'experiment_id',
  },
  attributes: {
    run_id: str(),
    run_name: str(),
    user_id: str(),
    status: str(),
    artifact_uri: str(),
    lifecycle_stage: str(),
    start_time: num(),
    end_time: num(true),
    experiment_id: str(),
  },
  orderableAttributes: ['run_id', 'run_name', 'user_id', 'status', 'artifact_uri', 'start_time', 'end_time', 'experiment_id', 'lifecycle_stage'],
  rule(entity, key) {
    if (entity === 'metric') return num(true);
    if (entity === 'param' || entity === 'tag') return str(true);
    if (entity === 'dataset') return DATASET_KEYS.includes(key) ? str() : undefined;
    return undefined;
  },
  entityHint: 'metrics, params, tags, attributes, datasets',
};

/** Experiment search: name, times and tags. */
export const EXPERIMENT_GRAMMAR: Grammar = {
  entities: { tag: 'tag', tags: 'tag', attribute: 'attribute', attributes: 'attribute', attr: 'attribute' },
  attributeAliases: { name: 'name', creation_time: 'creation_time', last_update_time: 'last_update_time', experiment_id: 'experiment_id' },
  attributes: { name: str(), creation_time: num(), last_update_time: num(), experiment_id: str() },
  orderableAttributes: ['name', 'experiment_id', 'creation_time', 'last_update_time'],
  rule(entity) {
    return entity === 'tag' ? str(true) : undefined;
  },
  entityHint: 'tags, attributes',
};
