import type { Kysely } from 'kysely';
import type { KilnMigration } from '../../platform/db/migrate.js';

/** Metrics of logged models, and which runs take a logged model as input. Shipped: never edit. */
const migration: KilnMigration = {
  name: '0003_logged_model_metrics_and_inputs',
  // Typed against an open schema on purpose: a migration describes history, not today's types.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('logged_model_metrics')
      .addColumn('model_id', 'text', (c) => c.notNull().references('logged_models.model_id').onDelete('cascade'))
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('value', 'double precision', (c) => c.notNull())
      .addColumn('is_nan', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('timestamp', 'bigint', (c) => c.notNull())
      .addColumn('step', 'bigint', (c) => c.notNull())
      .addColumn('run_id', 'text', (c) => c.notNull())
      .addColumn('dataset_name', 'text')
      .addColumn('dataset_digest', 'text')
      .execute();
    await db.schema.createIndex('logged_model_metrics_model_key').on('logged_model_metrics').columns(['model_id', 'key', 'step', 'timestamp']).execute();
    await db.schema
      .createTable('run_model_inputs')
      .addColumn('run_id', 'text', (c) => c.notNull().references('runs.run_id').onDelete('cascade'))
      .addColumn('model_id', 'text', (c) => c.notNull().references('logged_models.model_id').onDelete('cascade'))
      .addPrimaryKeyConstraint('run_model_inputs_pk', ['run_id', 'model_id'])
      .execute();
  },
};

export default migration;
