import { CompiledQuery, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type QueryResult, type SqliteDialectConfig } from 'kysely';
import { KilnError } from '../../errors.js';
import { isSqliteBusy as isBusy } from '../transient.js';

/**
 * Several processes may open one SQLite file (two `kiln server`s, a CLI beside a server). SQLite lets one of them
 * write at a time; the others get SQLITE_BUSY. Two things make that a wait rather than an error:
 *
 * - Transactions begin with `BEGIN IMMEDIATE`, which takes the write lock up front. A deferred `BEGIN` (Kysely's
 *   default) reads first and asks for the lock at its first write; when another process committed meanwhile its
 *   snapshot is stale and SQLite fails it at once (SQLITE_BUSY_SNAPSHOT), without waiting at all.
 * - Taking the lock, and a statement outside a transaction, are retried on SQLITE_BUSY / SQLITE_LOCKED with
 *   growing, jittered pauses until `busyTimeoutMs` has passed, asynchronously: the process keeps serving (its
 *   /health, its reads) while it waits, instead of blocking its event loop inside SQLite's own busy handler for
 *   all of that time. Both are safe to retry: a failed `BEGIN IMMEDIATE` or autocommit statement changed nothing.
 *
 * What still fails after the wait becomes TEMPORARILY_UNAVAILABLE (503 with Retry-After), never a 500.
 */
export interface BusyPolicy {
  /** How long to keep trying before answering 503. */
  readonly busyTimeoutMs: number;
}


export function busyUnavailable(e: unknown, waitedMs: number): KilnError {
  const ke = new KilnError('TEMPORARILY_UNAVAILABLE', `The database is busy (another process held its write lock for ${waitedMs} ms); try again.`);
  Object.defineProperty(ke, 'cause', { value: e });
  return ke;
}

/** Runs `fn` until it passes or fails with something other than SQLITE_BUSY, or the busy timeout runs out. */
export async function retryBusy<T>(policy: BusyPolicy, fn: () => T | Promise<T>): Promise<T> {
  const start = Date.now();
  let pause = 1;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (!isBusy(e)) throw e;
      const waited = Date.now() - start;
      if (waited >= policy.busyTimeoutMs) throw busyUnavailable(e, waited);
      const delay = Math.min(pause * (0.5 + Math.random()), policy.busyTimeoutMs - waited);
      await new Promise((r) => setTimeout(r, delay));
      pause = Math.min(pause * 2, 25);
    }
  }
}

/** The one connection, with statements outside a transaction retried while the file is busy. */
class BusyRetryingConnection implements DatabaseConnection {
  constructor(
    private readonly inner: DatabaseConnection,
    private readonly inTransaction: () => boolean,
    private readonly policy: BusyPolicy,
  ) {}

  executeQuery<R>(q: CompiledQuery): Promise<QueryResult<R>> {
    // Inside a transaction this process already holds the write lock (BEGIN IMMEDIATE): a statement there does not
    // wait for another process, and one that failed cannot be retried alone.
    if (this.inTransaction()) return this.inner.executeQuery<R>(q);
    return retryBusy(this.policy, () => this.inner.executeQuery<R>(q));
  }

  streamQuery<R>(q: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(q, chunkSize);
  }
}

class ImmediateSqliteDriver extends SqliteDriver implements Driver {
  private wrapped: BusyRetryingConnection | undefined;
  constructor(
    config: SqliteDialectConfig,
    private readonly inTransaction: () => boolean,
    private readonly policy: BusyPolicy,
  ) {
    super(config);
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    const conn = await super.acquireConnection();
    this.wrapped ??= new BusyRetryingConnection(conn, this.inTransaction, this.policy);
    return this.wrapped;
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/** Kysely's SQLite dialect with immediate transactions and asynchronous busy retries (see BusyPolicy). */
export class ImmediateSqliteDialect extends SqliteDialect {
  constructor(
    private readonly config: SqliteDialectConfig,
    private readonly inTransaction: () => boolean,
    private readonly policy: BusyPolicy,
  ) {
    super(config);
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.config, this.inTransaction, this.policy);
  }
}
