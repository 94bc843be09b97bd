import type { KilnMigration } from '../../platform/db/migrate.js';
import monitoring from './0017_monitoring.js';

/** The monitoring capability's schema history, in order. Append new migrations; never edit or remove a shipped one. */
export const MONITORING_MIGRATIONS: readonly KilnMigration[] = [monitoring];
