import type { KilnMigration } from '../../platform/db/migrate.js';
import data from './0005_data.js';
import projects from './0013_data_projects.js';

/** The data capability's schema history, in order. Append new migrations; never edit or remove a shipped one. */
export const DATA_MIGRATIONS: readonly KilnMigration[] = [data, projects];
