import type { Generated } from 'kysely';

/** Times are integer milliseconds since the epoch. */

export interface DeploymentsTable {
  deployment_pk: Generated<number>;
  name: string;
  project_id: number;
  description: string | null;
  revision: number;
  created_by: string;
  creation_time: number;
  last_update_time: number;
}

export interface RevisionsTable {
  deployment_pk: number;
  revision: number;
  kind: string;
  config: string;
  resolved: string;
  actor: string;
  reason: string | null;
  time: number;
}

export interface PayloadsTable {
  payload_pk: Generated<number>;
  deployment_pk: number;
  request_id: string;
  time: number;
  model: string;
  version: number;
  protocol: string;
  status: number;
  latency_ms: number;
  request: string;
  response: string | null;
  error: string | null;
  shadow_version: number | null;
  shadow_response: string | null;
  shadow_agrees: number | null;
}

/** The serving capability's tables, as its stores see them. */
// A type alias, not an interface: Kysely's withTables<T> needs T's implicit index signature.
export type ServingTables = {
  serving_deployments: DeploymentsTable;
  serving_revisions: RevisionsTable;
  serving_payloads: PayloadsTable;
};
