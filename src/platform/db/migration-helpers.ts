import type { ColumnDefinitionBuilder } from 'kysely';
import type { StoreAdapter } from './adapter.js';

/**
 * The column callback of an auto-incrementing 64-bit primary key (`adapter.autoIdType`): SQLite needs
 * AUTOINCREMENT so ids are never reused after a delete; PostgreSQL's bigserial already counts on.
 *
 * Shipped migrations call this, and their emitted SQL is pinned (test/fixtures/db/migrations.lock.json):
 * changing what it emits breaks that pin on purpose. Add a new helper instead.
 */
export function autoIncrementPrimaryKey(adapter: StoreAdapter): (c: ColumnDefinitionBuilder) => ColumnDefinitionBuilder {
  return (c) => {
    const pk = c.primaryKey();
    return adapter.autoIdNeedsAutoIncrement ? pk.autoIncrement() : pk;
  };
}
