export * from './types.js';
export { formatFromName, profileSources, type ProfileSource } from './profile.js';
export { MISSING_TOKENS, type ProfileOptions } from './column.js';
export { KllSketch, HyperLogLog, SpaceSaving } from './sketch.js';
