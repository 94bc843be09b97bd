import { numberField, parseFilter, parseOrderBy, stringField, type Entity, type FilterNode, type Grammar, type OrderTerm } from '../../platform/search/index.js';

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

export const parseRunFilter = (filter: string | undefined): FilterNode | undefined => parseFilter(filter, RUN_GRAMMAR);
export const parseRunOrderBy = (items: readonly string[] | undefined): OrderTerm[] => parseOrderBy(items, RUN_GRAMMAR);
export const parseExperimentFilter = (filter: string | undefined): FilterNode | undefined => parseFilter(filter, EXPERIMENT_GRAMMAR);
export const parseExperimentOrderBy = (items: readonly string[] | undefined): OrderTerm[] => parseOrderBy(items, EXPERIMENT_GRAMMAR);
