import type { Kysely } from 'kysely';
import type { KilnMigration } from '../../platform/db/migrate.js';

/** Logged models (MLflow 3) with their tags and params, and which runs output them. Shipped: never edit. */
const migration: KilnMigration = {
  name: '0002_logged_models',
  // Typed against an open schema on purpose: a migration describes history, not today's types.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('logged_models')
      .addColumn('model_id', 'text', (c) => c.primaryKey())
      .addColumn('experiment_id', 'bigint', (c) => c.notNull().references('experiments.experiment_id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('model_type', 'text')
      .addColumn('source_run_id', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('status_message', 'text')
      .addColumn('artifact_location', 'text', (c) => c.notNull())
      .addColumn('creation_time', 'bigint', (c) => c.notNull())
      .addColumn('last_update_time', 'bigint', (c) => c.notNull())
      .addColumn('lifecycle_stage', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('logged_models_experiment').on('logged_models').columns(['experiment_id', 'creation_time']).execute();
    await db.schema.createIndex('logged_models_source_run').on('logged_models').column('source_run_id').execute();
    for (const table of ['logged_model_tags', 'logged_model_params']) {
      await db.schema
        .createTable(table)
        .addColumn('model_id', 'text', (c) => c.notNull().references('logged_models.model_id').onDelete('cascade'))
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint(`${table}_pk`, ['model_id', 'key'])
        .execute();
      await db.schema.createIndex(`${table}_key_value`).on(table).columns(['key', 'value']).execute();
    }
    await db.schema
      .createTable('run_model_outputs')
      .addColumn('run_id', 'text', (c) => c.notNull().references('runs.run_id').onDelete('cascade'))
      .addColumn('model_id', 'text', (c) => c.notNull().references('logged_models.model_id').onDelete('cascade'))
      .addColumn('step', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('run_model_outputs_pk', ['run_id', 'model_id'])
      .execute();
  },
};

export default migration;
