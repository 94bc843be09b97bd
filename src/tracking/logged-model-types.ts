import type { Metric, Param, Tag } from './types.js';

export const LOGGED_MODEL_STATUSES = ['LOGGED_MODEL_PENDING', 'LOGGED_MODEL_READY', 'LOGGED_MODEL_UPLOAD_FAILED'] as const;
export type LoggedModelStatus = (typeof LOGGED_MODEL_STATUSES)[number];

/** An MLflow 3 logged model: a model logged to an experiment, with its own artifact folder. */
export interface LoggedModel {
  readonly modelId: string;
  readonly experimentId: string;
  readonly name: string;
  readonly modelType: string | null;
  readonly sourceRunId: string | null;
  readonly status: LoggedModelStatus;
  readonly statusMessage: string | null;
  readonly artifactUri: string;
  readonly creationTime: number;
  readonly lastUpdateTime: number;
  readonly tags: readonly Tag[];
  readonly params: readonly Param[];
  /** Metrics logged against the model (each also a metric of its run), ordered by key, step, timestamp. */
  readonly metrics: readonly LoggedModelMetric[];
}

/** A metric point logged with a `model_id`: which run logged it, and on which dataset it was measured. */
export interface LoggedModelMetric extends Metric {
  readonly modelId: string;
  readonly runId: string;
  readonly datasetName?: string;
  readonly datasetDigest?: string;
}

export interface CreateLoggedModelInput {
  readonly experimentId: string;
  readonly name?: string;
  readonly modelType?: string;
  readonly sourceRunId?: string;
  readonly params?: readonly Param[];
  readonly tags?: readonly Tag[];
}

export interface SearchLoggedModelsInput {
  readonly experimentIds: readonly string[];
  readonly filter?: string;
  readonly orderBy?: readonly { readonly fieldName: string; readonly ascending: boolean }[];
  readonly maxResults?: number;
  readonly pageToken?: string;
}

export interface ModelOutput {
  readonly modelId: string;
  readonly step: number;
}
