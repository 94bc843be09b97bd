import type { Kysely } from 'kysely';
import type { KilnMigration } from '../../platform/db/migrate.js';
import type { StoreAdapter } from '../../platform/db/adapter.js';
import { autoIncrementPrimaryKey } from '../../platform/db/migration-helpers.js';

/** Experiments, runs with their params, tags and metrics, and the datasets runs log as inputs; plus the Default experiment. Shipped: never edit. */
const migration: KilnMigration = {
  name: '0001_tracking',
  // Typed against an open schema on purpose: a migration describes history, not today's types.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async up(db: Kysely<any>, adapter: StoreAdapter) {
    await db.schema
      .createTable('experiments')
      .addColumn('experiment_id', adapter.autoIdType, autoIncrementPrimaryKey(adapter))
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('artifact_location', 'text', (c) => c.notNull())
      .addColumn('lifecycle_stage', 'text', (c) => c.notNull())
      .addColumn('creation_time', 'bigint', (c) => c.notNull())
      .addColumn('last_update_time', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('experiment_tags')
      .addColumn('experiment_id', 'bigint', (c) => c.notNull().references('experiments.experiment_id').onDelete('cascade'))
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('experiment_tags_pk', ['experiment_id', 'key'])
      .execute();

    await db.schema
      .createTable('runs')
      .addColumn('run_pk', adapter.autoIdType, autoIncrementPrimaryKey(adapter))
      .addColumn('run_id', 'text', (c) => c.notNull().unique())
      .addColumn('experiment_id', 'bigint', (c) => c.notNull().references('experiments.experiment_id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('start_time', 'bigint', (c) => c.notNull())
      .addColumn('end_time', 'bigint')
      .addColumn('artifact_uri', 'text', (c) => c.notNull())
      .addColumn('lifecycle_stage', 'text', (c) => c.notNull())
      .addColumn('deleted_time', 'bigint')
      .execute();
    await db.schema
      .createIndex('runs_experiment_stage_start')
      .on('runs')
      .columns(['experiment_id', 'lifecycle_stage', 'start_time'])
      .execute();

    for (const table of ['params', 'tags'] as const) {
      await db.schema
        .createTable(table)
        .addColumn('run_id', 'text', (c) => c.notNull().references('runs.run_id').onDelete('cascade'))
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint(`${table}_pk`, ['run_id', 'key'])
        .execute();
      await db.schema.createIndex(`${table}_key_value`).on(table).columns(['key', 'value']).execute();
    }

    await db.schema
      .createTable('metrics')
      // No foreign key on the two tables written per point: a key check per inserted row is the largest
      // cost of ingestion after the index itself. The batch checks its run (active, existing) in the same
      // transaction, and runs are only ever soft-deleted.
      .addColumn('run_pk', 'bigint', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('value', 'double precision', (c) => c.notNull())
      .addColumn('timestamp', 'bigint', (c) => c.notNull())
      .addColumn('step', 'bigint', (c) => c.notNull())
      .addColumn('is_nan', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    // Unique over the whole point so a retried batch stores nothing twice; it also serves history reads.
    await db.schema
      .createIndex('metrics_point')
      .on('metrics')
      .columns(['run_pk', 'key', 'step', 'timestamp', 'value', 'is_nan'])
      .unique()
      .execute();

    await db.schema
      .createTable('latest_metrics')
      .addColumn('run_id', 'text', (c) => c.notNull().references('runs.run_id').onDelete('cascade'))
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('value', 'double precision')
      .addColumn('timestamp', 'bigint', (c) => c.notNull())
      .addColumn('step', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('latest_metrics_pk', ['run_id', 'key'])
      .execute();
    await db.schema.createIndex('latest_metrics_key_value').on('latest_metrics').columns(['key', 'value']).execute();

    await db.schema
      .createTable('metric_buckets')
      .addColumn('run_pk', 'bigint', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('width', 'integer', (c) => c.notNull())
      .addColumn('bucket', 'bigint', (c) => c.notNull())
      .addColumn('count', 'bigint', (c) => c.notNull())
      .addColumn('first_step', 'bigint', (c) => c.notNull())
      .addColumn('last_step', 'bigint', (c) => c.notNull())
      .addColumn('min_value', 'double precision')
      .addColumn('min_step', 'bigint', (c) => c.notNull())
      .addColumn('min_timestamp', 'bigint', (c) => c.notNull())
      .addColumn('max_value', 'double precision')
      .addColumn('max_step', 'bigint', (c) => c.notNull())
      .addColumn('max_timestamp', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('metric_buckets_pk', ['run_pk', 'key', 'width', 'bucket'])
      .execute();

    await db.schema
      .createTable('datasets')
      .addColumn('dataset_id', 'text', (c) => c.primaryKey())
      .addColumn('experiment_id', 'bigint', (c) => c.notNull().references('experiments.experiment_id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('digest', 'text', (c) => c.notNull())
      .addColumn('source_type', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('schema', 'text')
      .addColumn('profile', 'text')
      .addColumn('created_time', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('datasets_identity', ['experiment_id', 'name', 'digest'])
      .execute();

    await db.schema
      .createTable('run_inputs')
      .addColumn('input_id', 'text', (c) => c.primaryKey())
      .addColumn('run_id', 'text', (c) => c.notNull().references('runs.run_id').onDelete('cascade'))
      .addColumn('dataset_id', 'text', (c) => c.notNull().references('datasets.dataset_id'))
      .addUniqueConstraint('run_inputs_identity', ['run_id', 'dataset_id'])
      .execute();
    await db.schema.createIndex('run_inputs_dataset').on('run_inputs').column('dataset_id').execute();

    await db.schema
      .createTable('input_tags')
      .addColumn('input_id', 'text', (c) => c.notNull().references('run_inputs.input_id').onDelete('cascade'))
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('input_tags_pk', ['input_id', 'key'])
      .execute();

    const now = Date.now();
    await db
      .insertInto('experiments')
      .values({
        experiment_id: 0,
        name: 'Default',
        artifact_location: 'mlflow-artifacts:/0',
        lifecycle_stage: 'active',
        creation_time: now,
        last_update_time: now,
      })
      .execute();
  },
};

export default migration;
