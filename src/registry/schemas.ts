import { Type } from '@sinclair/typebox';
import { KeyValueMap } from '../platform/http/schemas.js';

/** Native registry API shapes. The same schemas validate requests, serialize responses and make the OpenAPI document. */

export const ModelVersion = Type.Object(
  {
    name: Type.String(),
    version: Type.Integer(),
    creation_time: Type.Integer(),
    last_update_time: Type.Integer(),
    user_id: Type.Union([Type.String(), Type.Null()]),
    description: Type.Union([Type.String(), Type.Null()]),
    stage: Type.String({ description: 'None, Staging, Production or Archived (MLflow stages)' }),
    source: Type.String({ description: 'as given at registration: runs:/, models:/, mlflow-artifacts:/ or any URI' }),
    storage_location: Type.String({ description: 'the source resolved to an artifact URI' }),
    run_id: Type.Union([Type.String(), Type.Null()]),
    run_link: Type.Union([Type.String(), Type.Null()]),
    logged_model_id: Type.Union([Type.String(), Type.Null()]),
    status: Type.Union([Type.Literal('PENDING_REGISTRATION'), Type.Literal('FAILED_REGISTRATION'), Type.Literal('READY')]),
    status_message: Type.Union([Type.String(), Type.Null()]),
    servable: Type.Boolean({ description: 'an ONNX model that loads and matches its signature' }),
    package: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], { description: 'what inspecting the files found: flavors, signature, ONNX inputs and outputs, sizes' }),
    tags: KeyValueMap,
    aliases: Type.Array(Type.String()),
  },
  { $id: 'ModelVersion' },
);

export const RegisteredModel = Type.Object(
  {
    name: Type.String(),
    description: Type.Union([Type.String(), Type.Null()]),
    user_id: Type.Union([Type.String(), Type.Null()]),
    creation_time: Type.Integer(),
    last_update_time: Type.Integer(),
    tags: KeyValueMap,
    aliases: Type.Record(Type.String(), Type.Integer(), { description: 'alias → version' }),
    latest_versions: Type.Array(ModelVersion, { description: 'the latest version in each stage' }),
  },
  { $id: 'RegisteredModel' },
);

export const ModelEvent = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    version: Type.Union([Type.Integer(), Type.Null()]),
    kind: Type.String(),
    alias: Type.Union([Type.String(), Type.Null()]),
    actor: Type.String(),
    time: Type.Integer(),
    reason: Type.Union([Type.String(), Type.Null()]),
    details: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  },
  { $id: 'ModelEvent' },
);

export const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 256 }) });
export const VersionParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 256 }), version: Type.String({ maxLength: 12 }) });
export const SearchQuery = Type.Object({
  filter: Type.Optional(Type.String()),
  order_by: Type.Optional(Type.Array(Type.String())),
  max_results: Type.Optional(Type.Integer({ minimum: 1 })),
  page_token: Type.Optional(Type.String()),
});
export const CreateModelBody = Type.Object({ name: Type.String(), description: Type.Optional(Type.String()), tags: Type.Optional(KeyValueMap) }, { additionalProperties: false });
export const UpdateModelBody = Type.Object({ name: Type.Optional(Type.String({ description: 'rename' })), description: Type.Optional(Type.String()) }, { additionalProperties: false });
export const CreateVersionBody = Type.Object(
  {
    source: Type.String({ description: 'runs:/<run_id>/<path>, models:/<logged model id>, models:/<name>/<version>, mlflow-artifacts:/<path> or any URI' }),
    run_id: Type.Optional(Type.String()),
    run_link: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
    tags: Type.Optional(KeyValueMap),
  },
  { additionalProperties: false },
);
export const UpdateVersionBody = Type.Object(
  {
    description: Type.Optional(Type.String()),
    stage: Type.Optional(Type.String({ description: 'None, Staging, Production or Archived' })),
    archive_existing_versions: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export const TagValueBody = Type.Object({ value: Type.String() }, { additionalProperties: false });
export const SetAliasBody = Type.Object({ version: Type.Integer({ minimum: 1 }), reason: Type.Optional(Type.String({ maxLength: 5000 })) }, { additionalProperties: false });
export const HistoryQuery = Type.Object({ after_id: Type.Optional(Type.Integer({ minimum: 0 })), max_results: Type.Optional(Type.Integer({ minimum: 1 })) });
export const ResolveQuery = Type.Object({ uri: Type.String({ description: 'models:/<name>/<version>, models:/<name>@<alias> or models:/<name>/latest' }) });

export const Policy = Type.Object(
  {
    rules: Type.Array(Type.String(), { description: 'e.g. "metrics.val_accuracy >= 0.85", "metrics.val_accuracy >= champion - 0.005"' }),
    require_data_validation: Type.Boolean({ description: "the candidate run's training dataset versions must have a passing validation" }),
    require_approval: Type.Boolean({ description: 'a user other than the requester must approve' }),
    description: Type.Optional(Type.String()),
  },
  { $id: 'PromotionPolicy' },
);
export const PolicyBody = Type.Object(
  {
    rules: Type.Optional(Type.Array(Type.String())),
    require_data_validation: Type.Optional(Type.Boolean()),
    require_approval: Type.Optional(Type.Boolean()),
    description: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export const Gate = Type.Object({ gate: Type.String(), passed: Type.Boolean(), message: Type.String(), details: Type.Optional(Type.Record(Type.String(), Type.Unknown())) });
export const PromotionOutcome = Type.Object(
  {
    request_id: Type.Union([Type.Integer(), Type.Null()]),
    name: Type.String(),
    version: Type.Integer(),
    alias: Type.String(),
    status: Type.Union([Type.Literal('PROMOTED'), Type.Literal('REJECTED'), Type.Literal('PENDING_APPROVAL')]),
    champion_version: Type.Union([Type.Integer(), Type.Null()]),
    gates: Type.Array(Gate),
    message: Type.String(),
    dry_run: Type.Boolean(),
  },
  { $id: 'PromotionOutcome' },
);
export const PromotionRequest = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    version: Type.Integer(),
    alias: Type.String(),
    status: Type.String(),
    requested_by: Type.String(),
    request_time: Type.Integer(),
    decided_by: Type.Union([Type.String(), Type.Null()]),
    decision_time: Type.Union([Type.Integer(), Type.Null()]),
    reason: Type.Union([Type.String(), Type.Null()]),
    gates: Type.Array(Gate),
  },
  { $id: 'PromotionRequest' },
);
export const PromoteBody = Type.Object(
  { alias: Type.String({ maxLength: 300 }), reason: Type.Optional(Type.String({ maxLength: 5000 })), dry_run: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
export const DecisionBody = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 5000 })) }, { additionalProperties: false });
