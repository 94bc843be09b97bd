import { Type } from '@sinclair/typebox';

/** Native API shapes for datasets. Profiles, schemas and reports are documented in docs/design/data-profiles.md. */

const Json = (description: string) => Type.Unknown({ description });

export const ManifestEntry = Type.Object({
  path: Type.String({ description: "relative '/'-separated path; no '..', not absolute" }),
  sha256: Type.String({ description: 'SHA-256 of the bytes, lowercase hex' }),
  bytes: Type.Integer({ minimum: 0 }),
});

export const Dataset = Type.Object(
  {
    name: Type.String(),
    description: Type.Union([Type.String(), Type.Null()]),
    user_id: Type.Union([Type.String(), Type.Null()]),
    creation_time: Type.Integer(),
    last_update_time: Type.Integer(),
    latest_version: Type.Union([Type.Integer(), Type.Null()]),
    version_count: Type.Integer(),
  },
  { $id: 'Dataset' },
);

const versionFields = {
  name: Type.String(),
  version: Type.Integer(),
  ref: Type.String({ description: 'name@vN' }),
  digest: Type.String({ description: 'SHA-256 of the file, or of the canonical manifest of several files' }),
  mlflow_digest: Type.String({ description: 'first 36 characters of digest (what MLflow dataset inputs carry)' }),
  format: Type.String(),
  rows: Type.Integer(),
  bytes: Type.Integer(),
  files: Type.Array(ManifestEntry),
  source: Type.Union([Type.String(), Type.Null()]),
  description: Type.Union([Type.String(), Type.Null()]),
  user_id: Type.Union([Type.String(), Type.Null()]),
  creation_time: Type.Integer(),
};

export const DatasetVersion = Type.Object(versionFields, { $id: 'DatasetVersion' });
export const DatasetVersionDetail = Type.Object(
  { ...versionFields, schema: Json('the inferred schema'), profile: Json('statistics per column') },
  { $id: 'DatasetVersionDetail' },
);

export const Validation = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    version: Type.Integer(),
    ref: Type.String(),
    schema_ref: Type.String({ description: 'name@vN, or a label of an inline schema' }),
    baseline: Type.Union([Type.String(), Type.Null()]),
    js_threshold: Type.Number(),
    ok: Type.Boolean({ description: 'false when there is an anomaly of severity ERROR' }),
    errors: Type.Integer(),
    warnings: Type.Integer(),
    anomalies: Type.Array(Json('{column, type, severity, message, details}')),
    statistics: Json('{columns_checked, anomalies, errors, warnings}'),
    schema: Json('the schema validated against'),
    user_id: Type.Union([Type.String(), Type.Null()]),
    creation_time: Type.Integer(),
  },
  { $id: 'DatasetValidation' },
);

export const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 256 }) });
export const VersionParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 256 }), version: Type.String({ maxLength: 32, description: 'v3, 3 or latest' }) });

export const ListDatasetsQuery = Type.Object({
  name_like: Type.Optional(Type.String({ description: "SQL LIKE pattern on the name, case-insensitive, e.g. 'weather%'" })),
  max_results: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  page_token: Type.Optional(Type.String()),
});
export const PageQuery = Type.Object({
  max_results: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  page_token: Type.Optional(Type.String()),
});

export const MissingBlobsBody = Type.Object({ sha256: Type.Array(Type.String(), { maxItems: 10000 }) }, { additionalProperties: false });

export const AddVersionBody = Type.Object(
  {
    files: Type.Array(ManifestEntry, { minItems: 1, maxItems: 10000 }),
    source: Type.Optional(Type.String({ maxLength: 5000 })),
    description: Type.Optional(Type.String({ maxLength: 5000 })),
  },
  { additionalProperties: false },
);

export const ValidateBody = Type.Object(
  {
    schema: Type.Optional(Json('a schema: {columns: [{name, type, nullable?, categories?, min?, max?}], allow_extra_columns?, require_rows?}')),
    schema_ref: Type.Optional(Type.String({ description: 'use the inferred schema of this version, e.g. weather@v1' })),
    schema_label: Type.Optional(Type.String({ maxLength: 500, description: 'names an inline schema in the history (e.g. its file name)' })),
    baseline: Type.Optional(Type.String({ description: 'version to compare distributions against (default: the schema_ref version)' })),
    js_threshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  },
  { additionalProperties: false },
);

export const DiffQuery = Type.Object({ a: Type.String({ description: 'e.g. weather@v1' }), b: Type.String({ description: 'e.g. weather@v2' }) });
