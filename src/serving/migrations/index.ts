import type { KilnMigration } from '../../platform/db/migrate.js';
import serving from './0016_serving.js';

/** The serving capability's schema history, in order. Append new migrations; never edit or remove a shipped one. */
export const SERVING_MIGRATIONS: readonly KilnMigration[] = [serving];
