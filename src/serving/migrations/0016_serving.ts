import type { Kysely } from 'kysely';
import type { KilnMigration } from '../../platform/db/migrate.js';
import type { StoreAdapter } from '../../platform/db/adapter.js';
import { autoIncrementPrimaryKey } from '../../platform/db/migration-helpers.js';

/**
 * Deployments (a named configuration of what serves a model), every revision of their configuration (who, when,
 * why, the versions it resolved to), and the payload log of requests and responses. Shipped: never edit.
 */
const migration: KilnMigration = {
  name: '0016_serving',
  // Typed against an open schema on purpose: a migration describes history, not today's types.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async up(db: Kysely<any>, adapter: StoreAdapter) {
    await db.schema
      .createTable('serving_deployments')
      .addColumn('deployment_pk', adapter.autoIdType, autoIncrementPrimaryKey(adapter))
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('project_id', 'bigint', (c) => c.notNull())
      .addColumn('description', 'text')
      // The revision in force (its row in serving_revisions holds the configuration and the versions it resolved to).
      .addColumn('revision', 'integer', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('creation_time', 'bigint', (c) => c.notNull())
      .addColumn('last_update_time', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('serving_deployments_project').on('serving_deployments').columns(['project_id', 'name']).execute();
    await db.schema
      .createTable('serving_revisions')
      .addColumn('deployment_pk', 'bigint', (c) => c.notNull().references('serving_deployments.deployment_pk').onDelete('cascade'))
      .addColumn('revision', 'integer', (c) => c.notNull())
      // created | updated | rolled_back | alias_moved | guard_tripped
      .addColumn('kind', 'text', (c) => c.notNull())
      // JSON: the configuration as the user gave it (targets by model URI, shadow, batching, ...).
      .addColumn('config', 'text', (c) => c.notNull())
      // JSON: each target's and the shadow's model URI resolved to a registered model version.
      .addColumn('resolved', 'text', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('reason', 'text')
      .addColumn('time', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('serving_revisions_pk', ['deployment_pk', 'revision'])
      .execute();
    await db.schema
      .createTable('serving_payloads')
      .addColumn('payload_pk', adapter.autoIdType, autoIncrementPrimaryKey(adapter))
      .addColumn('deployment_pk', 'bigint', (c) => c.notNull())
      .addColumn('request_id', 'text', (c) => c.notNull())
      .addColumn('time', 'bigint', (c) => c.notNull())
      .addColumn('model', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      // oip-rest | oip-grpc | mlflow
      .addColumn('protocol', 'text', (c) => c.notNull())
      .addColumn('status', 'integer', (c) => c.notNull())
      .addColumn('latency_ms', 'double precision', (c) => c.notNull())
      // JSON: the decoded inputs, and the outputs (or the error), as OIP tensors.
      .addColumn('request', 'text', (c) => c.notNull())
      .addColumn('response', 'text')
      .addColumn('error', 'text')
      .addColumn('shadow_version', 'integer')
      .addColumn('shadow_response', 'text')
      .addColumn('shadow_agrees', 'integer')
      .execute();
    await db.schema.createIndex('serving_payloads_time').on('serving_payloads').columns(['deployment_pk', 'time']).execute();
    await db.schema.createIndex('serving_payloads_request').on('serving_payloads').columns(['deployment_pk', 'request_id']).execute();
  },
};

export default migration;
