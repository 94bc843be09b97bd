import { Migrator, type ColumnDefinitionBuilder, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { StoreAdapter } from './adapter.js';
import type { MetadataStore } from './types.js';
import { KilnError } from '../errors.js';
import { m0007EventLog } from '../events/migrations/0007_event_log.js';

// Migrations are typed against an open schema on purpose: they describe history, not today's types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

function initialSchema(adapter: StoreAdapter): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('experiments')
        .addColumn('experiment_id', adapter.autoIdType, (c) => {
          const pk = c.primaryKey();
          return adapter.autoIdNeedsAutoIncrement ? pk.autoIncrement() : pk;
        })
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
        .addColumn('run_pk', adapter.autoIdType, (c) => {
          const pk = c.primaryKey();
          return adapter.autoIdNeedsAutoIncrement ? pk.autoIncrement() : pk;
        })
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
}

function loggedModels(): Migration {
  return {
    async up(db: AnyDb) {
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
}

function loggedModelMetricsAndInputs(): Migration {
  return {
    async up(db: AnyDb) {
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
}

function registry(adapter: StoreAdapter): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('registered_models')
        .addColumn('model_pk', adapter.autoIdType, (c) => {
          const pk = c.primaryKey();
          return adapter.autoIdNeedsAutoIncrement ? pk.autoIncrement() : pk;
        })
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
        .addColumn('event_pk', adapter.autoIdType, (c) => {
          const pk = c.primaryKey();
          return adapter.autoIdNeedsAutoIncrement ? pk.autoIncrement() : pk;
        })
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
}

const autoPk = (adapter: StoreAdapter) => (c: ColumnDefinitionBuilder) => {
  const pk = c.primaryKey();
  return adapter.autoIdNeedsAutoIncrement ? pk.autoIncrement() : pk;
};

/** Versioned datasets (content-addressed), their validation reports; and the digest index lineage needs on run inputs. */
function data(adapter: StoreAdapter): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('data_datasets')
        .addColumn('dataset_pk', adapter.autoIdType, autoPk(adapter))
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
        .addColumn('validation_pk', adapter.autoIdType, autoPk(adapter))
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
      // Lineage: which runs used a dataset with this digest.
      await db.schema.createIndex('datasets_digest').on('datasets').column('digest').execute();
    },
  };
}

/** Promotion policies and requests (approvals) of the registry, and webhooks with their delivery log. */
function promotionsAndWebhooks(adapter: StoreAdapter): Migration {
  return {
    async up(db: AnyDb) {
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
        .addColumn('request_pk', adapter.autoIdType, autoPk(adapter))
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
        .addColumn('delivery_pk', adapter.autoIdType, autoPk(adapter))
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
}

/** Every migration, in order. Names sort lexically; never rename or edit one that has shipped. */
export function migrations(adapter: StoreAdapter): Record<string, Migration> {
  return {
    '0001_tracking': initialSchema(adapter),
    '0002_logged_models': loggedModels(),
    '0003_logged_model_metrics_and_inputs': loggedModelMetricsAndInputs(),
    '0004_registry': registry(adapter),
    '0005_data': data(adapter),
    '0006_promotions_and_webhooks': promotionsAndWebhooks(adapter),
    '0007_event_log': { up: (db: AnyDb) => m0007EventLog.up(db) },
  };
}

class InCodeProvider implements MigrationProvider {
  constructor(private readonly all: Record<string, Migration>) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return this.all;
  }
}

export interface MigrationReport {
  readonly applied: string[];
  readonly current: string[];
}

/**
 * Brings the schema to the latest version. Safe to run from several processes at once:
 * Kysely's migrator takes a lock (a PostgreSQL advisory lock; SQLite's single writer) around the whole run.
 */
export async function migrateToLatest(store: MetadataStore): Promise<MigrationReport> {
  // Processes starting together can collide (SQLite has no lock around the migrator's read of applied
  // migrations, so a loser may try to create what the winner just created). Each attempt runs in one
  // transaction, so a failed attempt leaves nothing behind; the retry then finds the work done.
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrateOnce(store);
    } catch (e) {
      if (attempt >= 5) throw e;
      await new Promise((r) => setTimeout(r, 100 * attempt + Math.random() * 100));
    }
  }
}

async function migrateOnce(store: MetadataStore): Promise<MigrationReport> {
  const migrator = new Migrator({
    db: store.db,
    provider: new InCodeProvider(migrations(store.adapter)),
    migrationTableName: 'kiln_migrations',
    migrationLockTableName: 'kiln_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    const ke = new KilnError(
      'INTERNAL_ERROR',
      `Database migration ${failed?.migrationName ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`,
    );
    Object.defineProperty(ke, 'cause', { value: error });
    throw ke;
  }
  const current = (await migrator.getMigrations()).filter((m) => m.executedAt).map((m) => m.name);
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName), current };
}

