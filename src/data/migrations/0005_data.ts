import type { Kysely } from 'kysely';
import type { KilnMigration } from '../../platform/db/migrate.js';
import type { StoreAdapter } from '../../platform/db/adapter.js';
import { autoIncrementPrimaryKey } from '../../platform/db/migration-helpers.js';

/** Versioned datasets (content-addressed) and their validation reports. Shipped: never edit. */
const migration: KilnMigration = {
  name: '0005_data',
  // Typed against an open schema on purpose: a migration describes history, not today's types.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async up(db: Kysely<any>, adapter: StoreAdapter) {
    await db.schema
      .createTable('data_datasets')
      .addColumn('dataset_pk', adapter.autoIdType, autoIncrementPrimaryKey(adapter))
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('description', 'text')
      .addColumn('user_id', 'text')
      .addColumn('creation_time', 'bigint', (c) => c.notNull())
      .addColumn('last_update_time', 'bigint', (c) => c.notNull())
      .addColumn('next_version', 'integer', (c) => c.notNull().defaultTo(1))
      .execute();
    await db.schema
      .createTable('data_versions')
      .addColumn('dataset_pk', 'bigint', (c) => c.notNull().references('data_datasets.dataset_pk').onDelete('cascade'))
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('digest', 'text', (c) => c.notNull())
      .addColumn('mlflow_digest', 'text', (c) => c.notNull())
      .addColumn('format', 'text', (c) => c.notNull())
      .addColumn('rows', 'bigint', (c) => c.notNull())
      .addColumn('bytes', 'bigint', (c) => c.notNull())
      .addColumn('files', 'integer', (c) => c.notNull())
      .addColumn('manifest', 'text', (c) => c.notNull())
      .addColumn('source', 'text')
      .addColumn('schema', 'text', (c) => c.notNull())
      .addColumn('profile', 'text', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('user_id', 'text')
      .addColumn('creation_time', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('data_versions_pk', ['dataset_pk', 'version'])
      .execute();
    await db.schema.createIndex('data_versions_digest').on('data_versions').column('digest').execute();
    await db.schema.createIndex('data_versions_mlflow_digest').on('data_versions').column('mlflow_digest').execute();
    await db.schema
      .createTable('data_validations')
      .addColumn('validation_pk', adapter.autoIdType, autoIncrementPrimaryKey(adapter))
      .addColumn('dataset_pk', 'bigint', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('schema_ref', 'text', (c) => c.notNull())
      .addColumn('schema', 'text', (c) => c.notNull())
      .addColumn('ok', 'integer', (c) => c.notNull())
      .addColumn('errors', 'integer', (c) => c.notNull())
      .addColumn('warnings', 'integer', (c) => c.notNull())
      .addColumn('report', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text')
      .addColumn('creation_time', 'bigint', (c) => c.notNull())
      .addForeignKeyConstraint('data_validations_version', ['dataset_pk', 'version'], 'data_versions', ['dataset_pk', 'version'], (c) => c.onDelete('cascade'))
      .execute();
    await db.schema.createIndex('data_validations_version').on('data_validations').columns(['dataset_pk', 'version', 'validation_pk']).execute();
    // An index on tracking's `datasets` table (the datasets runs log as inputs), made here because it came with
    // this capability: lineage from a data version finds the runs that used it by digest.
    await db.schema.createIndex('datasets_digest').on('datasets').column('digest').execute();
  },
};

export default migration;
