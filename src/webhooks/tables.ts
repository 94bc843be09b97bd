import type { Generated } from 'kysely';

/** Times are integer milliseconds since the epoch. */

export interface WebhooksTable {
  webhook_id: string;
  name: string;
  url: string;
  /** JSON array of event kinds. */
  events: string;
  /** Only events of this registered model, when set. */
  model_name: string | null;
  secret: string | null;
  status: string; // ACTIVE | DISABLED
  description: string | null;
  creation_time: number;
  last_update_time: number;
}

export interface WebhookDeliveriesTable {
  delivery_pk: Generated<number>;
  webhook_id: string;
  event_id: string;
  event_kind: string;
  payload: string;
  status: string; // PENDING | SUCCEEDED | FAILED
  attempts: Generated<number>;
  next_attempt_time: number | null;
  last_attempt_time: number | null;
  response_status: number | null;
  response_body: string | null;
  error: string | null;
  duration_ms: number | null;
  creation_time: number;
}

/** The webhooks' tables, as their store sees them. */
// A type alias, not an interface: Kysely's withTables<T> needs T's implicit index signature.
export type WebhookTables = {
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
};
