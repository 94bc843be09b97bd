import type { Page } from './page.js';
import type { Tag } from './tags.js';

export type { Page };
/** Domain entities of experiment tracking (camelCase; API shapes are converted at the edges). */

export const RUN_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export type LifecycleStage = 'active' | 'deleted';
export const VIEW_TYPES = ['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'] as const;
export type ViewType = (typeof VIEW_TYPES)[number];

export type { Tag };

export interface Experiment {
  readonly experimentId: string;
  readonly name: string;
  readonly artifactLocation: string;
  readonly lifecycleStage: LifecycleStage;
  readonly creationTime: number;
  readonly lastUpdateTime: number;
  readonly tags: readonly Tag[];
  /** The name of the project it belongs to (as the native API answers it). */
  readonly project?: string;
  /** The id of its project (the server's stores). */
  readonly projectId?: number;
}

export interface RunInfo {
  readonly runId: string;
  readonly runName: string;
  readonly experimentId: string;
  readonly userId: string;
  readonly status: RunStatus;
  readonly startTime: number;
  readonly endTime: number | null;
  readonly artifactUri: string;
  readonly lifecycleStage: LifecycleStage;
}

export interface Metric {
  readonly key: string;
  /** May be NaN or ±Infinity. */
  readonly value: number;
  readonly timestamp: number;
  readonly step: number;
}

export interface Param {
  readonly key: string;
  readonly value: string;
}

export interface Dataset {
  readonly name: string;
  readonly digest: string;
  readonly sourceType: string;
  readonly source: string;
  readonly schema?: string | null;
  readonly profile?: string | null;
}

export interface DatasetInput {
  readonly dataset: Dataset;
  readonly tags: readonly Tag[];
}

export interface Run {
  readonly info: RunInfo;
  readonly data: {
    readonly metrics: readonly Metric[];
    readonly params: readonly Param[];
    readonly tags: readonly Tag[];
  };
  readonly inputs: { readonly datasetInputs: readonly DatasetInput[] };
}

export interface CreateExperimentInput {
  readonly name: string;
  readonly artifactLocation?: string;
  readonly tags?: readonly Tag[];
  /** The project it belongs to (default: the default project). */
  readonly project?: string;
}

export interface SearchExperimentsInput {
  /** Only the experiments of this project (by name; an unknown one matches none). */
  readonly project?: string;
  readonly filter?: string;
  readonly orderBy?: readonly string[];
  readonly viewType?: ViewType;
  readonly maxResults?: number;
  readonly pageToken?: string;
}

export interface CreateRunInput {
  readonly experimentId: string;
  readonly runName?: string;
  readonly startTime?: number;
  readonly userId?: string;
  readonly tags?: readonly Tag[];
}

export interface UpdateRunInput {
  readonly runId: string;
  readonly status?: RunStatus;
  readonly endTime?: number | null;
  readonly runName?: string;
}

export interface LogBatchInput {
  readonly runId: string;
  readonly metrics?: readonly Metric[];
  readonly params?: readonly Param[];
  readonly tags?: readonly Tag[];
}

export interface SearchRunsInput {
  readonly experimentIds: readonly string[];
  readonly filter?: string;
  readonly orderBy?: readonly string[];
  readonly viewType?: ViewType;
  readonly maxResults?: number;
  readonly pageToken?: string;
  /** Native API only: skip this many runs (random access for tables), instead of a page token. */
  readonly offset?: number;
}

export interface MetricHistoryInput {
  readonly runId: string;
  readonly key: string;
  readonly maxResults?: number;
  readonly pageToken?: string;
  /** Downsample server-side to at most this many points, keeping each bucket's min and max. */
  readonly maxPoints?: number;
  readonly startStep?: number;
  readonly endStep?: number;
}

export interface MetricHistory {
  readonly metrics: readonly Metric[];
  readonly nextPageToken?: string;
  /** True when the points are a min/max downsample of a longer history. */
  readonly downsampled: boolean;
  /** Number of stored points in the requested range. */
  readonly totalPoints?: number;
}

/**
 * Everything experiment tracking offers, as plain calls. The server's TrackingService implements it
 * over the database; the SDK's HTTP client implements it over the native API.
 */
export interface TrackingApi {
  createExperiment(input: CreateExperimentInput): Promise<string>;
  getExperiment(experimentId: string): Promise<Experiment>;
  getExperimentByName(name: string): Promise<Experiment>;
  searchExperiments(input: SearchExperimentsInput): Promise<Page<Experiment>>;
  renameExperiment(experimentId: string, newName: string): Promise<void>;
  deleteExperiment(experimentId: string): Promise<void>;
  restoreExperiment(experimentId: string): Promise<void>;
  setExperimentTag(experimentId: string, key: string, value: string): Promise<void>;
  deleteExperimentTag(experimentId: string, key: string): Promise<void>;

  createRun(input: CreateRunInput): Promise<Run>;
  getRun(runId: string): Promise<Run>;
  updateRun(input: UpdateRunInput): Promise<RunInfo>;
  deleteRun(runId: string): Promise<void>;
  restoreRun(runId: string): Promise<void>;
  logBatch(input: LogBatchInput): Promise<void>;
  setTag(runId: string, key: string, value: string): Promise<void>;
  deleteTag(runId: string, key: string): Promise<void>;
  logInputs(runId: string, datasets: readonly DatasetInput[]): Promise<void>;
  searchRuns(input: SearchRunsInput): Promise<Page<Run>>;
  getMetricHistory(input: MetricHistoryInput): Promise<MetricHistory>;
}

/** A run as the lineage graph shows it. */
export interface RunSummary {
  readonly runId: string;
  readonly runName: string;
  readonly experimentId: string;
  readonly status: string;
  readonly lifecycleStage: string;
  readonly startTime: number;
  readonly endTime: number | null;
}

/** A run's dataset input, as lineage follows it (the context is the input's mlflow.data.context tag). */
export interface RunDatasetLink {
  readonly runId: string;
  readonly name: string;
  readonly digest: string;
  readonly sourceType: string;
  readonly source: string;
  readonly context: string | null;
}

/** A double as JSON carries it: NaN and ±Infinity become "NaN", "Infinity", "-Infinity". */
export function jsonDouble(v: number): number | 'NaN' | 'Infinity' | '-Infinity' {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

/** The inverse of jsonDouble; anything else that is not a number reads as NaN. */
export function fromJsonDouble(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return NaN;
}
