export { EXPERIMENT_GRAMMAR, RUN_GRAMMAR, parseExperimentFilter, parseExperimentOrderBy, parseRunFilter, parseRunOrderBy } from './grammars.js';
export { buildRunSearchQuery, countRunRows, searchRunRows, type RunCountOptions, type RunCounts, type DeferredRunQuery, type RunRow, type RunSearchOptions, type RunSearchQuery } from './compile-runs.js';
export { buildExperimentSearchQuery, searchExperimentRows, type ExperimentRow, type ExperimentSearchOptions, type ExperimentSearchQuery } from './compile-experiments.js';
export { LOGGED_MODEL_GRAMMAR, compileLoggedModelFilter, compileLoggedModelOrder } from './compile-logged-models.js';
