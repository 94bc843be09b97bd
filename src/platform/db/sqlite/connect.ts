import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Kysely } from 'kysely';
import { baseAdapter, type StoreAdapter } from '../adapter.js';
import { kyselyLog, type MetadataStore, type QueryObserver } from '../types.js';
import { ImmediateSqliteDialect, retryBusy, type BusyPolicy } from './driver.js';
import { isSqliteBusy } from '../transient.js';
import { SqliteReadWorker } from './reader.js';
import { toColumns } from '../columns.js';

export const sqliteAdapter: StoreAdapter = {
  ...baseAdapter,
  engine: 'sqlite',
  autoIdType: 'integer',
  autoIdNeedsAutoIncrement: true,
  maxBindParameters: 32_000,
  placeholder: () => '?',
  jsonArraySql: (columns) => `json_array(${columns.map((c) => c.expr).join(', ')})`,
  isUniqueViolation: (e) => errCode(e) === 'SQLITE_CONSTRAINT_UNIQUE' || errCode(e) === 'SQLITE_CONSTRAINT_PRIMARYKEY',
  isTransient: isSqliteBusy,
};

type Connection = import('better-sqlite3').Database;

/**
 * Kysely prepares every statement anew; preparing a 1000-row insert costs more than running it. Keep the
 * most recently used statements (by SQL text) prepared. Statements run synchronously, one at a time.
 */
function withStatementCache(conn: Connection, size = 256): { prepare: Connection['prepare']; close: () => void } {
  const cache = new Map<string, ReturnType<Connection['prepare']>>();
  return {
    prepare(sqlText: string) {
      let stmt = cache.get(sqlText);
      if (stmt) {
        cache.delete(sqlText);
      } else {
        stmt = conn.prepare(sqlText);
        if (cache.size >= size) cache.delete(cache.keys().next().value as string);
      }
      cache.set(sqlText, stmt);
      return stmt;
    },
    close() {
      cache.clear();
      conn.close();
    },
  } as { prepare: Connection['prepare']; close: () => void };
}

/** A failure the read worker reported, as the driver's own error: SQLITE_BUSY stays retryable, the rest keeps its code. */
function rebuildSqliteError(SqliteError: new (message: string, code: string) => Error, e: { name: string; message: string; code?: string }): Error {
  const err = e.code !== undefined ? new SqliteError(e.message, e.code) : new Error(e.message);
  if (e.code === undefined) err.name = e.name;
  return err;
}

function errCode(e: unknown): unknown {
  return typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
}

/** How long a process waits for another one's write lock before answering 503 (KILN_DB_BUSY_TIMEOUT_MS). */
export const DEFAULT_BUSY_TIMEOUT_MS = 10_000;

/**
 * Opens a SQLite database file (created if missing) in WAL mode. Other processes may open the same file: writes wait
 * for each other (see driver.ts), up to `busyTimeoutMs`.
 */
export async function openSqlite(file: string, onQuery?: QueryObserver, busyTimeoutMs = DEFAULT_BUSY_TIMEOUT_MS, startReadWorker = false): Promise<MetadataStore> {
  const { default: BetterSqlite3 } = await import('better-sqlite3');
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const conn = new BetterSqlite3(file);
  // WAL lets readers run beside the one writer; NORMAL sync keeps every committed transaction across a
  // process crash (kill -9) and only risks the last ones on power loss. SQLite's own busy handler waits
  // synchronously, blocking the event loop: it gets a few milliseconds, and the longer wait for another
  // process's write lock happens asynchronously in retryBusy (driver.ts).
  const policy: BusyPolicy = { busyTimeoutMs };
  conn.pragma('busy_timeout = 5');
  // Switching to WAL needs a moment of exclusive access: another process starting at the same time may hold it.
  await retryBusy(policy, () => conn.pragma('journal_mode = WAL'));
  conn.pragma('synchronous = NORMAL');
  conn.pragma('foreign_keys = ON');
  conn.pragma('case_sensitive_like = ON');
  conn.pragma('cache_size = -65536');
  conn.pragma('temp_store = MEMORY');
  // Checkpoint the WAL every ~64 MB rather than every 4 MB: fewer, larger copies under sustained ingestion.
  conn.pragma('wal_autocheckpoint = 16384');
  const db = new Kysely<object>({ dialect: new ImmediateSqliteDialect({ database: withStatementCache(conn) }, () => conn.inTransaction, policy), log: kyselyLog(onQuery) });
  // A file's longest reads run on a worker thread (reader.ts) with its own read-only connection: WAL gives it every
  // committed transaction, and every write here commits before its request is answered. An in-memory database
  // exists on this connection only, so its reads stay here.
  const reader = file === ':memory:' ? undefined : new SqliteReadWorker(file, (e) => rebuildSqliteError(BetterSqlite3.SqliteError, e));
  if (startReadWorker) reader?.startEarly();
  // Kept apart from the statements Kysely uses: raw mode is a property of the statement.
  const arrayStatements = new Map<string, ReturnType<Connection['prepare']>>();
  let closed = false;
  return {
    db,
    adapter: sqliteAdapter,
    uri: `sqlite://${file === ':memory:' ? ':memory:' : '/' + file.replace(/^\/+/, '')}`,
    async selectColumns(sqlText: string, params: readonly unknown[]) {
      if (reader) return retryBusy(policy, () => reader.read(sqlText, params));
      let stmt = arrayStatements.get(sqlText);
      if (!stmt) {
        stmt = conn.prepare(sqlText).raw(true);
        if (arrayStatements.size >= 64) arrayStatements.delete(arrayStatements.keys().next().value as string);
        arrayStatements.set(sqlText, stmt);
      }
      const prepared = stmt;
      return retryBusy(policy, () => toColumns(prepared.all(params as never) as unknown[][], prepared.columns().length));
    },
    async ping() {
      await db.selectNoFrom((eb) => eb.val(1).as('one')).execute();
    },
    async close() {
      if (closed) return;
      closed = true;
      await reader?.close();
      await db.destroy();
    },
  };
}
