import type { KilnMigration } from '../../platform/db/migrate.js';
import governance from './0008_governance.js';
import projects from './0010_projects.js';
import sessions from './0014_sessions.js';
import oidc from './0015_oidc.js';

/** The governance capability's schema history, in order. Append new migrations; never edit or remove a shipped one. */
export const GOVERNANCE_MIGRATIONS: readonly KilnMigration[] = [governance, projects, sessions, oidc];
