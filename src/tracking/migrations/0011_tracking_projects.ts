import type { Kysely } from 'kysely';
import type { KilnMigration } from '../../platform/db/migrate.js';

/**
 * Every experiment belongs to a project (the default one, id 0, for those that existed before); its runs carry the
 * same project id, so a run search filters on it without a join, in the index it orders by. Shipped: never edit.
 */
const migration: KilnMigration = {
  name: '0011_tracking_projects',
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async up(db: Kysely<any>) {
    await db.schema.alterTable('experiments').addColumn('project_id', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.createIndex('experiments_project').on('experiments').columns(['project_id', 'creation_time']).execute();
    await db.schema.alterTable('runs').addColumn('project_id', 'bigint', (c) => c.notNull().defaultTo(0)).execute();
    await db.schema.createIndex('runs_project_stage_start').on('runs').columns(['project_id', 'lifecycle_stage', 'start_time']).execute();
  },
};

export default migration;
