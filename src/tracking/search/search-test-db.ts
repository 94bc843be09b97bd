/**
 * Test support for the search compilers: an empty database with the store's schema, on SQLite (in
 * memory) or PostgreSQL (a fresh database, dropped afterwards). Not used outside tests.
 */
import { randomBytes } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { TrackingTables } from '../tables.js';
import type { StoreAdapter } from '../../platform/db/adapter.js';
import type { MetadataStore } from '../../platform/db/types.js';
import { migrateToLatest } from '../../platform/db/migrate.js';
import { MIGRATIONS } from '../../migrations.js';
import { sqliteAdapter } from '../../platform/db/sqlite/connect.js';
import { postgresAdapter } from '../../platform/db/postgres/connect.js';

export type Backend = 'sqlite' | 'postgres';

/** Backends to run against: KILN_TEST_BACKENDS, default "sqlite,postgres". */
export const TEST_BACKENDS: Backend[] = (process.env.KILN_TEST_BACKENDS ?? 'sqlite,postgres')
  .split(',')
  .map((s) => s.trim())
  .filter((s): s is Backend => s === 'sqlite' || s === 'postgres');

const PG_ADMIN_URI = process.env.KILN_TEST_PG_URI ?? 'postgresql://postgres@127.0.0.1:5432/test';

export interface TestDb {
  readonly db: Kysely<TrackingTables>;
  close(): Promise<void>;
}

/** The real schema, through the store's own migrations, then emptied of the Default experiment. */
async function createTables(db: Kysely<TrackingTables>, adapter: StoreAdapter): Promise<void> {
  await migrateToLatest({ db, adapter } as MetadataStore, MIGRATIONS);
  await db.deleteFrom('experiments').execute();
}

/** Experiments that run fixtures point at (PostgreSQL enforces the runs → experiments key). */
export async function addExperiments(db: Kysely<TrackingTables>, ids: readonly number[]): Promise<void> {
  await db
    .insertInto('experiments')
    .values(ids.map((experiment_id) => ({ experiment_id, name: `e${experiment_id}`, artifact_location: `a/${experiment_id}`, lifecycle_stage: 'active', creation_time: 0, last_update_time: 0 })))
    .execute();
}

/** An empty database of the given kind with the store's schema. */
export async function openTestDb(backend: Backend): Promise<TestDb> {
  if (backend === 'sqlite') {
    const conn = new BetterSqlite3(':memory:');
    conn.pragma('case_sensitive_like = ON'); // as the store's connections do
    const db = new Kysely<TrackingTables>({ dialect: new SqliteDialect({ database: conn }) });
    await createTables(db, sqliteAdapter);
    return { db, close: () => db.destroy() };
  }
  pg.types.setTypeParser(20, Number); // bigint columns as numbers, as the store does
  const name = `kiln_search_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URI });
  await admin.connect();
  try {
    // C collation: text sorts by code point, as on SQLite, whatever the cluster's default locale.
    await admin.query(`CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`);
  } finally {
    await admin.end();
  }
  const uri = new URL(PG_ADMIN_URI);
  uri.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: uri.toString(), max: 4 });
  // pool.end() resolves before every socket has closed; the forced drop below may then end a closing
  // connection, which must not surface as an uncaught error (from the client or, through its idle listener, the pool).
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<TrackingTables>({ dialect: new PostgresDialect({ pool }) });
  const drop = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: PG_ADMIN_URI });
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await c.end();
    }
  };
  try {
    await createTables(db, postgresAdapter);
  } catch (e) {
    await db.destroy();
    await drop();
    throw e;
  }
  return {
    db,
    async close() {
      await db.destroy();
      await drop();
    },
  };
}

