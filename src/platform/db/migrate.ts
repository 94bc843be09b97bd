import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { StoreAdapter } from './adapter.js';
import type { MetadataStore } from './types.js';
import { KilnError } from '../errors.js';

/**
 * One schema change. Its name is recorded in `kiln_migrations` of every database it ran on, so a shipped
 * migration is never renamed, edited or removed: a change to the schema is always a new migration.
 */
export interface KilnMigration {
  /** `NNNN_snake_case`: four digits give the order. */
  readonly name: string;
  // Migrations are typed against an open schema on purpose: they describe history, not today's types.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  up(db: Kysely<any>, adapter: StoreAdapter): Promise<void>;
}

export interface MigrationReport {
  /** Migrations this call applied, in order. */
  readonly applied: string[];
  /** Every migration the database has applied, in order. */
  readonly current: string[];
}

const NAME = /^\d{4}_[a-z0-9_]+$/;

/** The migrations sorted by name, after checking that names are well formed and unique. */
export function orderedMigrations(migrations: readonly KilnMigration[]): KilnMigration[] {
  const byNumber = new Map<string, string>();
  for (const m of migrations) {
    if (!NAME.test(m.name)) {
      throw new KilnError('INTERNAL_ERROR', `Migration name '${m.name}' does not match NNNN_snake_case (${NAME.source})`);
    }
    const number = m.name.slice(0, 4);
    const other = byNumber.get(number);
    if (other === m.name) throw new KilnError('INTERNAL_ERROR', `Migration '${m.name}' is listed twice`);
    // Capabilities add migrations in parallel: two taking the same number would merge cleanly, then run in
    // an order that depends on the rest of their names, and differently on databases that have one already.
    if (other !== undefined) throw new KilnError('INTERNAL_ERROR', `Migrations '${other}' and '${m.name}' have the same number: renumber the one not shipped yet`);
    byNumber.set(number, m.name);
  }
  // Kysely orders by name too; sorting here makes the order explicit and independent of how lists were joined.
  return [...migrations].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

class ListProvider implements MigrationProvider {
  constructor(
    private readonly migrations: readonly KilnMigration[],
    private readonly adapter: StoreAdapter,
  ) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    const all: Record<string, Migration> = {};
    for (const m of this.migrations) all[m.name] = { up: (db) => m.up(db, this.adapter) };
    return all;
  }
}

/**
 * Brings the schema to the latest version. Safe to run from several processes at once:
 * Kysely's migrator takes a lock (a PostgreSQL advisory lock; SQLite's single writer) around the whole run.
 */
export async function migrateToLatest(store: MetadataStore, migrations: readonly KilnMigration[]): Promise<MigrationReport> {
  // A malformed list is a programming error: fail at once rather than after the retries below.
  const ordered = orderedMigrations(migrations);
  // Processes starting together can collide (SQLite has no lock around the migrator's read of applied
  // migrations, so a loser may try to create what the winner just created); the retry then finds the work
  // done. On PostgreSQL each attempt is one transaction, so a failed attempt leaves nothing behind. On
  // SQLite Kysely runs migrations outside a transaction: a migration that fails halfway keeps its first
  // statements, and the last attempt reports what the retries then tripped over ("already exists").
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrateOnce(store, ordered);
    } catch (e) {
      if (attempt >= 5) throw e;
      await new Promise((r) => setTimeout(r, 100 * attempt + Math.random() * 100));
    }
  }
}

async function migrateOnce(store: MetadataStore, migrations: readonly KilnMigration[]): Promise<MigrationReport> {
  const migrator = new Migrator({
    db: store.db,
    provider: new ListProvider(migrations, store.adapter),
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
