import type { Kysely } from 'kysely';
import type { KilnMigration } from '../../platform/db/migrate.js';
import type { StoreAdapter } from '../../platform/db/adapter.js';
import { autoIncrementPrimaryKey } from '../../platform/db/migration-helpers.js';

/**
 * Promotion policies and requests (approvals), and webhooks with their delivery log. Shipped: never edit.
 *
 * The webhook tables are here because webhooks shipped as part of the registry (they send registry events);
 * should webhooks become a capability of their own, their later migrations go there, and this one stays.
 */
const migration: KilnMigration = {
  name: '0006_promotions_and_webhooks',
  // Typed against an open schema on purpose: a migration describes history, not today's types.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async up(db: Kysely<any>, adapter: StoreAdapter) {
    await db.schema
      .createTable('promotion_policies')
      .addColumn('model_pk', 'bigint', (c) => c.notNull().references('registered_models.model_pk').onDelete('cascade'))
      .addColumn('alias', 'text', (c) => c.notNull())
      .addColumn('policy', 'text', (c) => c.notNull())
      .addColumn('updated_by', 'text', (c) => c.notNull())
      .addColumn('update_time', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('promotion_policies_pk', ['model_pk', 'alias'])
      .execute();
    await db.schema
      .createTable('promotion_requests')
      .addColumn('request_pk', adapter.autoIdType, autoIncrementPrimaryKey(adapter))
      .addColumn('model_pk', 'bigint', (c) => c.notNull().references('registered_models.model_pk').onDelete('cascade'))
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('alias', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('requested_by', 'text', (c) => c.notNull())
      .addColumn('request_time', 'bigint', (c) => c.notNull())
      .addColumn('decided_by', 'text')
      .addColumn('decision_time', 'bigint')
      .addColumn('reason', 'text')
      .addColumn('evaluation', 'text')
      .execute();
    await db.schema.createIndex('promotion_requests_model').on('promotion_requests').columns(['model_pk', 'alias', 'status']).execute();
    await db.schema
      .createTable('webhooks')
      .addColumn('webhook_id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('events', 'text', (c) => c.notNull())
      .addColumn('model_name', 'text')
      .addColumn('secret', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('creation_time', 'bigint', (c) => c.notNull())
      .addColumn('last_update_time', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('webhook_deliveries')
      .addColumn('delivery_pk', adapter.autoIdType, autoIncrementPrimaryKey(adapter))
      .addColumn('webhook_id', 'text', (c) => c.notNull().references('webhooks.webhook_id').onDelete('cascade'))
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('event_kind', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_time', 'bigint')
      .addColumn('last_attempt_time', 'bigint')
      .addColumn('response_status', 'integer')
      .addColumn('response_body', 'text')
      .addColumn('error', 'text')
      .addColumn('duration_ms', 'integer')
      .addColumn('creation_time', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['status', 'next_attempt_time']).execute();
    await db.schema.createIndex('webhook_deliveries_hook').on('webhook_deliveries').columns(['webhook_id', 'delivery_pk']).execute();
  },
};

export default migration;
