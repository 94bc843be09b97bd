import type { ColumnDataType } from 'kysely';

/**
 * What differs between metadata engines, as capability values with defaults on a base adapter.
 * Services never branch on the engine name; they read these.
 */
export interface StoreAdapter {
  readonly engine: 'sqlite' | 'postgresql';
  /** Column type of an auto-incrementing 64-bit primary key. */
  readonly autoIdType: ColumnDataType;
  /** Whether the column definition needs `.autoIncrement()` in addition to the type. */
  readonly autoIdNeedsAutoIncrement: boolean;
  /** Most bound parameters one statement may carry. */
  readonly maxBindParameters: number;
  /**
   * Whether a statement can take a whole column as one array parameter (`unnest($1::text[], $2::float8[])`): batch
   * writes then send one statement whatever their size, whose text and parameter count do not grow with the batch.
   */
  readonly arrayParameters: boolean;
  /** The bound-parameter marker for the i-th parameter (1-based) in hand-written SQL text. */
  placeholder(i: number): string;
  /**
   * An SQL expression for the JSON text of an array of the given column expressions (each text or integer, or NULL),
   * written as JavaScript's JSON.stringify writes it: `[1,"a",null]`. A canonical form the database computes for a
   * long read (the audit log's verification); the reader checks what does not match it in JavaScript.
   */
  jsonArraySql(columns: readonly { readonly expr: string; readonly type: 'text' | 'integer' }[]): string;
  /** True when the error is a unique-constraint violation. */
  isUniqueViolation(e: unknown): boolean;
  /** True when the error means the engine is briefly unavailable (busy, connection lost) and a retry may pass. */
  isTransient(e: unknown): boolean;
}

export const baseAdapter = {
  autoIdNeedsAutoIncrement: false,
  maxBindParameters: 32_000,
  arrayParameters: false,
} as const;
