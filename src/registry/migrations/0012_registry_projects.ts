import type { Kysely } from 'kysely';
import type { KilnMigration } from '../../platform/db/migrate.js';

/** Every registered model belongs to a project (the default one, id 0, for those that existed before); its versions with it. Shipped: never edit. */
const migration: KilnMigration = {
  name: '0012_registry_projects',
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async up(db: Kysely<any>) {
    await db.schema.alterTable('registered_models').addColumn('project_id', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.createIndex('registered_models_project').on('registered_models').columns(['project_id', 'name']).execute();
  },
};

export default migration;
