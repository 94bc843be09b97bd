import type { KilnMigration } from '../../platform/db/migrate.js';
import registry from './0004_registry.js';
import promotionsAndWebhooks from './0006_promotions_and_webhooks.js';
import projects from './0012_registry_projects.js';

/** The registry's schema history, in order. Append new migrations; never edit or remove a shipped one. */
export const REGISTRY_MIGRATIONS: readonly KilnMigration[] = [registry, promotionsAndWebhooks, projects];
