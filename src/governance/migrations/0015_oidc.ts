import type { Kysely } from 'kysely';
import type { KilnMigration } from '../../platform/db/migrate.js';

/**
 * OIDC single sign-on: users created by it (the provider's issuer and subject), how a session was opened and the
 * provider's groups it carries, and the sign-ins under way (PKCE verifier, state, nonce). Shipped: never edit.
 */
const migration: KilnMigration = {
  name: '0015_oidc',
  // Typed against an open schema on purpose: a migration describes history, not today's types.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async up(db: Kysely<any>) {
    await db.schema.alterTable('gov_users').addColumn('sso_issuer', 'text').execute();
    await db.schema.alterTable('gov_users').addColumn('sso_subject', 'text').execute();
    await db.schema.alterTable('gov_sessions').addColumn('method', 'text', (c) => c.notNull().defaultTo('session')).execute();
    await db.schema.alterTable('gov_sessions').addColumn('groups', 'text').execute();
    await db.schema
      .createTable('gov_sso_logins')
      .addColumn('login_hash', 'text', (c) => c.primaryKey())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('nonce', 'text', (c) => c.notNull())
      .addColumn('code_verifier', 'text', (c) => c.notNull())
      .addColumn('redirect_url', 'text', (c) => c.notNull())
      .addColumn('return_to', 'text', (c) => c.notNull())
      .addColumn('expiry_time', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('gov_sso_logins_expiry').on('gov_sso_logins').column('expiry_time').execute();
  },
};

export default migration;
