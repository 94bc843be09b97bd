import type { Kysely } from 'kysely';
import type { KilnMigration } from '../../db/migrate.js';

/** The event log (see platform/events/log.ts): the events, the sequence that numbers them, and consumers' positions. */
export const m0007EventLog: KilnMigration = {
  name: '0007_event_log',
  // Migrations describe history, not today's types.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('events')
      // Assigned from event_sequence inside the appending transaction, not auto-incremented (see log.ts).
      .addColumn('event_pk', 'bigint', (c) => c.primaryKey())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('subject', 'text')
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('time', 'bigint', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('event_sequence')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('value', 'bigint', (c) => c.notNull())
      .execute();
    await db.insertInto('event_sequence').values({ name: 'events', value: 0 }).execute();
    await db.schema
      .createTable('event_consumers')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('position', 'bigint', (c) => c.notNull())
      .addColumn('owner', 'text')
      .addColumn('lease_until', 'bigint', (c) => c.notNull())
      .addColumn('updated_time', 'bigint', (c) => c.notNull())
      .execute();
  },
};
