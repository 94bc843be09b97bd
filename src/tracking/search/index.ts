export type { Comparison, Entity, FilterNode, Logical, Operator, OrderTerm } from './ast.js';
export { show } from './ast.js';
export { parseFilter, parseOrderBy, type Grammar } from './parser.js';
export { RUN_GRAMMAR, EXPERIMENT_GRAMMAR } from './grammars.js';
export { buildRunSearchQuery, searchRunRows, type RunSearchOptions } from './compile-runs.js';
export { buildExperimentSearchQuery, searchExperimentRows, type ExperimentSearchOptions } from './compile-experiments.js';
export { LOGGED_MODEL_GRAMMAR, compileLoggedModelFilter, compileLoggedModelOrder } from './compile-logged-models.js';
