import type { KilnMigration } from '../../platform/db/migrate.js';
import tracking from './0001_tracking.js';
import loggedModels from './0002_logged_models.js';
import loggedModelMetricsAndInputs from './0003_logged_model_metrics_and_inputs.js';
import projects from './0011_tracking_projects.js';

/** Tracking's schema history, in order. Append new migrations; never edit or remove a shipped one. */
export const TRACKING_MIGRATIONS: readonly KilnMigration[] = [tracking, loggedModels, loggedModelMetricsAndInputs, projects];
