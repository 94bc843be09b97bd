import { Kysely, PostgresDialect } from 'kysely';
import { baseAdapter, type StoreAdapter } from '../adapter.js';
import { isPostgresTransient } from '../transient.js';
import { toColumns } from '../columns.js';
import { kyselyLog, type MetadataStore, type QueryObserver } from '../types.js';

export const postgresAdapter: StoreAdapter = {
  ...baseAdapter,
  engine: 'postgresql',
  autoIdType: 'bigserial',
  autoIdNeedsAutoIncrement: false,
  maxBindParameters: 65_000,
  arrayParameters: true,
  placeholder: (i) => `$${i}`,
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
  return {
    db,
    adapter: postgresAdapter,
    uri: uri.replace(/:\/\/([^:@/]+):[^@/]*@/, '://$1:***@'),
    async selectColumns(sqlText: string, params: readonly unknown[]) {
      const res = await pool.query({ text: sqlText, values: [...params], rowMode: 'array' });
      return toColumns(res.rows as unknown[][], res.fields.length);
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
