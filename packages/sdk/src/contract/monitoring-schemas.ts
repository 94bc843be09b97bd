import { Type, type Static, type TSchema } from '@sinclair/typebox';

/**
 * Monitoring API shapes: monitors (schema, reference profile, window, rules), drift reports, windows, realized
 * performance and alerts. The same schemas validate requests, serialize responses and make the OpenAPI document.
 */

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Num = Nullable(Type.Number());

export const DRIFT_METHODS = ['ks', 'chisquare', 'z', 'wasserstein', 'jensenshannon', 'psi'] as const;
export type DriftMethod = (typeof DRIFT_METHODS)[number];
export const DriftMethodSchema = Type.Union([Type.Literal('ks'), Type.Literal('chisquare'), Type.Literal('z'), Type.Literal('wasserstein'), Type.Literal('jensenshannon'), Type.Literal('psi')]);

export const ColumnKind = Type.Union([Type.Literal('numeric'), Type.Literal('categorical')]);
export type ColumnKind = Static<typeof ColumnKind>;

/** One monitored column (a feature, or a prediction output) as the monitor's schema declares it. */
export const MonitoredColumn = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 256 }),
    kind: ColumnKind,
    method: Type.Optional(DriftMethodSchema),
    threshold: Type.Optional(Type.Number({ description: 'p-value below which (tests) or distance from which (distances) the column has drifted' })),
  },
  { additionalProperties: false },
);
export type MonitoredColumn = Static<typeof MonitoredColumn>;

export const TASKS = ['classification', 'regression'] as const;

export const CreateMonitorBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128, description: 'letters, digits, ".", "_", "-"' }),
    project: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'the project the monitor belongs to (default: the caller\u2019s default project)' })),
    description: Type.Optional(Type.String({ maxLength: 5000 })),
    deployment: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'a Kiln deployment whose every request is counted' })),
    model: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'an external model by name (its predictions are logged through the API)' })),
    reference: Type.Optional(Type.String({ minLength: 1, maxLength: 400, description: 'the dataset version the reference profile is computed from (weather@v1); default for a deployment: the training dataset of the deployed version, through lineage' })),
    features: Type.Optional(Type.Array(Type.Union([Type.String({ minLength: 1, maxLength: 256 }), MonitoredColumn]), { maxItems: 1000, description: 'monitored features (default: every numeric or categorical column of the reference but the time, label and prediction columns)' })),
    predictions: Type.Optional(Type.Array(Type.Union([Type.String({ minLength: 1, maxLength: 256 }), MonitoredColumn]), { maxItems: 100, description: 'prediction outputs (columns of the records; for a deployment, its output tensors)' })),
    label: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'the label column (in the reference, and in labels sent later)' })),
    task: Type.Optional(Type.Union([Type.Literal('classification'), Type.Literal('regression')])),
    positive_class: Type.Optional(Type.String({ maxLength: 256, description: 'binary classification: the positive class (default "1", "true", or the larger)' })),
    score: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'the column with the probability of the positive class (ROC AUC, log loss)' })),
    window: Type.Optional(Type.String({ minLength: 2, maxLength: 32, description: 'tumbling window: 30s, 5m, 1h, 1d, 7d (aligned to UTC), or a row count such as "10000 rows" (default 1h)' })),
    time_column: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'the column whose time places a record in its window (default: arrival time)' })),
    bins: Type.Optional(Type.Integer({ minimum: 2, maximum: 100, description: 'numeric bins on reference quantiles (default 10)' })),
    top_k: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'categories kept per categorical column; the rest count as "other" (default 20)' })),
    drift_share: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'dataset drift when at least this share of features drifts (default 0.5)' })),
    rules: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 300 }), { maxItems: 100, description: 'alert rules such as "drift_share > 0.5 for 2 windows"' })),
  },
  { additionalProperties: false },
);
export type CreateMonitorBody = Static<typeof CreateMonitorBody>;

export const UpdateMonitorBody = Type.Object(
  {
    description: Type.Optional(Nullable(Type.String({ maxLength: 5000 }))),
    drift_share: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    rules: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 300 }), { maxItems: 100 })),
    features: Type.Optional(Type.Array(MonitoredColumn, { maxItems: 1000, description: 'methods and thresholds per feature (the set of features is fixed at creation)' })),
  },
  { additionalProperties: false },
);
export type UpdateMonitorBody = Static<typeof UpdateMonitorBody>;

export const Rule = Type.Object({
  id: Type.String({ description: 'a stable id of the rule (its normalised text)' }),
  text: Type.String(),
  metric: Type.String(),
  op: Type.String(),
  value: Type.Number(),
  windows: Type.Integer({ description: 'consecutive windows the condition must hold' }),
});
export type Rule = Static<typeof Rule>;

export const ReferenceSummary = Type.Object({
  source: Type.String({ description: 'where the reference profile came from (dataset version)' }),
  rows: Type.Integer(),
  creation_time: Type.Integer(),
});

export const Monitor = Type.Object({
  name: Type.String(),
  project: Type.String(),
  description: Nullable(Type.String()),
  deployment: Nullable(Type.String()),
  model: Nullable(Type.String()),
  features: Type.Array(MonitoredColumn),
  predictions: Type.Array(MonitoredColumn),
  label: Nullable(Type.String()),
  task: Nullable(Type.String()),
  positive_class: Nullable(Type.String()),
  score: Nullable(Type.String()),
  window: Type.String(),
  time_column: Nullable(Type.String()),
  bins: Type.Integer(),
  top_k: Type.Integer(),
  drift_share: Type.Number(),
  rules: Type.Array(Rule),
  reference: ReferenceSummary,
  created_by: Nullable(Type.String()),
  creation_time: Type.Integer(),
  last_update_time: Type.Integer(),
  last_record_time: Nullable(Type.Integer({ description: 'when records last arrived' })),
  firing: Type.Integer({ description: 'alerts firing now' }),
});
export type Monitor = Static<typeof Monitor>;

/** Figures of one column in a report. */
export const ColumnDrift = Type.Object({
  kind: ColumnKind,
  method: DriftMethodSchema,
  statistic: Num,
  threshold: Type.Number(),
  drifted: Type.Boolean(),
  psi: Num,
  psi_band: Nullable(Type.Union([Type.Literal('stable'), Type.Literal('moderate'), Type.Literal('major')])),
  js: Num,
  wasserstein: Num,
  ks_statistic: Num,
  ks_pvalue: Num,
  chi2_pvalue: Num,
  z_pvalue: Num,
  rows: Type.Number({ description: 'values counted in the window (missing included)' }),
  missing_rate: Num,
  out_of_range_rate: Num,
  invalid: Type.Number({ description: 'values of the wrong type, NaN or infinite' }),
  bins: Type.Array(Type.String(), { description: 'bin labels: below the reference, the quantile bins, above; or the categories and "other"' }),
  reference_counts: Type.Array(Type.Number()),
  current_counts: Type.Array(Type.Number()),
});
export type ColumnDrift = Static<typeof ColumnDrift>;

export const Performance = Type.Object({
  task: Type.String(),
  labeled: Type.Number(),
  label_coverage: Num,
  metrics: Type.Record(Type.String(), Num),
});
export type Performance = Static<typeof Performance>;

export const Report = Type.Object({
  monitor: Type.String(),
  from: Nullable(Type.String()),
  to: Nullable(Type.String()),
  compared_to: Type.String({ description: '"reference", or the start of the previous window' }),
  windows: Type.Integer(),
  status: Type.Union([Type.Literal('ok'), Type.Literal('no_data')]),
  rows: Type.Number(),
  reference_rows: Type.Number(),
  drift_share: Num,
  dataset_drift: Type.Boolean(),
  drift_share_threshold: Type.Number(),
  drifted_features: Type.Integer(),
  features: Type.Record(Type.String(), ColumnDrift),
  predictions: Type.Record(Type.String(), ColumnDrift),
  missing_rate: Num,
  out_of_range_rate: Num,
  performance: Nullable(Performance),
});
export type Report = Static<typeof Report>;

/** One window in a list (the heatmap): per-column statistic and flag, no histograms. */
export const WindowSummary = Type.Object({
  start: Type.Integer({ description: 'epoch ms (time windows) or window number (row-count windows)' }),
  end: Type.Integer(),
  rows: Type.Number(),
  drift_share: Num,
  dataset_drift: Type.Boolean(),
  missing_rate: Num,
  out_of_range_rate: Num,
  columns: Type.Record(Type.String(), Type.Object({ method: Type.String(), statistic: Num, drifted: Type.Boolean(), psi: Num, js: Num, wasserstein: Num, ks_pvalue: Num, missing_rate: Num, out_of_range_rate: Num })),
  performance: Nullable(Performance),
});
export type WindowSummary = Static<typeof WindowSummary>;

export const RecordsResult = Type.Object({
  accepted: Type.Number({ description: 'rows counted' }),
  windows: Type.Integer({ description: 'windows the rows went to' }),
  predictions_stored: Type.Number({ description: 'rows kept for joining labels (those with a request id)' }),
  ignored_columns: Type.Array(Type.String(), { description: 'columns of the input that the monitor does not watch' }),
  invalid_values: Type.Number({ description: 'values of the wrong type, NaN or infinite (counted as data-quality problems)' }),
});
export type RecordsResult = Static<typeof RecordsResult>;

export const LabelsBody = Type.Object(
  {
    labels: Type.Array(
      Type.Object(
        {
          request_id: Type.String({ minLength: 1, maxLength: 200 }),
          label: Type.Union([Type.String({ maxLength: 256 }), Type.Number(), Type.Boolean()]),
        },
        { additionalProperties: false },
      ),
      { maxItems: 100_000 },
    ),
  },
  { additionalProperties: false },
);
export type LabelsBody = Static<typeof LabelsBody>;

export const LabelsResult = Type.Object({
  received: Type.Integer(),
  joined: Type.Integer({ description: 'labels whose request id matched a logged prediction (the last label wins)' }),
  unknown: Type.Integer({ description: 'labels for request ids never logged (ignored, reported)' }),
  unknown_request_ids: Type.Array(Type.String(), { description: 'the first few of them' }),
  windows: Type.Integer({ description: 'windows whose performance changed' }),
});
export type LabelsResult = Static<typeof LabelsResult>;

export const Alert = Type.Object({
  id: Type.Integer(),
  monitor: Type.String(),
  rule: Type.String(),
  state: Type.Union([Type.Literal('FIRING'), Type.Literal('RESOLVED')]),
  value: Num,
  window_start: Nullable(Type.Integer()),
  fired_at: Type.Integer(),
  resolved_at: Nullable(Type.Integer()),
});
export type Alert = Static<typeof Alert>;

/** Webhook kinds of the monitors' alert events (event types `monitoring.alert_firing` and `monitoring.alert_resolved`). */
export const MONITOR_EVENT_KINDS = ['monitor_alert_firing', 'monitor_alert_resolved'] as const;
export type MonitorEventKind = (typeof MONITOR_EVENT_KINDS)[number];
export const MONITOR_ALERT_EVENT_PREFIX = 'monitoring.alert_';

/** What an alert event carries in the event log (and webhooks send as their payload's details). */
export interface AlertNotice {
  /** The alert's id (FIRING and RESOLVED of one alert share it). */
  readonly id: number;
  readonly kind: MonitorEventKind;
  readonly monitor: string;
  /** The model the monitor watches (a deployment's first model, or the external model's name). */
  readonly model: string | null;
  readonly deployment: string | null;
  readonly rule: string;
  readonly value: number | null;
  readonly window_start: number | null;
  readonly time: number;
}
