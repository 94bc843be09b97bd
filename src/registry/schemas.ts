import { Type } from '@sinclair/typebox';
import { KeyValueMap } from '../tracking/schemas.js';

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
