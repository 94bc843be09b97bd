import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type Dialect as KyselyDialect,
} from 'kysely';
import type { KilnMigration } from '../../src/platform/db/index.js';
import { orderedMigrations } from '../../src/platform/db/migrate.js';
import { sqliteAdapter } from '../../src/platform/db/sqlite/connect.js';
import { postgresAdapter } from '../../src/platform/db/postgres/connect.js';
import { DB_FIXTURES, type Dialect } from './schema.js';

/**
 * The lock pins what every shipped migration does: for each migration name, the SHA-256 of the SQL text it
 * emits on each engine. Hashing the emitted SQL rather than the source lets comments and formatting change
 * while any change to what a database would receive is caught. Parameter values are left out: 0001 inserts
 * the current time.
 */
export const LOCK_PATH = join(DB_FIXTURES, 'migrations.lock.json');

export type LockEntry = Readonly<Record<Dialect, string>>;
export type MigrationLock = Readonly<Record<string, LockEntry>>;

const DIALECTS: Record<Dialect, () => KyselyDialect> = {
  sqlite: () => ({
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  }),
  postgres: () => ({
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  }),
};

/** The SQL statements a migration sends, compiled for one engine without a database. */
export async function emittedSql(migration: KilnMigration, dialect: Dialect): Promise<string[]> {
  const statements: string[] = [];
  const db = new Kysely<Record<string, never>>({ dialect: DIALECTS[dialect](), log: (e) => void statements.push(e.query.sql) });
  try {
    await migration.up(db, dialect === 'sqlite' ? sqliteAdapter : postgresAdapter);
  } finally {
    await db.destroy();
  }
  return statements;
}

export async function lockEntry(migration: KilnMigration): Promise<LockEntry> {
  const digest = (statements: string[]) => 'sha256:' + createHash('sha256').update(statements.join(';\n')).digest('hex');
  return { sqlite: digest(await emittedSql(migration, 'sqlite')), postgres: digest(await emittedSql(migration, 'postgres')) };
}

export function readLock(): MigrationLock {
  return existsSync(LOCK_PATH) ? (JSON.parse(readFileSync(LOCK_PATH, 'utf8')) as MigrationLock) : {};
}

export function writeLock(lock: MigrationLock): void {
  const sorted = Object.fromEntries(Object.keys(lock).sort().map((k) => [k, lock[k]]));
  writeFileSync(LOCK_PATH, JSON.stringify(sorted, null, 2) + '\n');
}

export interface LockCheck {
  /** Locked migrations whose emitted SQL is no longer what shipped. */
  readonly changed: { name: string; dialects: Dialect[] }[];
  /** Migrations without a lock entry yet, with the entry they would get. */
  readonly unlocked: { name: string; entry: LockEntry }[];
  /** Lock entries whose migration is gone (removed or renamed). */
  readonly missing: string[];
}

export async function checkLock(migrations: readonly KilnMigration[], lock: MigrationLock = readLock()): Promise<LockCheck> {
  const changed: LockCheck['changed'] = [];
  const unlocked: LockCheck['unlocked'] = [];
  for (const m of orderedMigrations(migrations)) {
    const entry = await lockEntry(m);
    const locked = lock[m.name];
    if (!locked) {
      unlocked.push({ name: m.name, entry });
      continue;
    }
    const dialects = (Object.keys(entry) as Dialect[]).filter((d) => entry[d] !== locked[d]);
    if (dialects.length > 0) changed.push({ name: m.name, dialects });
  }
  const names = new Set(migrations.map((m) => m.name));
  const missing = Object.keys(lock).filter((n) => !names.has(n));
  return { changed, unlocked, missing };
}
