import type { KilnMigration } from './platform/db/index.js';
import { TRACKING_MIGRATIONS } from './tracking/migrations/index.js';
import { REGISTRY_MIGRATIONS } from './registry/migrations/index.js';
import { DATA_MIGRATIONS } from './data/migrations/index.js';

/**
 * Every migration of the server, gathered here because platform imports no capability. A static list (no
 * directory scan) so it works from dist/ and in bundles; the runner orders it by name.
 */
export const MIGRATIONS: readonly KilnMigration[] = [...TRACKING_MIGRATIONS, ...REGISTRY_MIGRATIONS, ...DATA_MIGRATIONS];
