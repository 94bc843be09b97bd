import type { Generated } from 'kysely';

/** Times are integer milliseconds since the epoch. */

/** Registered models. `model_pk` keeps versions attached through renames; `next_version` numbers versions (never reused). */
export interface RegisteredModelsTable {
  model_pk: Generated<number>;
  name: string;
  description: string | null;
  user_id: string | null;
  creation_time: number;
  last_update_time: number;
  next_version: Generated<number>;
  /** The project it belongs to (governance's; 0: the default project). */
  project_id: Generated<number>;
}

export interface RegisteredModelTagsTable {
  model_pk: number;
  key: string;
  value: string;
}

export interface ModelVersionsTable {
  model_pk: number;
  version: number;
  creation_time: number;
  last_update_time: number;
  user_id: string | null;
  description: string | null;
  current_stage: string; // None | Staging | Production | Archived
  /** The source as the client gave it (runs:/..., models:/m-..., mlflow-artifacts:/..., any URI). */
  source: string;
  /** Where the version's files are: the source resolved to an artifact URI. */
  storage_location: string;
  run_id: string | null;
  run_link: string | null;
  logged_model_id: string | null;
  status: string; // PENDING_REGISTRATION | FAILED_REGISTRATION | READY
  status_message: string | null;
  servable: Generated<number>;
  /** JSON: what inspecting the files found (flavors, signature, ONNX inputs and outputs...). */
  package: string | null;
}

export interface ModelVersionTagsTable {
  model_pk: number;
  version: number;
  key: string;
  value: string;
}

export interface ModelAliasesTable {
  model_pk: number;
  alias: string;
  version: number;
}

/** A registered model's history: versions created, alias moves, approvals, rejections. */
export interface ModelEventsTable {
  event_pk: Generated<number>;
  model_pk: number;
  version: number | null;
  kind: string;
  alias: string | null;
  actor: string;
  time: number;
  reason: string | null;
  details: string | null;
}

export interface PromotionPoliciesTable {
  model_pk: number;
  alias: string;
  /** JSON: the policy (rules, required validation, required approval). */
  policy: string;
  updated_by: string;
  update_time: number;
}

export interface PromotionRequestsTable {
  request_pk: Generated<number>;
  model_pk: number;
  version: number;
  alias: string;
  status: string; // PENDING_APPROVAL | APPROVED | REJECTED | PROMOTED | FAILED
  requested_by: string;
  request_time: number;
  decided_by: string | null;
  decision_time: number | null;
  reason: string | null;
  /** JSON: each rule's result. */
  evaluation: string | null;
}

/** The registry's tables, as its stores see them. */
// A type alias, not an interface: Kysely's withTables<T> needs T's implicit index signature.
export type RegistryTables = {
  registered_models: RegisteredModelsTable;
  registered_model_tags: RegisteredModelTagsTable;
  model_versions: ModelVersionsTable;
  model_version_tags: ModelVersionTagsTable;
  model_aliases: ModelAliasesTable;
  model_events: ModelEventsTable;
  promotion_policies: PromotionPoliciesTable;
  promotion_requests: PromotionRequestsTable;
};
