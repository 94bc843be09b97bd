import { sql, type Kysely } from 'kysely';
import type { KilnMigration } from '../../platform/db/migrate.js';
import type { StoreAdapter } from '../../platform/db/adapter.js';
import { autoIncrementPrimaryKey } from '../../platform/db/migration-helpers.js';

/** Users (people and service accounts) and their API tokens. Shipped: never edit. */
const migration: KilnMigration = {
  name: '0008_governance',
  // Typed against an open schema on purpose: a migration describes history, not today's types.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async up(db: Kysely<any>, adapter: StoreAdapter) {
    await db.schema
      .createTable('gov_users')
      .addColumn('user_pk', adapter.autoIdType, autoIncrementPrimaryKey(adapter))
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('display_name', 'text')
      .addColumn('email', 'text')
      .addColumn('password_hash', 'text')
      .addColumn('admin', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('creation_time', 'bigint', (c) => c.notNull())
      .addColumn('last_update_time', 'bigint', (c) => c.notNull())
      .addColumn('last_login_time', 'bigint')
      .execute();
    await db.schema
      .createTable('gov_tokens')
      .addColumn('token_id', 'text', (c) => c.primaryKey())
      .addColumn('user_pk', 'bigint', (c) => c.notNull().references('gov_users.user_pk').onDelete('cascade'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('secret_hash', 'text', (c) => c.notNull())
      .addColumn('scopes', 'text', (c) => c.notNull())
      .addColumn('creation_time', 'bigint', (c) => c.notNull())
      .addColumn('expiry_time', 'bigint')
      .addColumn('last_used_time', 'bigint')
      .addColumn('revoked_time', 'bigint')
      .execute();
    // A user's live tokens have distinct names (`kiln tokens revoke NAME`); revoked ones keep theirs for the record.
    await db.schema.createIndex('gov_tokens_live_name').on('gov_tokens').columns(['user_pk', 'name']).unique().where(sql.ref('revoked_time'), 'is', null).execute();
  },
};

export default migration;
