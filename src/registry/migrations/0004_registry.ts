import type { Kysely } from 'kysely';
import type { KilnMigration } from '../../platform/db/migrate.js';
import type { StoreAdapter } from '../../platform/db/adapter.js';
import { autoIncrementPrimaryKey } from '../../platform/db/migration-helpers.js';

/** Registered models, their versions, tags and aliases, and the model history (events). Shipped: never edit. */
const migration: KilnMigration = {
  name: '0004_registry',
  // Typed against an open schema on purpose: a migration describes history, not today's types.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async up(db: Kysely<any>, adapter: StoreAdapter) {
    await db.schema
      .createTable('registered_models')
      .addColumn('model_pk', adapter.autoIdType, autoIncrementPrimaryKey(adapter))
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('description', 'text')
      .addColumn('user_id', 'text')
      .addColumn('creation_time', 'bigint', (c) => c.notNull())
      .addColumn('last_update_time', 'bigint', (c) => c.notNull())
      .addColumn('next_version', 'integer', (c) => c.notNull().defaultTo(1))
      .execute();
    await db.schema.createIndex('registered_models_updated').on('registered_models').columns(['last_update_time']).execute();
    await db.schema
      .createTable('registered_model_tags')
      .addColumn('model_pk', 'bigint', (c) => c.notNull().references('registered_models.model_pk').onDelete('cascade'))
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('registered_model_tags_pk', ['model_pk', 'key'])
      .execute();
    await db.schema.createIndex('registered_model_tags_key_value').on('registered_model_tags').columns(['key', 'value']).execute();
    await db.schema
      .createTable('model_versions')
      .addColumn('model_pk', 'bigint', (c) => c.notNull().references('registered_models.model_pk').onDelete('cascade'))
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('creation_time', 'bigint', (c) => c.notNull())
      .addColumn('last_update_time', 'bigint', (c) => c.notNull())
      .addColumn('user_id', 'text')
      .addColumn('description', 'text')
      .addColumn('current_stage', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('storage_location', 'text', (c) => c.notNull())
      .addColumn('run_id', 'text')
      .addColumn('run_link', 'text')
      .addColumn('logged_model_id', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('status_message', 'text')
      .addColumn('servable', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('package', 'text')
      .addPrimaryKeyConstraint('model_versions_pk', ['model_pk', 'version'])
      .execute();
    await db.schema.createIndex('model_versions_run').on('model_versions').column('run_id').execute();
    await db.schema.createIndex('model_versions_status').on('model_versions').column('status').execute();
    await db.schema
      .createTable('model_version_tags')
      .addColumn('model_pk', 'bigint', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('model_version_tags_pk', ['model_pk', 'version', 'key'])
      .addForeignKeyConstraint('model_version_tags_version', ['model_pk', 'version'], 'model_versions', ['model_pk', 'version'], (c) => c.onDelete('cascade'))
      .execute();
    await db.schema
      .createTable('model_aliases')
      .addColumn('model_pk', 'bigint', (c) => c.notNull())
      .addColumn('alias', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('model_aliases_pk', ['model_pk', 'alias'])
      .addForeignKeyConstraint('model_aliases_version', ['model_pk', 'version'], 'model_versions', ['model_pk', 'version'], (c) => c.onDelete('cascade'))
      .execute();
    await db.schema
      .createTable('model_events')
      .addColumn('event_pk', adapter.autoIdType, autoIncrementPrimaryKey(adapter))
      .addColumn('model_pk', 'bigint', (c) => c.notNull().references('registered_models.model_pk').onDelete('cascade'))
      .addColumn('version', 'integer')
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('alias', 'text')
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('time', 'bigint', (c) => c.notNull())
      .addColumn('reason', 'text')
      .addColumn('details', 'text')
      .execute();
    await db.schema.createIndex('model_events_model').on('model_events').columns(['model_pk', 'event_pk']).execute();
  },
};

export default migration;
