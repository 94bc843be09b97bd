import { Type, type Static } from '@sinclair/typebox';
import { KeyValueMap } from './http-schemas.js';

/**
 * Native API shapes (snake_case JSON). The same schemas validate requests, serialize responses and make the OpenAPI
 * document; each schema's static type has its name, so the server, the SDK and the web UI share one declaration.
 */

/** A double that JSON cannot hold is sent as "NaN", "Infinity" or "-Infinity". */
export const Double = Type.Union([Type.Number(), Type.Literal('NaN'), Type.Literal('Infinity'), Type.Literal('-Infinity')]);
export type Double = Static<typeof Double>;
export const ViewType = Type.Union([Type.Literal('ACTIVE_ONLY'), Type.Literal('DELETED_ONLY'), Type.Literal('ALL')]);
export type ViewType = Static<typeof ViewType>;
export const RunStatus = Type.Union([Type.Literal('RUNNING'), Type.Literal('SCHEDULED'), Type.Literal('FINISHED'), Type.Literal('FAILED'), Type.Literal('KILLED')]);
export type RunStatus = Static<typeof RunStatus>;
export const Lifecycle = Type.Union([Type.Literal('active'), Type.Literal('deleted')]);
export type Lifecycle = Static<typeof Lifecycle>;

export const Experiment = Type.Object(
  {
    experiment_id: Type.String(),
    name: Type.String(),
    artifact_location: Type.String(),
    lifecycle_stage: Lifecycle,
    creation_time: Type.Integer(),
    last_update_time: Type.Integer(),
    tags: KeyValueMap,
    project: Type.String({ description: 'The project it belongs to' }),
  },
  { $id: 'Experiment' },
);
export type Experiment = Static<typeof Experiment>;

export const LatestMetric = Type.Object({ value: Double, step: Type.Integer(), timestamp: Type.Integer() });
export type LatestMetric = Static<typeof LatestMetric>;

export const DatasetInput = Type.Object({
  name: Type.String(),
  digest: Type.String(),
  source_type: Type.String(),
  source: Type.String(),
  schema: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  profile: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  tags: Type.Optional(KeyValueMap),
});
export type DatasetInput = Static<typeof DatasetInput>;

export const Run = Type.Object(
  {
    run_id: Type.String(),
    run_name: Type.String(),
    experiment_id: Type.String(),
    user_id: Type.String(),
    status: RunStatus,
    start_time: Type.Integer(),
    end_time: Type.Union([Type.Integer(), Type.Null()]),
    artifact_uri: Type.String(),
    lifecycle_stage: Lifecycle,
    params: KeyValueMap,
    tags: KeyValueMap,
    metrics: Type.Record(Type.String(), LatestMetric, { description: 'latest value of each metric (highest step, then latest timestamp)' }),
    dataset_inputs: Type.Array(DatasetInput),
  },
  { $id: 'Run' },
);
export type Run = Static<typeof Run>;

export const ExperimentIdParams = Type.Object({ experiment_id: Type.String({ maxLength: 64 }) });
export type ExperimentIdParams = Static<typeof ExperimentIdParams>;
export const RunIdParams = Type.Object({ run_id: Type.String({ maxLength: 256 }) });
export type RunIdParams = Static<typeof RunIdParams>;

export const CreateExperimentBody = Type.Object(
  {
    name: Type.String(),
    artifact_location: Type.Optional(Type.String()),
    tags: Type.Optional(KeyValueMap),
    project: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'The project it belongs to (default: the default project)' })),
  },
  { additionalProperties: false },
);
export type CreateExperimentBody = Static<typeof CreateExperimentBody>;
export const UpdateExperimentBody = Type.Object({ name: Type.String() }, { additionalProperties: false });
export type UpdateExperimentBody = Static<typeof UpdateExperimentBody>;
export const SetTagBody = Type.Object({ key: Type.String(), value: Type.String() }, { additionalProperties: false });
export type SetTagBody = Static<typeof SetTagBody>;
export const TagKeyQuery = Type.Object({ key: Type.String() });
export type TagKeyQuery = Static<typeof TagKeyQuery>;

export const ListQuery = Type.Object({
  project: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Only the experiments of this project (an unknown one matches none)' })),
  filter: Type.Optional(Type.String()),
  order_by: Type.Optional(Type.Array(Type.String())),
  view_type: Type.Optional(ViewType),
  max_results: Type.Optional(Type.Integer({ minimum: 1 })),
  page_token: Type.Optional(Type.String()),
});
export type ListQuery = Static<typeof ListQuery>;

export const CreateRunBody = Type.Object(
  {
    experiment_id: Type.String(),
    run_name: Type.Optional(Type.String()),
    start_time: Type.Optional(Type.Integer({ minimum: 0 })),
    user_id: Type.Optional(Type.String()),
    tags: Type.Optional(KeyValueMap),
  },
  { additionalProperties: false },
);
export type CreateRunBody = Static<typeof CreateRunBody>;
export const UpdateRunBody = Type.Object(
  { status: Type.Optional(RunStatus), end_time: Type.Optional(Type.Integer({ minimum: 0 })), run_name: Type.Optional(Type.String()) },
  { additionalProperties: false },
);
export type UpdateRunBody = Static<typeof UpdateRunBody>;
export const SearchRunsBody = Type.Object(
  {
    experiment_ids: Type.Array(Type.String(), { minItems: 1 }),
    filter: Type.Optional(Type.String()),
    order_by: Type.Optional(Type.Array(Type.String())),
    view_type: Type.Optional(ViewType),
    max_results: Type.Optional(Type.Integer({ minimum: 1 })),
    page_token: Type.Optional(Type.String()),
    offset: Type.Optional(Type.Integer({ minimum: 0, description: 'Skip this many runs (random access for tables); instead of page_token' })),
  },
  { additionalProperties: false },
);
export type SearchRunsBody = Static<typeof SearchRunsBody>;
export const CountRunsBody = Type.Object(
  {
    experiment_ids: Type.Array(Type.String(), { minItems: 1 }),
    filter: Type.Optional(Type.String()),
    view_type: Type.Optional(ViewType),
    group_by: Type.Optional(Type.String({ description: 'A param or tag (params.<key>, tags.<key>): also count runs per value' })),
    max_groups: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);
export type CountRunsBody = Static<typeof CountRunsBody>;
export const RunCounts = Type.Object({
  count: Type.Integer(),
  groups: Type.Optional(
    Type.Object({
      entity: Type.Union([Type.Literal('param'), Type.Literal('tag')]),
      key: Type.String(),
      values: Type.Array(Type.Object({ value: Type.Union([Type.String(), Type.Null()]), count: Type.Integer() })),
    }),
  ),
});
export type RunCounts = Static<typeof RunCounts>;
export const ExperimentStats = Type.Object({ experiment_id: Type.String(), runs: Type.Integer(), running: Type.Integer(), last_activity: Type.Union([Type.Integer(), Type.Null()]) });
export type ExperimentStats = Static<typeof ExperimentStats>;
export const ExperimentKeys = Type.Object({ metrics: Type.Array(Type.String()), params: Type.Array(Type.String()), tags: Type.Array(Type.String()) });
export type ExperimentKeys = Static<typeof ExperimentKeys>;
export const MetricPoint = Type.Object(
  { key: Type.String(), value: Double, timestamp: Type.Optional(Type.Integer({ minimum: 0 })), step: Type.Optional(Type.Integer()) },
  { additionalProperties: false },
);
export type MetricPoint = Static<typeof MetricPoint>;
export const LogBody = Type.Object(
  {
    metrics: Type.Optional(Type.Array(MetricPoint)),
    params: Type.Optional(KeyValueMap),
    tags: Type.Optional(KeyValueMap),
  },
  { additionalProperties: false },
);
export type LogBody = Static<typeof LogBody>;
export const LogInputsBody = Type.Object({ datasets: Type.Array(DatasetInput) }, { additionalProperties: false });
export type LogInputsBody = Static<typeof LogInputsBody>;

export const HistoryQuery = Type.Object({
  key: Type.String(),
  max_results: Type.Optional(Type.Integer({ minimum: 1 })),
  page_token: Type.Optional(Type.String()),
  max_points: Type.Optional(Type.Integer({ minimum: 2 })),
  start_step: Type.Optional(Type.Integer()),
  end_step: Type.Optional(Type.Integer()),
});
export type HistoryQuery = Static<typeof HistoryQuery>;
export const MetricHistory = Type.Object(
  {
    key: Type.String(),
    steps: Type.Array(Type.Integer()),
    timestamps: Type.Array(Type.Integer()),
    values: Type.Array(Double),
    downsampled: Type.Boolean(),
    total_points: Type.Optional(Type.Integer()),
    next_page_token: Type.Optional(Type.String()),
  },
  { $id: 'MetricHistory' },
);
export type MetricHistory = Static<typeof MetricHistory>;

