import type { Kysely } from 'kysely';
import type { KilnMigration } from '../../db/migrate.js';

/** The GENESIS_HASH of chain.ts, as it was when this migration shipped. */
const GENESIS = '0'.repeat(64);

/** The audit log (see platform/audit/log.ts): its entries, hash-chained, and the head row that numbers them. Shipped: never edit. */
export const m0009AuditLog: KilnMigration = {
  name: '0009_audit_log',
  // Migrations describe history, not today's types.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('audit_log')
      // Assigned from audit_head inside the appending transaction, not auto-incremented (see log.ts).
      .addColumn('seq', 'bigint', (c) => c.primaryKey())
      .addColumn('time', 'bigint', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('actor_kind', 'text', (c) => c.notNull())
      .addColumn('auth_method', 'text', (c) => c.notNull())
      .addColumn('source', 'text')
      .addColumn('request_id', 'text')
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('resource_type', 'text')
      .addColumn('resource_id', 'text')
      .addColumn('project_id', 'bigint')
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('details', 'text', (c) => c.notNull())
      .addColumn('prev_hash', 'text', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .execute();
    // The filters of `kiln audit list` (newest first within each).
    await db.schema.createIndex('audit_log_actor').on('audit_log').columns(['actor', 'seq']).execute();
    await db.schema.createIndex('audit_log_action').on('audit_log').columns(['action', 'seq']).execute();
    await db.schema.createIndex('audit_log_resource').on('audit_log').columns(['resource_type', 'resource_id', 'seq']).execute();
    await db.schema.createIndex('audit_log_time').on('audit_log').columns(['time']).execute();
    await db.schema
      .createTable('audit_head')
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .execute();
    await db.insertInto('audit_head').values({ seq: 0, hash: GENESIS }).execute();
  },
};
