import { Kysely, PostgresDialect } from 'kysely';
import { baseAdapter, type StoreAdapter } from '../adapter.js';
import { isPostgresTransient } from '../transient.js';
import { ColumnsBuilder } from '../columns.js';
import { kyselyLog, type MetadataStore, type QueryObserver, type ResultColumns } from '../types.js';

export const postgresAdapter: StoreAdapter = {
  ...baseAdapter,
  engine: 'postgresql',
  autoIdType: 'bigserial',
  autoIdNeedsAutoIncrement: false,
  maxBindParameters: 65_000,
  arrayParameters: true,
  placeholder: (i) => `$${i}`,
  // to_json quotes and escapes text as JSON.stringify does; an integer's text is its JSON already (and cheaper).
  jsonArraySql: (columns) => `'[' || ${columns.map((c) => `coalesce(${c.type === 'text' ? `to_json(${c.expr})` : c.expr}::text, 'null')`).join(" || ',' || ")} || ']'`,
  isUniqueViolation: (e) => errCode(e) === '23505',
  isTransient: isPostgresTransient,
};

function errCode(e: unknown): unknown {
  return typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
}

const INT8_OID = 20;

/** The statement_timeout of every connection unless configured (KILN_DB_STATEMENT_TIMEOUT_MS). */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;

/**
 * Opens a pooled PostgreSQL connection. The `pg` driver is loaded only here. Every connection gets a
 * statement_timeout, so no single query holds a connection (and the request waiting on it) for longer: a query
 * cancelled by it fails with 57014, which the HTTP layer answers with 503.
 */
type QueryConfig = import('pg').QueryConfig;

/** Rows per round trip of selectColumns (pg's `rows`: the portal is executed that many rows at a time). */
const ROWS_PER_BATCH = 1000;

/**
 * selectColumns reads running at once; the others wait their turn. Each one's rows are parsed on this thread: eight
 * at once put eight batches into one turn of the event loop, and held eight of the pool's connections for the
 * whole read (one /health needs too).
 */
const COLUMN_READS_AT_ONCE = 2;

/** Runs at most `n` of the functions given at once, the others in the order they came. */
function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let running = 0;
  const queue: (() => void)[] = [];
  return async (fn) => {
    if (running < n) running++;
    // A slot is handed over directly by the one that finishes (running stays as it is).
    else await new Promise<void>((r) => queue.push(r));
    try {
      return await fn();
    } finally {
      const next = queue.shift();
      if (next) next();
      else running--;
    }
  };
}

export async function openPostgres(uri: string, poolSize = 10, onQuery?: QueryObserver, statementTimeoutMs = DEFAULT_STATEMENT_TIMEOUT_MS): Promise<MetadataStore> {
  const pg = (await import('pg')).default;
  const pool = new pg.Pool({
    connectionString: uri,
    max: poolSize,
    ...(statementTimeoutMs > 0 ? { statement_timeout: statementTimeoutMs } : {}),
    // 64-bit integers (times in ms, ids) fit a double exactly up to 2^53: return numbers, not strings.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  pool.on('error', () => {
    // An idle client lost its connection; the pool replaces it. Queries report their own errors.
  });
  const db = new Kysely<object>({ dialect: new PostgresDialect({ pool }), log: kyselyLog(onQuery) });
  let closed = false;
  const columnReads = limiter(COLUMN_READS_AT_ONCE);
  const readColumns = async (sqlText: string, params: readonly unknown[]): Promise<ResultColumns> => {
    const client = await pool.connect();
    let failed: Error | undefined;
    try {
      return await new Promise<ResultColumns>((resolve, reject) => {
        // Rows go into the columns as they arrive and are dropped, in batches of 1,000 (the server sends the next
        // batch when asked): between batches the event loop is free, and no page of row objects is ever alive.
        const query = new pg.Query({ text: sqlText, values: [...params], rowMode: 'array', rows: ROWS_PER_BATCH } as QueryConfig);
        const columns = new ColumnsBuilder();
        query.on('row', (row: unknown[]) => columns.add(row));
        query.on('error', reject);
        query.on('end', (res) => resolve(columns.finish(res.fields.length)));
        client.query(query);
      });
    } catch (e) {
      failed = e as Error;
      throw e;
    } finally {
      // As pool.query does: a client whose query failed is not reused.
      client.release(failed);
    }
  };
  return {
    db,
    adapter: postgresAdapter,
    uri: uri.replace(/:\/\/([^:@/]+):[^@/]*@/, '://$1:***@'),
    selectColumns(sqlText: string, params: readonly unknown[]) {
      return columnReads(() => readColumns(sqlText, params));
    },
    async ping() {
      await db.selectNoFrom((eb) => eb.val(1).as('one')).execute();
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}
