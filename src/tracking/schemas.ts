import { Type, type Static } from '@sinclair/typebox';
import { KeyValueMap } from '../platform/http/schemas.js';

/** Native API shapes (snake_case JSON). The same schemas validate requests, serialize responses and make the OpenAPI document. */

/** A double that JSON cannot hold is sent as "NaN", "Infinity" or "-Infinity". */
export const Double = Type.Union([Type.Number(), Type.Literal('NaN'), Type.Literal('Infinity'), Type.Literal('-Infinity')]);
export const ViewType = Type.Union([Type.Literal('ACTIVE_ONLY'), Type.Literal('DELETED_ONLY'), Type.Literal('ALL')]);
export const RunStatus = Type.Union([Type.Literal('RUNNING'), Type.Literal('SCHEDULED'), Type.Literal('FINISHED'), Type.Literal('FAILED'), Type.Literal('KILLED')]);
export const Lifecycle = Type.Union([Type.Literal('active'), Type.Literal('deleted')]);

export const Experiment = Type.Object(
  {
    experiment_id: Type.String(),
    name: Type.String(),
    artifact_location: Type.String(),
    lifecycle_stage: Lifecycle,
    creation_time: Type.Integer(),
    last_update_time: Type.Integer(),
    tags: KeyValueMap,
  },
  { $id: 'Experiment' },
);

export const LatestMetric = Type.Object({ value: Type.Unknown({ description: 'number, or "NaN" / "Infinity" / "-Infinity"' }), step: Type.Integer(), timestamp: Type.Integer() });

export const DatasetInput = Type.Object({
  name: Type.String(),
  digest: Type.String(),
  source_type: Type.String(),
  source: Type.String(),
  schema: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  profile: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  tags: Type.Optional(KeyValueMap),
});

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

export const ExperimentIdParams = Type.Object({ experiment_id: Type.String({ maxLength: 64 }) });
export const RunIdParams = Type.Object({ run_id: Type.String({ maxLength: 256 }) });

export const CreateExperimentBody = Type.Object(
  { name: Type.String(), artifact_location: Type.Optional(Type.String()), tags: Type.Optional(KeyValueMap) },
  { additionalProperties: false },
);
export const UpdateExperimentBody = Type.Object({ name: Type.String() }, { additionalProperties: false });
export const SetTagBody = Type.Object({ key: Type.String(), value: Type.String() }, { additionalProperties: false });
export const TagKeyQuery = Type.Object({ key: Type.String() });

export const ListQuery = Type.Object({
  filter: Type.Optional(Type.String()),
  order_by: Type.Optional(Type.Array(Type.String())),
  view_type: Type.Optional(ViewType),
  max_results: Type.Optional(Type.Integer({ minimum: 1 })),
  page_token: Type.Optional(Type.String()),
});

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
export const UpdateRunBody = Type.Object(
  { status: Type.Optional(RunStatus), end_time: Type.Optional(Type.Integer({ minimum: 0 })), run_name: Type.Optional(Type.String()) },
  { additionalProperties: false },
);
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
export const ExperimentKeys = Type.Object({ metrics: Type.Array(Type.String()), params: Type.Array(Type.String()), tags: Type.Array(Type.String()) });
export const MetricPoint = Type.Object(
  { key: Type.String(), value: Double, timestamp: Type.Optional(Type.Integer({ minimum: 0 })), step: Type.Optional(Type.Integer()) },
  { additionalProperties: false },
);
export const LogBody = Type.Object(
  {
    metrics: Type.Optional(Type.Array(MetricPoint)),
    params: Type.Optional(KeyValueMap),
    tags: Type.Optional(KeyValueMap),
  },
  { additionalProperties: false },
);
export const LogInputsBody = Type.Object({ datasets: Type.Array(DatasetInput) }, { additionalProperties: false });

export const HistoryQuery = Type.Object({
  key: Type.String(),
  max_results: Type.Optional(Type.Integer({ minimum: 1 })),
  page_token: Type.Optional(Type.String()),
  max_points: Type.Optional(Type.Integer({ minimum: 2 })),
  start_step: Type.Optional(Type.Integer()),
  end_step: Type.Optional(Type.Integer()),
});
export const MetricHistory = Type.Object(
  {
    key: Type.String(),
    steps: Type.Array(Type.Integer()),
    timestamps: Type.Array(Type.Integer()),
    values: Type.Array(Type.Unknown(), { description: 'numbers, or "NaN" / "Infinity" / "-Infinity"' }),
    downsampled: Type.Boolean(),
    total_points: Type.Optional(Type.Integer()),
    next_page_token: Type.Optional(Type.String()),
  },
  { $id: 'MetricHistory' },
);

export type CreateExperimentBody = Static<typeof CreateExperimentBody>;
export type ListQuery = Static<typeof ListQuery>;
