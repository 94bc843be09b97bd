import { Type, type Static } from '@sinclair/typebox';

/**
 * Native serving API shapes (deployments, their revisions and payloads). The same schemas validate requests,
 * serialize responses and make the OpenAPI document.
 */

const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Integer>>(t: T) => Type.Union([t, Type.Null()]);

export const ModelUri = Type.String({ minLength: 1, maxLength: 600, description: 'models:/NAME@ALIAS (followed: the deployment rolls forward when the alias moves), models:/NAME/VERSION, or models:/NAME/latest' });

export const Target = Type.Object(
  {
    model: ModelUri,
    weight: Type.Number({ minimum: 0, maximum: 1_000_000, description: 'share of the traffic = weight / sum of weights (default 1)' }),
  },
  { additionalProperties: false },
);
export type Target = Static<typeof Target>;

export const Shadow = Type.Object(
  {
    model: ModelUri,
    fraction: Type.Number({ minimum: 0, maximum: 1, description: 'the fraction of requests copied to the shadow (its answers are logged, never returned)' }),
  },
  { additionalProperties: false },
);

export const Batching = Type.Object(
  {
    enabled: Type.Boolean({ description: 'combine concurrent requests along the first (dynamic) dimension' }),
    max_batch_size: Type.Integer({ minimum: 1, maximum: 100_000, description: 'rows per batch' }),
    max_queue_delay_ms: Type.Number({ minimum: 0, maximum: 10_000, description: 'how long the oldest queued request may wait for more rows (0: no wait, batches form while the model is busy)' }),
    max_queue_size: Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'requests waiting; beyond it, 503 with Retry-After' }),
    timeout_ms: Type.Integer({ minimum: 1, maximum: 600_000, description: 'a request still queued after this long fails with 503' }),
  },
  { additionalProperties: false },
);
export type Batching = Static<typeof Batching>;

export const PayloadLogConfig = Type.Object(
  { sample_rate: Type.Number({ minimum: 0, maximum: 1, description: 'fraction of requests written to the payload log (default 1: all)' }) },
  { additionalProperties: false },
);

export const Resources = Type.Object(
  {
    sessions: Type.Integer({ minimum: 1, maximum: 64, description: 'onnxruntime sessions (worker threads) per version' }),
    intra_op_threads: Type.Integer({ minimum: 0, maximum: 256, description: "threads inside one session's operators (0: onnxruntime's default)" }),
  },
  { additionalProperties: false },
);

export const Guard = Type.Object(
  {
    max_error_rate: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: "a candidate whose share of failed requests over the window passes this loses its traffic" })),
    max_p99_ms: Type.Optional(Type.Number({ minimum: 0, description: 'a candidate whose p99 latency over the window passes this loses its traffic' })),
    window_seconds: Type.Integer({ minimum: 1, maximum: 86_400 }),
    min_requests: Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'requests a candidate must have answered in the window before the guard judges it' }),
  },
  { additionalProperties: false, description: 'Canary guard: watches every target but the first (the candidates)' },
);
export type Guard = Static<typeof Guard>;

/** A deployment's configuration, complete (as stored and returned). */
export const DeploymentConfig = Type.Object(
  {
    targets: Type.Array(Target, { minItems: 1, maxItems: 16, description: 'the versions that receive traffic; the first is the stable one, the others candidates' }),
    shadow: Type.Union([Shadow, Type.Null()]),
    sticky_header: Type.Union([Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9-]+$' }), Type.Null()], { description: 'requests with the same value of this header go to the same target' }),
    batching: Batching,
    payload_log: PayloadLogConfig,
    resources: Resources,
    guard: Type.Union([Guard, Type.Null()]),
  },
  { additionalProperties: false, $id: 'DeploymentConfig' },
);
export type DeploymentConfig = Static<typeof DeploymentConfig>;

/** What a create or update may give: `model` is the one-target shorthand; parts left out keep their value (defaults on create). */
export const DeploymentConfigInput = Type.Object(
  {
    model: Type.Optional(ModelUri),
    targets: Type.Optional(Type.Array(Type.Object({ model: ModelUri, weight: Type.Optional(Type.Number({ minimum: 0, maximum: 1_000_000 })) }, { additionalProperties: false }), { minItems: 1, maxItems: 16 })),
    shadow: Type.Optional(Type.Union([Shadow, Type.Null()])),
    sticky_header: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9-]+$' }), Type.Null()])),
    batching: Type.Optional(Type.Partial(Batching, { additionalProperties: false })),
    payload_log: Type.Optional(Type.Partial(PayloadLogConfig, { additionalProperties: false })),
    resources: Type.Optional(Type.Partial(Resources, { additionalProperties: false })),
    guard: Type.Optional(Type.Union([Guard, Type.Null()])),
  },
  { additionalProperties: false },
);
export type DeploymentConfigInput = Static<typeof DeploymentConfigInput>;

export const CreateDeploymentBody = Type.Composite(
  [
    Type.Object({
      name: Type.String({ minLength: 1, maxLength: 128, description: "letters, digits, '.', '_' and '-'; the OIP model name" }),
      description: Type.Optional(Type.String({ maxLength: 5000 })),
      reason: Type.Optional(Type.String({ maxLength: 1000 })),
    }),
    DeploymentConfigInput,
  ],
  { additionalProperties: false },
);
export type CreateDeploymentBody = Static<typeof CreateDeploymentBody>;

export const UpdateDeploymentBody = Type.Composite([Type.Object({ description: Type.Optional(Type.String({ maxLength: 5000 })), reason: Type.Optional(Type.String({ maxLength: 1000 })) }), DeploymentConfigInput], {
  additionalProperties: false,
});
export type UpdateDeploymentBody = Static<typeof UpdateDeploymentBody>;

export const RollbackBody = Type.Object(
  {
    to: Type.Optional(Type.Integer({ minimum: 1, description: 'the revision to restore (default: the one before the current)' })),
    reason: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);

/** A model URI of the configuration, resolved to a registered model version. */
export const ResolvedTarget = Type.Object({
  model: Type.String({ description: 'the URI as configured' }),
  name: Type.String({ description: 'the registered model' }),
  version: Type.Integer(),
  weight: Type.Number(),
});
export type ResolvedTarget = Static<typeof ResolvedTarget>;

export const Resolved = Type.Object({
  targets: Type.Array(ResolvedTarget),
  shadow: Type.Union([Type.Object({ model: Type.String(), name: Type.String(), version: Type.Integer(), fraction: Type.Number() }), Type.Null()]),
});
export type Resolved = Static<typeof Resolved>;

export const REVISION_KINDS = ['created', 'updated', 'rolled_back', 'alias_moved', 'guard_tripped'] as const;

export const Revision = Type.Object(
  {
    revision: Type.Integer(),
    kind: Type.String({ description: 'created, updated, rolled_back, alias_moved (a followed alias moved) or guard_tripped (the canary guard took a candidate out)' }),
    config: DeploymentConfig,
    resolved: Resolved,
    actor: Type.String(),
    reason: Nullable(Type.String()),
    time: Type.Integer(),
  },
  { $id: 'DeploymentRevision' },
);
export type Revision = Static<typeof Revision>;

/** How one served version is doing in the process that answered (each replica has its own). */
export const VersionState = Type.Object({
  name: Type.String(),
  version: Type.Integer(),
  state: Type.String({ description: 'absent (not loaded yet: loaded at the first request), loading, ready or failed' }),
  error: Type.Optional(Type.String()),
});

export const Deployment = Type.Object(
  {
    name: Type.String(),
    project: Type.String(),
    description: Nullable(Type.String()),
    revision: Type.Integer(),
    config: DeploymentConfig,
    resolved: Resolved,
    created_by: Type.String(),
    creation_time: Type.Integer(),
    last_update_time: Type.Integer(),
    status: Type.Optional(Type.Array(VersionState, { description: 'what the answering server has loaded' })),
  },
  { $id: 'Deployment' },
);
export type Deployment = Static<typeof Deployment>;

export const PayloadRecord = Type.Object(
  {
    request_id: Type.String(),
    time: Type.Integer(),
    model: Type.String(),
    version: Type.Integer(),
    protocol: Type.String({ description: 'oip-rest, oip-grpc or mlflow' }),
    status: Type.Integer({ description: 'the HTTP status answered' }),
    latency_ms: Type.Number(),
    inputs: Type.Array(Type.Unknown(), { description: 'the decoded inputs, as OIP tensors' }),
    outputs: Type.Union([Type.Array(Type.Unknown()), Type.Null()]),
    error: Nullable(Type.String()),
    shadow: Type.Union([Type.Object({ version: Type.Integer(), outputs: Type.Union([Type.Array(Type.Unknown()), Type.Null()]), agrees: Type.Union([Type.Boolean(), Type.Null()]) }), Type.Null()]),
  },
  { $id: 'PayloadRecord' },
);
export type PayloadRecord = Static<typeof PayloadRecord>;

export const PayloadQuery = Type.Object({
  version: Type.Optional(Type.Integer({ minimum: 1 })),
  request_id: Type.Optional(Type.String({ maxLength: 256 })),
  start_time: Type.Optional(Type.Integer({ minimum: 0 })),
  end_time: Type.Optional(Type.Integer({ minimum: 0 })),
  max_results: Type.Optional(Type.Integer({ minimum: 1 })),
  page_token: Type.Optional(Type.String({ maxLength: 100 })),
  format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('jsonl'), Type.Literal('parquet')], { description: 'json (a page), or an export of every match: jsonl or parquet' })),
});
export type PayloadQuery = Static<typeof PayloadQuery>;

/** Per-version live figures from this server's own counters. */
export const VersionStats = Type.Object({
  name: Type.String(),
  version: Type.Integer(),
  role: Type.String({ description: 'target or shadow' }),
  weight: Type.Number(),
  requests: Type.Integer({ description: 'answered since the server started' }),
  errors: Type.Integer(),
  rate_per_second: Type.Number({ description: 'requests per second over the last minute' }),
  error_rate: Type.Number({ description: 'share of failed requests over the last minute' }),
  p50_ms: Type.Union([Type.Number(), Type.Null()]),
  p99_ms: Type.Union([Type.Number(), Type.Null()]),
  disagreement_rate: Type.Optional(Type.Union([Type.Number(), Type.Null()], { description: "shadow only: share of mirrored requests whose answer differed from the primary's" })),
});
export type VersionStats = Static<typeof VersionStats>;
