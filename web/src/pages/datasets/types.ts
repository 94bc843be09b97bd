/** Dataset API shapes (see docs/data.md and src/data/profile/types.ts). */

// The profile, schema, anomaly and diff shapes are stored and served as the profiling library writes them.
import type { Anomaly, ColumnDiff, DatasetProfile, DatasetSchema, NumberDelta } from '../../../../src/data/profile/types';
export type { Anomaly, ColumnDiff, ColumnProfile, ColumnType, DatasetProfile, DatasetSchema, NumberDelta, SchemaColumn, ValueCount } from '../../../../src/data/profile/types';

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

export interface DatasetVersionDetail extends DatasetVersion {
  schema: DatasetSchema | null;
  profile: DatasetProfile | null;
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

export interface VersionDiff {
  a: DatasetVersion;
  b: DatasetVersion;
  rows: NumberDelta;
  added_columns: string[];
  removed_columns: string[];
  columns: ColumnDiff[];
}
