import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KilnError } from '../errors.js';
import type { MetadataStore, QueryObserver } from './types.js';

export type { MetadataStore } from './types.js';
export type { StoreAdapter } from './adapter.js';
export { migrateToLatest, type KilnMigration, type MigrationReport } from './migrate.js';

/** Parses `sqlite:///abs/path.db`, `sqlite://:memory:` or `postgresql://...` and opens the store. */
export interface OpenStoreOptions {
  readonly poolSize?: number;
  /** Called after every query with its SQL text, duration and outcome (for metrics). */
  readonly onQuery?: QueryObserver;
  /** SQLite: how long a write waits for another process's write lock before failing with 503 (default 10 s). */
  readonly busyTimeoutMs?: number;
  /** PostgreSQL: the statement_timeout of every connection, 0 for none (default 30 s). */
  readonly statementTimeoutMs?: number;
  /**
   * SQLite: start the thread that runs the longest reads now (the server), not at the first of them: its start takes
   * ~100 ms of CPU, which a loaded machine feels in the requests of that moment.
   */
  readonly startReadWorker?: boolean;
}

export async function openStore(uri: string, opts: OpenStoreOptions = {}): Promise<MetadataStore> {
  if (uri.startsWith('sqlite:')) {
    return (await import('./sqlite/connect.js')).openSqlite(sqliteFileFromUri(uri), opts.onQuery, opts.busyTimeoutMs, opts.startReadWorker);
  }
  if (uri.startsWith('postgresql://') || uri.startsWith('postgres://')) {
    return (await import('./postgres/connect.js')).openPostgres(uri, opts.poolSize, opts.onQuery, opts.statementTimeoutMs);
  }
  throw new KilnError(
    'INVALID_PARAMETER_VALUE',
    `Unsupported store URI '${uri}': use sqlite:///absolute/path/kiln.db or postgresql://user@host:5432/db`,
  );
}

export function sqliteFileFromUri(uri: string): string {
  if (uri === 'sqlite://:memory:' || uri === 'sqlite:///:memory:') return ':memory:';
  if (uri.startsWith('sqlite:///')) return fileURLToPath('file:///' + uri.slice('sqlite:///'.length).replace(/^\/+/, ''));
  if (uri.startsWith('sqlite://')) {
    // sqlite://relative/path.db is relative to the working directory.
    return resolve(uri.slice('sqlite://'.length));
  }
  throw new KilnError('INVALID_PARAMETER_VALUE', `Invalid SQLite URI '${uri}'`);
}
