import type { Generated } from 'kysely';

/**
 * Table shapes as Kysely sees them. Times are integer milliseconds since the epoch.
 * Metric values are stored as double precision; ±Infinity as they are. NaN is `is_nan = 1` in metrics
 * (value 0, so identical NaN points stay unique) and NULL in latest_metrics and metric_buckets.
 */
export interface ExperimentsTable {
  experiment_id: Generated<number>;
  name: string;
  /** The project it belongs to (governance's; 0: the default project). */
  project_id: Generated<number>;
  artifact_location: string;
  lifecycle_stage: string; // 'active' | 'deleted'
  creation_time: number;
  last_update_time: number;
}

export interface ExperimentTagsTable {
  experiment_id: number;
  key: string;
  value: string;
}

export interface RunsTable {
  /** Compact integer key, used by the per-point tables (metrics, metric_buckets) instead of the 32-char id. */
  run_pk: Generated<number>;
  run_id: string; // 32 lowercase hex chars
  /** Its experiment's project, copied at creation so run searches filter without a join. */
  project_id: Generated<number>;
  experiment_id: number;
  name: string;
  user_id: string;
  status: string; // RUNNING | SCHEDULED | FINISHED | FAILED | KILLED
  start_time: number;
  end_time: number | null;
  artifact_uri: string;
  lifecycle_stage: string; // 'active' | 'deleted'
  deleted_time: number | null;
}

export interface ParamsTable {
  run_id: string;
  key: string;
  value: string;
}

export interface TagsTable {
  run_id: string;
  key: string;
  value: string;
}

export interface MetricsTable {
  run_pk: number;
  key: string;
  /** 0 for NaN (see is_nan): SQL engines disagree on NaN, and NULLs would escape the unique index. */
  value: number;
  timestamp: number;
  step: number;
  is_nan: Generated<number>; // 1 for NaN
}

/** One row per (run, metric key): the value at the highest step, then the latest timestamp. Kept for search. */
export interface LatestMetricsTable {
  run_id: string;
  key: string;
  value: number | null; // NULL = NaN
  timestamp: number;
  step: number;
}

/**
 * Min/max summary of each metric's points in fixed step buckets (two widths, see METRIC_BUCKET_WIDTHS),
 * kept up to date at ingestion, so a long history can be downsampled without reading every point.
 */
export interface MetricBucketsTable {
  run_pk: number;
  key: string;
  width: number; // steps per bucket
  bucket: number; // floor(step / width)
  count: number; // points, NaN included
  first_step: number;
  last_step: number;
  min_value: number | null; // NULL when the bucket holds only NaN
  min_step: number;
  min_timestamp: number;
  max_value: number | null;
  max_step: number;
  max_timestamp: number;
}

export interface DatasetsTable {
  dataset_id: string;
  experiment_id: number;
  name: string;
  digest: string;
  source_type: string;
  source: string;
  schema: string | null;
  profile: string | null;
  created_time: number;
}

export interface RunInputsTable {
  input_id: string;
  run_id: string;
  dataset_id: string;
}

export interface InputTagsTable {
  input_id: string;
  key: string;
  value: string;
}

/** MLflow 3 logged models: a model logged to an experiment, with its own artifacts, params and tags. */
export interface LoggedModelsTable {
  model_id: string;
  experiment_id: number;
  name: string;
  model_type: string | null;
  source_run_id: string | null;
  status: string; // LOGGED_MODEL_PENDING | LOGGED_MODEL_READY | LOGGED_MODEL_UPLOAD_FAILED
  status_message: string | null;
  artifact_location: string;
  creation_time: number;
  last_update_time: number;
  lifecycle_stage: string;
}

export interface LoggedModelKeyValueTable {
  model_id: string;
  key: string;
  value: string;
}

export interface RunModelOutputsTable {
  run_id: string;
  model_id: string;
  step: number;
}

/** Metrics logged against a logged model (MLflow 3 `model_id` on a metric); they are run metrics as well. */
export interface LoggedModelMetricsTable {
  model_id: string;
  key: string;
  /** 0 for NaN (see is_nan), as in the metrics table. */
  value: number;
  is_nan: Generated<number>;
  timestamp: number;
  step: number;
  run_id: string;
  dataset_name: string | null;
  dataset_digest: string | null;
}

export interface RunModelInputsTable {
  run_id: string;
  model_id: string;
}

/** The tracking capability's tables, as its stores see them. */
// A type alias, not an interface: Kysely's withTables<T> needs T's implicit index signature.
export type TrackingTables = {
  experiments: ExperimentsTable;
  experiment_tags: ExperimentTagsTable;
  runs: RunsTable;
  params: ParamsTable;
  tags: TagsTable;
  metrics: MetricsTable;
  latest_metrics: LatestMetricsTable;
  metric_buckets: MetricBucketsTable;
  datasets: DatasetsTable;
  run_inputs: RunInputsTable;
  input_tags: InputTagsTable;
  logged_models: LoggedModelsTable;
  logged_model_tags: LoggedModelKeyValueTable;
  logged_model_params: LoggedModelKeyValueTable;
  run_model_outputs: RunModelOutputsTable;
  logged_model_metrics: LoggedModelMetricsTable;
  run_model_inputs: RunModelInputsTable;
};
