/**
 * The SQLite read worker: runs in a worker thread (see reader.ts), never imported by the main thread. It holds its
 * own read-only connection to the database file and answers one read at a time. In WAL mode each read sees every
 * transaction committed before it began, and only those.
 *
 * A request is `{ id, sql, params }`. The answer is `{ id, rowCount, columns }`: the rows column by column
 * (columns.ts), each Float64Array's buffer transferred, not copied: the main thread has next to nothing to
 * deserialize (25,000 rows as arrays took it 15-50 ms, as four Float64Arrays under 1 ms). A failed read answers `{ id, error: { name, message, code } }`: the
 * caller rebuilds it (SQLITE_BUSY is retried there, asynchronously).
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { toColumns } from '../columns.js';

export interface ReadRequest {
  readonly id: number;
  readonly sql: string;
  readonly params: readonly unknown[];
}

export type ReadAnswer =
  | { readonly id: number; readonly rowCount: number; readonly columns: (Float64Array | unknown[])[] }
  | { readonly id: number; readonly error: { readonly name: string; readonly message: string; readonly code?: string } };

export interface ReadWorkerData {
  readonly file: string;
}

type Statement = ReturnType<Database.Database['prepare']>;

const port = parentPort;
if (port) {
  const { file } = workerData as ReadWorkerData;
  const conn = new Database(file, { readonly: true, fileMustExist: true });
  // Waiting for a lock blocks this thread only, and briefly: the caller retries SQLITE_BUSY asynchronously.
  conn.pragma('busy_timeout = 5');
  // As on the main connection: reads must answer the same (LIKE is case-sensitive there).
  conn.pragma('case_sensitive_like = ON');
  conn.pragma('cache_size = -65536');
  conn.pragma('temp_store = MEMORY');

  const statements = new Map<string, Statement>();
  const prepare = (sqlText: string): Statement => {
    let stmt = statements.get(sqlText);
    if (stmt) {
      statements.delete(sqlText);
    } else {
      stmt = conn.prepare(sqlText).raw(true);
      if (statements.size >= 64) statements.delete(statements.keys().next().value as string);
    }
    statements.set(sqlText, stmt);
    return stmt;
  };

  port.on('message', (req: ReadRequest) => {
    let answer: ReadAnswer;
    let transfer: ArrayBuffer[] = [];
    try {
      const stmt = prepare(req.sql);
      const { rowCount, columns } = toColumns(stmt.all(req.params as never) as unknown[][], stmt.columns().length);
      transfer = columns.filter((c): c is Float64Array => c instanceof Float64Array).map((c) => c.buffer as ArrayBuffer);
      answer = { id: req.id, rowCount, columns };
    } catch (e) {
      const err = e as { name?: unknown; message?: unknown; code?: unknown };
      answer = {
        id: req.id,
        error: { name: String(err?.name ?? 'Error'), message: String(err?.message ?? e), ...(typeof err?.code === 'string' ? { code: err.code } : {}) },
      };
    }
    port.postMessage(answer, transfer);
  });
}
