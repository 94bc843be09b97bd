export type { Comparison, Entity, FilterNode, Logical, Operator, OrderTerm } from './ast.js';
export { show, showOrder } from './ast.js';
export { MAX_FILTER_LENGTH } from './lexer.js';
export {
  MAX_FILTER_DEPTH,
  MAX_IN_LIST,
  MAX_ORDER_TERMS,
  parseExperimentFilter,
  parseExperimentOrderBy,
  parseFilter,
  parseOrderBy,
  parseRunFilter,
  parseRunOrderBy,
} from './parser.js';
export { EXPERIMENT_GRAMMAR, RUN_GRAMMAR, type FieldRule, type Grammar } from './grammars.js';
export { buildRunSearchQuery, countRunRows, searchRunRows, type RunCountOptions, type RunCounts, type DeferredRunQuery, type RunRow, type RunSearchOptions, type RunSearchQuery } from './compile-runs.js';
export { buildExperimentSearchQuery, searchExperimentRows, type ExperimentRow, type ExperimentSearchOptions, type ExperimentSearchQuery } from './compile-experiments.js';
export { LOGGED_MODEL_GRAMMAR, compileLoggedModelFilter, compileLoggedModelOrder } from './compile-logged-models.js';
