import { Type, type Static } from '@sinclair/typebox';
import { KeyValueMap, literals } from './http-schemas.js';
import { RunStatus } from './tracking-schemas.js';
import { MODEL_VERSION_STATUSES } from './registry-types.js';

/**
 * Native registry API shapes. The same schemas validate requests, serialize responses and make the OpenAPI document;
 * each schema's static type has its name. Properties are listed in the order the server builds them, which is the
 * order responses carry them.
 */

const JsonObject = Type.Record(Type.String(), Type.Unknown());
const NullableString = Type.Union([Type.String(), Type.Null()]);

// ------------------------------------------------------------------ model packages (what inspecting a version's files found)

/** MLflow's column types (`mlflow.types.DataType`). */
export const COLUMN_DATA_TYPES = ['boolean', 'integer', 'long', 'float', 'double', 'string', 'binary', 'datetime'] as const;
/** Composite column types of MLflow 2.10+ (`Array`, `Object`, `Map`, `AnyType`). */
export const COMPOSITE_COLUMN_TYPES = ['array', 'object', 'map', 'any'] as const;

export const ColumnDataType = literals(COLUMN_DATA_TYPES);
export type ColumnDataType = Static<typeof ColumnDataType>;
export const CompositeColumnType = literals(COMPOSITE_COLUMN_TYPES);
export type CompositeColumnType = Static<typeof CompositeColumnType>;

export const ColumnSpec = Type.Object(
  {
    name: Type.Optional(Type.String()),
    type: Type.Union([ColumnDataType, CompositeColumnType]),
    items: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'array: the element type, as MLflow writes it (e.g. {"type": "string"})' })),
    properties: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'object: the properties, as MLflow writes them' })),
    values: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'map: the value type, as MLflow writes it' })),
    required: Type.Optional(Type.Boolean({ description: 'written by MLflow 2.8+; absent means required' })),
  },
  { description: 'A column of a column-based schema' },
);
export type ColumnSpec = Static<typeof ColumnSpec>;

export const TensorSpec = Type.Object(
  { name: Type.Optional(Type.String()), dtype: Type.String({ description: 'a numpy dtype name: float32, int64, str, ...' }), shape: Type.Array(Type.Integer(), { description: '-1 is a variable dimension' }) },
  { description: 'A tensor of a tensor-based schema' },
);
export type TensorSpec = Static<typeof TensorSpec>;

export const SchemaSpec = Type.Union([
  Type.Object({ kind: Type.Literal('columns'), columns: Type.Array(ColumnSpec) }),
  Type.Object({ kind: Type.Literal('tensors'), tensors: Type.Array(TensorSpec) }),
]);
export type SchemaSpec = Static<typeof SchemaSpec>;

/** An inference parameter (MLflow 2.6+ `ParamSpec`). */
export const ParamSpec = Type.Object({
  name: Type.String(),
  type: ColumnDataType,
  default: Type.Unknown(),
  shape: Type.Union([Type.Array(Type.Integer()), Type.Null()], { description: 'null for a scalar, [-1] for a list' }),
});
export type ParamSpec = Static<typeof ParamSpec>;

export const Signature = Type.Object(
  { inputs: Type.Optional(SchemaSpec), outputs: Type.Optional(SchemaSpec), params: Type.Optional(Type.Array(ParamSpec)) },
  // No $id: a package holds it twice (its own signature and the MLmodel's), and one response may name an $id once.
  { description: 'An MLflow model signature, its JSON strings decoded' },
);
export type Signature = Static<typeof Signature>;

/**
 * `saved_input_example_info`: MLflow ≤2.16 writes `format: tf-serving` for ndarrays; 2.17+ adds `serving_input_path`.
 * Only `artifact_path` and `type` are checked; every other key is kept as the file has it.
 */
const asWritten = { description: 'a string as MLflow writes it; kept as the file has it' };
export const InputExampleInfo = Type.Object(
  {
    artifact_path: Type.String(),
    format: Type.Optional(Type.Unknown(asWritten)),
    pandas_orient: Type.Optional(Type.Unknown(asWritten)),
    serving_input_path: Type.Optional(Type.Unknown(asWritten)),
    type: Type.String(),
  },
  { additionalProperties: Type.Unknown() },
);
export type InputExampleInfo = Static<typeof InputExampleInfo>;

/** MLflow's `MLmodel` file as parsed: the keys it knows, then every other top-level key under `extra`. */
export const MLmodel = Type.Object(
  {
    flavors: Type.Record(Type.String(), JsonObject, { description: 'flavor name → its configuration, as written' }),
    extra: Type.Record(Type.String(), Type.Unknown(), { description: 'every other top-level key, as written (e.g. time_created of MLflow 0.x, resources, model_id)' }),
    artifact_path: Type.Optional(Type.String()),
    databricks_runtime: Type.Optional(Type.String()),
    metadata: Type.Optional(JsonObject),
    mlflow_version: Type.Optional(Type.String()),
    model_size_bytes: Type.Optional(Type.Integer()),
    model_uuid: Type.Optional(Type.String()),
    run_id: Type.Optional(Type.String()),
    saved_input_example_info: Type.Optional(InputExampleInfo),
    signature: Type.Optional(Signature),
    utc_time_created: Type.Optional(Type.String()),
  },
  { $id: 'MLmodel' },
);
export type MLmodel = Static<typeof MLmodel>;

export const OnnxTensor = Type.Object({
  name: Type.String(),
  type: Type.String({ description: "onnxruntime's element type name: float32, float64, int64, int32, bool, string, uint8, float16, ..." }),
  shape: Type.Array(Type.Union([Type.Integer(), Type.String(), Type.Null()]), { description: 'fixed dimensions as numbers, symbolic ones by name, unknown ones as null' }),
});
export type OnnxTensor = Static<typeof OnnxTensor>;

const onnxInfoFields = {
  ir_version: Type.Integer(),
  opset: Type.Array(Type.Object({ domain: Type.String(), version: Type.Integer() })),
  producer_name: Type.String(),
  producer_version: Type.String(),
  domain: Type.String(),
  model_version: Type.Integer(),
  graph_name: Type.String(),
  doc_string: Type.String(),
  metadata: KeyValueMap,
  inputs: Type.Array(OnnxTensor, { description: 'graph inputs a caller feeds (initializers excluded)' }),
  outputs: Type.Array(OnnxTensor),
  size_bytes: Type.Integer({ description: 'the model file plus any external data files' }),
  sha256: Type.String({ description: 'of the model file, hex' }),
};
/** What inspecting ONNX bytes found: the protobuf's header, and the inputs and outputs as onnxruntime loaded them. */
export const OnnxInfo = Type.Object(onnxInfoFields, { $id: 'OnnxInfo' });
export type OnnxInfo = Static<typeof OnnxInfo>;

export const ModelPackage = Type.Object(
  {
    flavors: Type.Optional(Type.Array(Type.String(), { description: "flavor names from MLmodel (['onnx'] for a bare .onnx file)" })),
    mlmodel: Type.Optional(MLmodel),
    files: Type.Optional(Type.Integer({ description: 'files of the model (a bare file: 1)' })),
    size_bytes: Type.Optional(Type.Integer({ description: 'their total size' })),
    warnings: Type.Optional(Type.Array(Type.String(), { description: 'what is worth knowing but does not stop registration (e.g. a missing input example file)' })),
    status: Type.Optional(Type.Union([Type.Literal('READY'), Type.Literal('FAILED_REGISTRATION')])),
    status_message: Type.Optional(Type.String()),
    servable: Type.Optional(Type.Boolean()),
    not_servable_reason: Type.Optional(Type.String()),
    onnx: Type.Optional(Type.Object({ path: Type.String(), ...onnxInfoFields }, { description: 'the inspected ONNX file' })),
    signature: Type.Optional(Signature),
    signature_source: Type.Optional(Type.Union([Type.Literal('mlmodel'), Type.Literal('onnx')], { description: "mlmodel: the MLmodel's signature; onnx: derived from the ONNX model, which had none" })),
    input_example: Type.Optional(
      Type.Object({ path: Type.String(), type: Type.String(), format: Type.Optional(Type.String()), serving_input_path: Type.Optional(Type.String()), size_bytes: Type.Optional(Type.Integer()) }),
    ),
  },
  {
    $id: 'ModelPackage',
    description: 'What inspecting the files found; files outside the server\'s store are not inspected (flavors empty, not_servable_reason says why), and a failed inspection records nothing',
  },
);
export type ModelPackage = Static<typeof ModelPackage>;

// ------------------------------------------------------------------ registered models and versions

export const ModelVersionStatus = literals(MODEL_VERSION_STATUSES);
export type ModelVersionStatus = Static<typeof ModelVersionStatus>;

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
    status: ModelVersionStatus,
    status_message: Type.Union([Type.String(), Type.Null()]),
    servable: Type.Boolean({ description: 'an ONNX model that loads and matches its signature' }),
    package: Type.Union([ModelPackage, Type.Null()], { description: 'what inspecting the files found: flavors, signature, ONNX inputs and outputs, sizes; null while pending' }),
    tags: KeyValueMap,
    aliases: Type.Array(Type.String()),
  },
  { $id: 'ModelVersion' },
);
export type ModelVersion = Static<typeof ModelVersion>;

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
export type RegisteredModel = Static<typeof RegisteredModel>;

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
export type ModelEvent = Static<typeof ModelEvent>;

export const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 256 }) });
export type NameParams = Static<typeof NameParams>;
export const VersionParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 256 }), version: Type.String({ maxLength: 12 }) });
export type VersionParams = Static<typeof VersionParams>;
export const SearchQuery = Type.Object({
  filter: Type.Optional(Type.String()),
  order_by: Type.Optional(Type.Array(Type.String())),
  max_results: Type.Optional(Type.Integer({ minimum: 1 })),
  page_token: Type.Optional(Type.String()),
});
export type SearchQuery = Static<typeof SearchQuery>;
export const ModelSearchQuery = Type.Composite([
  SearchQuery,
  Type.Object({ project: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Only the registered models of this project (an unknown one matches none)' })) }),
]);
export type ModelSearchQuery = Static<typeof ModelSearchQuery>;
export const CreateModelBody = Type.Object(
  {
    name: Type.String(),
    description: Type.Optional(Type.String()),
    tags: Type.Optional(KeyValueMap),
    project: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'The project it belongs to (default: the default project)' })),
  },
  { additionalProperties: false },
);
export type CreateModelBody = Static<typeof CreateModelBody>;
export const UpdateModelBody = Type.Object({ name: Type.Optional(Type.String({ description: 'rename' })), description: Type.Optional(Type.String()) }, { additionalProperties: false });
export type UpdateModelBody = Static<typeof UpdateModelBody>;
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
export type CreateVersionBody = Static<typeof CreateVersionBody>;
export const UpdateVersionBody = Type.Object(
  {
    description: Type.Optional(Type.String()),
    stage: Type.Optional(Type.String({ description: 'None, Staging, Production or Archived' })),
    archive_existing_versions: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type UpdateVersionBody = Static<typeof UpdateVersionBody>;
export const TagValueBody = Type.Object({ value: Type.String() }, { additionalProperties: false });
export type TagValueBody = Static<typeof TagValueBody>;
export const SetAliasBody = Type.Object({ version: Type.Integer({ minimum: 1 }), reason: Type.Optional(Type.String({ maxLength: 5000 })) }, { additionalProperties: false });
export type SetAliasBody = Static<typeof SetAliasBody>;
export const HistoryQuery = Type.Object({ after_id: Type.Optional(Type.Integer({ minimum: 0 })), max_results: Type.Optional(Type.Integer({ minimum: 1 })) });
export type HistoryQuery = Static<typeof HistoryQuery>;
export const ResolveQuery = Type.Object({ uri: Type.String({ description: 'models:/<name>/<version>, models:/<name>@<alias> or models:/<name>/latest' }) });
export type ResolveQuery = Static<typeof ResolveQuery>;

export const Policy = Type.Object(
  {
    rules: Type.Array(Type.String(), { description: 'e.g. "metrics.val_accuracy >= 0.85", "metrics.val_accuracy >= champion - 0.005"' }),
    require_data_validation: Type.Boolean({ description: "the candidate run's training dataset versions must have a passing validation" }),
    require_approval: Type.Boolean({ description: 'a user other than the requester must approve' }),
    description: Type.Optional(Type.String()),
  },
  { $id: 'PromotionPolicy' },
);
export type Policy = Static<typeof Policy>;
export const AliasPolicy = Type.Object({ alias: Type.String(), policy: Policy, updated_by: Type.String(), update_time: Type.Integer() });
export type AliasPolicy = Static<typeof AliasPolicy>;
export const PolicyBody = Type.Object(
  {
    rules: Type.Optional(Type.Array(Type.String())),
    require_data_validation: Type.Optional(Type.Boolean()),
    require_approval: Type.Optional(Type.Boolean()),
    description: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type PolicyBody = Static<typeof PolicyBody>;
export const Gate = Type.Object({ gate: Type.String(), passed: Type.Boolean(), message: Type.String(), details: Type.Optional(Type.Record(Type.String(), Type.Unknown())) });
export type Gate = Static<typeof Gate>;
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
export type PromotionOutcome = Static<typeof PromotionOutcome>;
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
export type PromotionRequest = Static<typeof PromotionRequest>;
export const PromoteBody = Type.Object(
  { alias: Type.String({ maxLength: 300 }), reason: Type.Optional(Type.String({ maxLength: 5000 })), dry_run: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
export type PromoteBody = Static<typeof PromoteBody>;
export const DecisionBody = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 5000 })) }, { additionalProperties: false });
export type DecisionBody = Static<typeof DecisionBody>;

// ------------------------------------------------------------------ reproduction

export const ReproductionRecipe = Type.Object(
  {
    model: Type.Object({
      name: Type.String(),
      version: Type.Integer(),
      source: Type.String(),
      storage_location: Type.String(),
      status: ModelVersionStatus,
      servable: Type.Boolean(),
    }),
    run: Type.Union([
      Type.Object({
        run_id: Type.String(),
        run_name: Type.String(),
        experiment_id: Type.String(),
        user_id: Type.String(),
        status: RunStatus,
        start_time: Type.Integer(),
        end_time: Type.Union([Type.Integer(), Type.Null()]),
      }),
      Type.Null(),
    ], { description: 'the source run; null when the version names none or it no longer exists' }),
    code: Type.Object({
      source_type: NullableString,
      entry_point: NullableString,
      git_commit: NullableString,
      git_repo: NullableString,
      git_branch: NullableString,
      git_dirty: Type.Union([Type.Boolean(), Type.Null()], { description: 'whether the working tree had uncommitted changes when the run started (kiln.source.git.dirty); null when not recorded' }),
      project_entry_point: NullableString,
    }),
    params: KeyValueMap,
    datasets: Type.Array(
      Type.Object({
        name: Type.String(),
        digest: Type.String(),
        source_type: Type.String(),
        source: Type.String(),
        context: NullableString,
        kiln_version: Type.Union([Type.Object({ name: Type.String(), version: Type.Integer(), digest: Type.String() }), Type.Null()], { description: 'the Kiln dataset version with this digest, if any' }),
      }),
    ),
    environment: Type.Object({
      runtime: KeyValueMap,
      node_version: Type.Union([Type.String(), Type.Null()], { description: 'kiln.runtime.node: the Node.js version of a run started by the TypeScript SDK' }),
      platform: Type.Union([Type.String(), Type.Null()], { description: 'kiln.runtime.platform' }),
      manifest: Type.Union([Type.String(), Type.Null()], { description: "kiln.runtime.manifest: the script's package.json" }),
      manifest_sha256: Type.Union([Type.String(), Type.Null()], { description: 'kiln.runtime.manifest.sha256' }),
      lockfile: Type.Union([Type.String(), Type.Null()], { description: 'kiln.runtime.lockfile: the lockfile beside the manifest' }),
      lockfile_sha256: Type.Union([Type.String(), Type.Null()], { description: 'kiln.runtime.lockfile.sha256' }),
      python_version: NullableString,
      requirements: NullableString,
      conda: NullableString,
      python_env: NullableString,
    }),
    gaps: Type.Array(Type.String(), { description: 'every piece missing for a faithful reproduction (no commit or repository recorded, uncommitted changes, a dataset outside Kiln, no pinned environment...); empty only when nothing is missing' }),
    steps: Type.Array(Type.String()),
  },
  { $id: 'ReproductionRecipe' },
);
export type ReproductionRecipe = Static<typeof ReproductionRecipe>;
