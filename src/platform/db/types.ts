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
   * Runs a hand-written read (placeholders from `adapter.placeholder`) and returns rows as arrays, not
   * objects: several times cheaper for the longest reads (metric histories). Not for anything else.
   */
  selectArrays(sqlText: string, params: readonly unknown[]): Promise<unknown[][]>;
  /** Safe to call twice. */
  close(): Promise<void>;
}

export type QueryObserver = (sqlText: string, ms: number, ok: boolean) => void;

/** Adapts a QueryObserver to Kysely's log hook. */
export function kyselyLog(observer: QueryObserver | undefined): ((e: LogEvent) => void) | undefined {
  if (!observer) return undefined;
  return (e) => observer(e.query.sql, e.queryDurationMillis, e.level === 'query');
}
