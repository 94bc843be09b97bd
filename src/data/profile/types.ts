/** Shapes of profiles, schemas, validation reports and diffs. All plain JSON, snake_case field names. */

export type DataFormat = 'csv' | 'jsonl' | 'json' | 'parquet';

export type ColumnType = 'integer' | 'float' | 'boolean' | 'datetime' | 'categorical' | 'string';
export const COLUMN_TYPES: readonly ColumnType[] = ['integer', 'float', 'boolean', 'datetime', 'categorical', 'string'];

/** The ranks reported in `quantiles`. */
export const QUANTILE_KEYS = ['0.01', '0.05', '0.25', '0.5', '0.75', '0.95', '0.99'] as const;
export type QuantileKey = (typeof QUANTILE_KEYS)[number];

export interface ValueCount {
  value: string;
  count: number;
}

export interface ColumnProfile {
  name: string;
  type: ColumnType;
  /** Non-missing values. */
  count: number;
  missing: number;
  distinct: number;
  distinct_exact: boolean;
  // integer / float
  /** Numbers for integer/float (null when no finite value), ISO 8601 strings for datetime. */
  min?: number | string | null;
  max?: number | string | null;
  mean?: number | null;
  /** Population standard deviation of the finite values. */
  std?: number | null;
  quantiles?: Record<QuantileKey, number>;
  histogram?: { edges: number[]; counts: number[] };
  /** 101 values: the 0, 1, ..., 100th percentiles (a compact CDF used to re-bin for drift). */
  cdf?: number[];
  nan_count?: number;
  inf_count?: number;
  // string / categorical / integer
  min_length?: number;
  max_length?: number;
  mean_length?: number;
  top?: ValueCount[];
  /** False when `top` comes from the bounded space-saving summary (counts are then upper bounds). */
  top_exact?: boolean;
  /** Every value with its count, sorted by value (categorical columns only). */
  categories?: ValueCount[];
  // boolean
  true_count?: number;
  false_count?: number;
}

export interface SourceSummary {
  name: string;
  rows: number;
  bytes: number;
}

export interface DatasetProfile {
  format: DataFormat;
  rows: number;
  sources: SourceSummary[];
  columns: ColumnProfile[];
}

export interface SchemaColumn {
  name: string;
  type: ColumnType;
  nullable: boolean;
  categories?: string[];
  /** Numbers for integer/float columns, ISO 8601 strings for datetime columns. */
  min?: number | string;
  max?: number | string;
}

export interface DatasetSchema {
  columns: SchemaColumn[];
  /** When false (the default) a column absent from the schema is a NEW_COLUMN anomaly. */
  allow_extra_columns?: boolean;
  /** When true (the default) a dataset without rows is a NO_ROWS anomaly. */
  require_rows?: boolean;
}

export type AnomalyType =
  | 'MISSING_COLUMN'
  | 'NEW_COLUMN'
  | 'TYPE_MISMATCH'
  | 'UNEXPECTED_NULLS'
  | 'OUT_OF_RANGE'
  | 'UNSEEN_CATEGORIES'
  | 'MISSING_RATE_JUMP'
  | 'DISTRIBUTION_DRIFT'
  | 'NO_ROWS';

export interface Anomaly {
  column: string | null;
  type: AnomalyType;
  severity: 'ERROR' | 'WARNING';
  message: string;
  details: Record<string, unknown>;
}

export interface ValidationReport {
  ok: boolean;
  anomalies: Anomaly[];
  statistics: { columns_checked: number; anomalies: number; errors: number; warnings: number };
}

export interface NumberDelta {
  a: number | null;
  b: number | null;
  delta: number | null;
}

export interface ColumnDiff {
  name: string;
  status: 'added' | 'removed' | 'changed' | 'unchanged';
  type_a: ColumnType | null;
  type_b: ColumnType | null;
  type_changed: boolean;
  count?: NumberDelta;
  missing_rate?: NumberDelta;
  distinct?: NumberDelta;
  mean?: NumberDelta;
  std?: NumberDelta;
  min?: NumberDelta;
  max?: NumberDelta;
  quantiles?: Record<string, NumberDelta>;
  /** Jensen–Shannon divergence (base 2) between the two distributions, null when not comparable. */
  js_divergence?: number | null;
}

export interface ProfileDiff {
  rows: NumberDelta;
  added_columns: string[];
  removed_columns: string[];
  columns: ColumnDiff[];
}
