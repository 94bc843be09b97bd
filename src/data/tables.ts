import type { Generated } from 'kysely';

/** Times are integer milliseconds since the epoch. */

/** Versioned datasets (the data capability). */
export interface DataDatasetsTable {
  dataset_pk: Generated<number>;
  name: string;
  description: string | null;
  user_id: string | null;
  creation_time: number;
  last_update_time: number;
  next_version: Generated<number>;
  /** The project it belongs to (governance's; 0: the default project). */
  project_id: Generated<number>;
}

export interface DataVersionsTable {
  dataset_pk: number;
  version: number;
  /** SHA-256 (hex) of the content: of the file, or of the manifest of a folder. */
  digest: string;
  /** The first 36 characters of digest: what an MLflow dataset input carries (MLflow caps digests at 36). */
  mlflow_digest: string;
  format: string;
  rows: number;
  bytes: number;
  files: number;
  /** JSON: [{ path, sha256, bytes }] — the files and their content-addressed blobs. */
  manifest: string;
  source: string | null;
  /** JSON: the inferred schema. */
  schema: string;
  /** JSON: the profile (statistics per column). */
  profile: string;
  description: string | null;
  user_id: string | null;
  creation_time: number;
}

export interface DataValidationsTable {
  validation_pk: Generated<number>;
  dataset_pk: number;
  version: number;
  /** What the schema came from, e.g. weather@v1 or a file name. */
  schema_ref: string;
  schema: string;
  ok: number;
  errors: number;
  warnings: number;
  report: string;
  user_id: string | null;
  creation_time: number;
}

/** The data capability's tables, as its store sees them. */
// A type alias, not an interface: Kysely's withTables<T> needs T's implicit index signature.
export type DataTables = {
  data_datasets: DataDatasetsTable;
  data_versions: DataVersionsTable;
  data_validations: DataValidationsTable;
};
