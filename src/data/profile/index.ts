export * from './types.js';
export { formatFromName, profileSources, readSource, type ProfileSource } from './profile.js';
export type { RowSink } from './table.js';
export { MISSING_TOKENS, parseDatetime, type ProfileOptions } from './column.js';
export { inferSchema, parseSchema } from './schema.js';
export { validateProfile, type ValidateOptions } from './validate.js';
export { diffProfiles } from './diff.js';
export { columnDivergence, jsDivergence } from './divergence.js';
export { KllSketch, HyperLogLog, SpaceSaving } from './sketch.js';
