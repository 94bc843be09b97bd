import type { Kysely } from 'kysely';
import type { KilnMigration } from '../../platform/db/migrate.js';

/** Every dataset belongs to a project (the default one, id 0, for those that existed before). Shipped: never edit. */
const migration: KilnMigration = {
  name: '0013_data_projects',
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async up(db: Kysely<any>) {
    await db.schema.alterTable('data_datasets').addColumn('project_id', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.createIndex('data_datasets_project').on('data_datasets').columns(['project_id', 'name']).execute();
  },
};

export default migration;
