import type { Kysely } from 'kysely';
import type { KilnMigration } from '../../platform/db/migrate.js';

/** Browser sessions of the web UI: stored by the SHA-256 of their id, with their CSRF token and timeouts. Shipped: never edit. */
const migration: KilnMigration = {
  name: '0014_sessions',
  // Typed against an open schema on purpose: a migration describes history, not today's types.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('gov_sessions')
      .addColumn('session_hash', 'text', (c) => c.primaryKey())
      .addColumn('user_pk', 'bigint', (c) => c.notNull().references('gov_users.user_pk').onDelete('cascade'))
      .addColumn('csrf_token', 'text', (c) => c.notNull())
      .addColumn('creation_time', 'bigint', (c) => c.notNull())
      .addColumn('expiry_time', 'bigint', (c) => c.notNull())
      .addColumn('last_seen_time', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('gov_sessions_user').on('gov_sessions').column('user_pk').execute();
    await db.schema.createIndex('gov_sessions_expiry').on('gov_sessions').column('expiry_time').execute();
  },
};

export default migration;
