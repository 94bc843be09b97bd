/** Dataset API shapes (see docs/data.md and src/data/profile/types.ts). */

export interface Dataset {
  name: string;
  description: string | null;
  user_id: string | null;
  creation_time: number;
  last_update_time: number;
  latest_version: number;
  version_count: number;
}

export interface DatasetFile {
  path: string;
  sha256: string;
  bytes: number;
}

export interface DatasetVersion {
  name: string;
  version: number;
  ref: string;
  digest: string;
  mlflow_digest: string;
  format: string;
  rows: number;
  bytes: number;
  files: DatasetFile[];
  source: string | null;
  description: string | null;
  user_id: string | null;
  creation_time: number;
}

export type ColumnType = 'integer' | 'float' | 'boolean' | 'datetime' | 'categorical' | 'string';

export interface ValueCount {
  value: string;
  count: number;
}

export interface ColumnProfile {
  name: string;
  type: ColumnType;
  count: number;
  missing: number;
  distinct: number;
  distinct_exact: boolean;
  min?: number | string | null;
  max?: number | string | null;
  mean?: number | null;
  std?: number | null;
  quantiles?: Record<string, number>;
  histogram?: { edges: number[]; counts: number[] };
  nan_count?: number;
  inf_count?: number;
  min_length?: number;
  max_length?: number;
  mean_length?: number;
  top?: ValueCount[];
  top_exact?: boolean;
  categories?: ValueCount[];
  true_count?: number;
  false_count?: number;
}

export interface DatasetProfile {
  format: string;
  rows: number;
  sources: { name: string; rows: number; bytes: number }[];
  columns: ColumnProfile[];
}

export interface SchemaColumn {
  name: string;
  type: ColumnType;
  nullable: boolean;
  categories?: string[];
  min?: number | string;
  max?: number | string;
}

export interface DatasetSchema {
  columns: SchemaColumn[];
  allow_extra_columns?: boolean;
  require_rows?: boolean;
}

export interface DatasetVersionDetail extends DatasetVersion {
  schema: DatasetSchema | null;
  profile: DatasetProfile | null;
}

export interface Anomaly {
  column: string | null;
  type: string;
  severity: 'ERROR' | 'WARNING';
  message: string;
  details: Record<string, unknown>;
}

export interface DatasetValidation {
  id: number;
  name: string;
  version: number;
  ref: string;
  schema_ref: string | null;
  baseline: string | null;
  js_threshold: number | null;
  ok: boolean;
  errors: number;
  warnings: number;
  anomalies: Anomaly[];
  statistics: { columns_checked: number; anomalies: number; errors: number; warnings: number };
  user_id: string | null;
  creation_time: number;
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
  js_divergence?: number | null;
}

export interface VersionDiff {
  a: DatasetVersion;
  b: DatasetVersion;
  rows: NumberDelta;
  added_columns: string[];
  removed_columns: string[];
  columns: ColumnDiff[];
}
