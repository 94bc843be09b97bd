import type { Kysely } from 'kysely';
import type { KilnMigration } from '../../platform/db/migrate.js';
import type { StoreAdapter } from '../../platform/db/adapter.js';
import { autoIncrementPrimaryKey } from '../../platform/db/migration-helpers.js';

/**
 * Monitors (schema, reference profile, window, rules), the counts of their windows (appended per flush, merged when
 * read: several replicas add up), the predictions kept for joining delayed labels, and the alert history.
 * Shipped: never edit.
 */
const migration: KilnMigration = {
  name: '0017_monitoring',
  // Typed against an open schema on purpose: a migration describes history, not today's types.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async up(db: Kysely<any>, adapter: StoreAdapter) {
    await db.schema
      .createTable('monitoring_monitors')
      .addColumn('monitor_pk', adapter.autoIdType, autoIncrementPrimaryKey(adapter))
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('project_id', 'bigint', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('deployment', 'text')
      .addColumn('model', 'text')
      // JSON: features, predictions, label, task, score, window, time column, bins, top-k, drift share, rules.
      .addColumn('spec', 'text', (c) => c.notNull())
      // JSON: the reference profile (bins and counts per column), computed once at creation.
      .addColumn('reference', 'text', (c) => c.notNull())
      .addColumn('reference_source', 'text', (c) => c.notNull())
      // Row-count windows: the open window's number and the rows it holds.
      .addColumn('open_window', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('open_rows', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('last_record_time', 'bigint')
      .addColumn('created_by', 'text')
      .addColumn('creation_time', 'bigint', (c) => c.notNull())
      .addColumn('last_update_time', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('monitoring_monitors_project').on('monitoring_monitors').columns(['project_id', 'name']).execute();
    await db.schema.createIndex('monitoring_monitors_deployment').on('monitoring_monitors').columns(['deployment']).execute();
    await db.schema
      .createTable('monitoring_window_parts')
      .addColumn('part_pk', adapter.autoIdType, autoIncrementPrimaryKey(adapter))
      .addColumn('monitor_pk', 'bigint', (c) => c.notNull().references('monitoring_monitors.monitor_pk').onDelete('cascade'))
      // Epoch ms of the window's start (time windows) or the window's number (row-count windows).
      .addColumn('window_start', 'bigint', (c) => c.notNull())
      .addColumn('rows', 'bigint', (c) => c.notNull())
      // JSON: counts per column (bins, missing, invalid, sums of the outer bins).
      .addColumn('counts', 'text', (c) => c.notNull())
      .addColumn('time', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('monitoring_window_parts_window').on('monitoring_window_parts').columns(['monitor_pk', 'window_start']).execute();
    await db.schema
      .createTable('monitoring_predictions')
      .addColumn('monitor_pk', 'bigint', (c) => c.notNull().references('monitoring_monitors.monitor_pk').onDelete('cascade'))
      .addColumn('request_id', 'text', (c) => c.notNull())
      .addColumn('window_start', 'bigint', (c) => c.notNull())
      .addColumn('prediction', 'text')
      .addColumn('score', 'double precision')
      .addColumn('label', 'text')
      .addColumn('label_time', 'bigint')
      .addPrimaryKeyConstraint('monitoring_predictions_pk', ['monitor_pk', 'request_id'])
      .execute();
    await db.schema.createIndex('monitoring_predictions_window').on('monitoring_predictions').columns(['monitor_pk', 'window_start']).execute();
    await db.schema
      .createTable('monitoring_alerts')
      .addColumn('alert_pk', adapter.autoIdType, autoIncrementPrimaryKey(adapter))
      .addColumn('monitor_pk', 'bigint', (c) => c.notNull().references('monitoring_monitors.monitor_pk').onDelete('cascade'))
      .addColumn('rule', 'text', (c) => c.notNull())
      // FIRING | RESOLVED
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('value', 'double precision')
      .addColumn('window_start', 'bigint')
      .addColumn('fired_at', 'bigint', (c) => c.notNull())
      .addColumn('resolved_at', 'bigint')
      .execute();
    await db.schema.createIndex('monitoring_alerts_monitor').on('monitoring_alerts').columns(['monitor_pk', 'rule', 'state']).execute();
  },
};

export default migration;
