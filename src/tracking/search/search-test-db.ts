/**
 * Test support for the search compilers: an empty database with the tables search reads, on SQLite (in
 * memory) or PostgreSQL (a fresh database, dropped afterwards). Not used outside tests.
 */
import { randomBytes } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { Database } from '../../platform/db/schema.js';

export type Backend = 'sqlite' | 'postgres';

/** Backends to run against: KILN_TEST_BACKENDS, default "sqlite,postgres". */
export const TEST_BACKENDS: Backend[] = (process.env.KILN_TEST_BACKENDS ?? 'sqlite,postgres')
  .split(',')
  .map((s) => s.trim())
  .filter((s): s is Backend => s === 'sqlite' || s === 'postgres');

const PG_ADMIN_URI = process.env.KILN_TEST_PG_URI ?? 'postgresql://postgres@127.0.0.1:5432/test';

export interface TestDb {
  readonly db: Kysely<Database>;
  close(): Promise<void>;
}

async function createTables(db: Kysely<Database>): Promise<void> {
  const s = db.schema;
  await s
    .createTable('experiments')
    .addColumn('experiment_id', 'bigint', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('artifact_location', 'text', (c) => c.notNull())
    .addColumn('lifecycle_stage', 'text', (c) => c.notNull())
    .addColumn('creation_time', 'bigint', (c) => c.notNull())
    .addColumn('last_update_time', 'bigint', (c) => c.notNull())
    .execute();
  await s
    .createTable('experiment_tags')
    .addColumn('experiment_id', 'bigint', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('experiment_tags_pk', ['experiment_id', 'key'])
    .execute();
  await s
    .createTable('runs')
    .addColumn('run_pk', 'bigint', (c) => c.primaryKey())
    .addColumn('run_id', 'text', (c) => c.notNull().unique())
    .addColumn('experiment_id', 'bigint', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('start_time', 'bigint', (c) => c.notNull())
    .addColumn('end_time', 'bigint')
    .addColumn('artifact_uri', 'text', (c) => c.notNull())
    .addColumn('lifecycle_stage', 'text', (c) => c.notNull())
    .addColumn('deleted_time', 'bigint')
    .execute();
  for (const table of ['params', 'tags'] as const) {
    await s
      .createTable(table)
      .addColumn('run_id', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint(`${table}_pk`, ['run_id', 'key'])
      .execute();
    await s.createIndex(`${table}_key_value`).on(table).columns(['key', 'value']).execute();
  }
  await s
    .createTable('latest_metrics')
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('value', 'double precision')
    .addColumn('timestamp', 'bigint', (c) => c.notNull())
    .addColumn('step', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('latest_metrics_pk', ['run_id', 'key'])
    .execute();
  await s.createIndex('latest_metrics_key_value').on('latest_metrics').columns(['key', 'value']).execute();
  await s
    .createTable('datasets')
    .addColumn('dataset_id', 'text', (c) => c.primaryKey())
    .addColumn('experiment_id', 'bigint', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('digest', 'text', (c) => c.notNull())
    .addColumn('source_type', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('schema', 'text')
    .addColumn('profile', 'text')
    .addColumn('created_time', 'bigint', (c) => c.notNull())
    .execute();
  await s
    .createTable('run_inputs')
    .addColumn('input_id', 'text', (c) => c.primaryKey())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('dataset_id', 'text', (c) => c.notNull())
    .execute();
  await s
    .createTable('input_tags')
    .addColumn('input_id', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('input_tags_pk', ['input_id', 'key'])
    .execute();
}

/** An empty database of the given kind with the search tables. */
export async function openTestDb(backend: Backend): Promise<TestDb> {
  if (backend === 'sqlite') {
    const conn = new BetterSqlite3(':memory:');
    conn.pragma('case_sensitive_like = ON'); // as the store's connections do
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: conn }) });
    await createTables(db);
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
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
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
    await createTables(db);
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

