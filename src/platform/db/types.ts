import type { Kysely, LogEvent } from 'kysely';
import type { StoreAdapter } from './adapter.js';

/** An open metadata database: the Kysely handle, its capabilities and its lifecycle. */
export interface MetadataStore {
  readonly db: Kysely<object>;
  readonly adapter: StoreAdapter;
  /** The store URI with any password masked. */
  readonly uri: string;
  ping(): Promise<void>;
  /**
   * Runs a hand-written read (placeholders from `adapter.placeholder`) and returns its rows column by column: the
   * cheapest shape for the longest reads (metric histories), not for anything else. On SQLite it runs on a worker
   * thread and sees committed data only (as on PostgreSQL, where it runs on a connection of its own).
   */
  selectColumns(sqlText: string, params: readonly unknown[]): Promise<ResultColumns>;
  /** Safe to call twice. */
  close(): Promise<void>;
}

/**
 * The rows of a read, column by column (in the order of the SELECT list). A column that holds only numbers is a
 * Float64Array, any other (NULLs, text) an array of the driver's values.
 */
export interface ResultColumns {
  readonly rowCount: number;
  readonly columns: readonly (Float64Array | readonly unknown[])[];
}

export type QueryObserver = (sqlText: string, ms: number, ok: boolean) => void;

/** Adapts a QueryObserver to Kysely's log hook. */
export function kyselyLog(observer: QueryObserver | undefined): ((e: LogEvent) => void) | undefined {
  if (!observer) return undefined;
  return (e) => observer(e.query.sql, e.queryDurationMillis, e.level === 'query');
}
