/** The native API's JSON shapes the UI reads (see docs/api.md). */

export interface Experiment {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: 'active' | 'deleted';
  creation_time: number;
  last_update_time: number;
  tags: Record<string, string>;
}

export type JsonDouble = number | 'NaN' | 'Infinity' | '-Infinity';

export interface Run {
  run_id: string;
  run_name: string;
  experiment_id: string;
  user_id: string;
  status: 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';
  start_time: number;
  end_time: number | null;
  artifact_uri: string;
  lifecycle_stage: 'active' | 'deleted';
  params: Record<string, string>;
  tags: Record<string, string>;
  metrics: Record<string, { value: JsonDouble; step: number; timestamp: number }>;
  dataset_inputs: { name: string; digest: string; source_type: string; source: string; schema: string | null; profile: string | null; tags: Record<string, string> }[];
}


export interface ModelVersion {
  name: string;
  version: number;
  creation_time: number;
  last_update_time: number;
  user_id: string | null;
  description: string | null;
  stage: string;
  source: string;
  storage_location: string;
  run_id: string | null;
  status: 'PENDING_REGISTRATION' | 'FAILED_REGISTRATION' | 'READY';
  status_message: string | null;
  servable: boolean;
  package: Record<string, unknown> | null;
  tags: Record<string, string>;
  aliases: string[];
}

export interface RegisteredModel {
  name: string;
  description: string | null;
  user_id: string | null;
  creation_time: number;
  last_update_time: number;
  tags: Record<string, string>;
  aliases: Record<string, number>;
  latest_versions: ModelVersion[];
}
