import { enc } from '../../lib/api';

export type { Alert, ColumnDrift, Monitor, MonitoredColumn, Performance, Report, WindowSummary } from '../../../../packages/sdk/src/contract/monitoring-schemas';

export const monitorHref = (name: string) => `/monitors/${enc(name)}`;

/** What a monitor watches, in words: "deployment rain (model Rain)", "model churn", or "records sent to it". */
export function watches(m: { deployment: string | null; model: string | null }): string {
  if (m.deployment !== null) return m.model !== null ? `deployment ${m.deployment} (model ${m.model})` : `deployment ${m.deployment}`;
  if (m.model !== null) return `model ${m.model}`;
  return 'records sent to it';
}

/** Metrics of a task, in the order they are drawn (the lower-is-better ones of regression, the scores of classification). */
export const METRICS: Record<string, readonly string[]> = {
  classification: ['accuracy', 'precision', 'recall', 'f1', 'roc_auc'],
  regression: ['mae', 'rmse'],
};

export const CREATE_COMMAND = 'kiln monitors create NAME --reference DATASET@vN --window 1d --time-column date';
