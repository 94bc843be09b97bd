/**
 * Database errors that say "not now" rather than "never", by backend. The adapters retry them (StoreAdapter
 * .isTransient) and the HTTP error handler answers them 503 with Retry-After instead of 500. No driver is loaded here.
 */

function errCode(e: unknown): unknown {
  return typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
}

/** SQLite: another connection or process holds the lock (SQLITE_BUSY*, SQLITE_LOCKED*). */
export function isSqliteBusy(e: unknown): boolean {
  const code = errCode(e);
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/** PostgreSQL: 40001 serialization failure, 40P01 deadlock, 57P01 admin shutdown, 08xxx connection exceptions, a refused or reset connection. */
export function isPostgresTransient(e: unknown): boolean {
  const c = errCode(e);
  return typeof c === 'string' && (c === '40001' || c === '40P01' || c === '57P01' || c.startsWith('08') || c === 'ECONNREFUSED' || c === 'ECONNRESET');
}

/** PostgreSQL: the statement ran past statement_timeout and was cancelled (57014). */
export function isPostgresStatementTimeout(e: unknown): boolean {
  return errCode(e) === '57014';
}

/** PostgreSQL: a lock could not be taken at once (55P03, NOWAIT or lock_timeout). */
export function isPostgresLockNotAvailable(e: unknown): boolean {
  return errCode(e) === '55P03';
}
