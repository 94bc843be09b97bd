import type { KilnMigration } from './db/migrate.js';
import { m0007EventLog } from './events/migrations/0007_event_log.js';
import { m0009AuditLog } from './audit/migrations/0009_audit_log.js';

/** The platform's own tables (the event log, the audit log); each capability lists its own migrations in its module.ts. */
export const PLATFORM_MIGRATIONS: readonly KilnMigration[] = [m0007EventLog, m0009AuditLog];
