import type { Generated } from 'kysely';

/** Times are integer milliseconds since the epoch. */

export interface MonitorsTable {
  monitor_pk: Generated<number>;
  name: string;
  project_id: number;
  description: string | null;
  deployment: string | null;
  model: string | null;
  spec: string;
  reference: string;
  reference_source: string;
  open_window: Generated<number>;
  open_rows: Generated<number>;
  last_record_time: number | null;
  created_by: string | null;
  creation_time: number;
  last_update_time: number;
}

export interface WindowPartsTable {
  part_pk: Generated<number>;
  monitor_pk: number;
  window_start: number;
  rows: number;
  counts: string;
  time: number;
}

export interface PredictionsTable {
  monitor_pk: number;
  request_id: string;
  window_start: number;
  prediction: string | null;
  score: number | null;
  label: string | null;
  label_time: number | null;
}

export interface AlertsTable {
  alert_pk: Generated<number>;
  monitor_pk: number;
  rule: string;
  state: string;
  value: number | null;
  window_start: number | null;
  fired_at: number;
  resolved_at: number | null;
}

/** The monitoring capability's tables, as its store sees them. */
// A type alias, not an interface: Kysely's withTables<T> needs T's implicit index signature.
export type MonitoringTables = {
  monitoring_monitors: MonitorsTable;
  monitoring_window_parts: WindowPartsTable;
  monitoring_predictions: PredictionsTable;
  monitoring_alerts: AlertsTable;
};
