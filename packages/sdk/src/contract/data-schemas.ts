import { Type, type Static, type TNumber } from '@sinclair/typebox';
import { literals } from './http-schemas.js';
import { DATA_FORMATS } from './data-formats.js';

/**
 * Native API shapes for datasets; each schema's static type has its name. Profiles, schemas and reports are documented
 * in docs/design/data-profiles.md; the profiling library works on these same types. Properties are listed in the order
 * the library builds them, which is the order responses carry them.
 */

/** The column types a profile infers. */
export const COLUMN_TYPES = ['integer', 'float', 'boolean', 'datetime', 'categorical', 'string'] as const;

/** The ranks reported in `quantiles`. */
export const QUANTILE_KEYS = ['0.01', '0.05', '0.25', '0.5', '0.75', '0.95', '0.99'] as const;
export type QuantileKey = (typeof QUANTILE_KEYS)[number];

const NullableNumber = Type.Union([Type.Number(), Type.Null()]);

export const DataFormat = literals(DATA_FORMATS);
export type DataFormat = Static<typeof DataFormat>;
export const ColumnType = literals(COLUMN_TYPES);
export type ColumnType = Static<typeof ColumnType>;

// ------------------------------------------------------------------ profiles

export const ValueCount = Type.Object({ value: Type.String(), count: Type.Integer() });
export type ValueCount = Static<typeof ValueCount>;

export const ColumnProfile = Type.Object(
  {
    name: Type.String(),
    type: ColumnType,
    count: Type.Integer({ description: 'non-missing values' }),
    missing: Type.Integer(),
    distinct: Type.Integer(),
    distinct_exact: Type.Boolean(),
    min: Type.Optional(Type.Union([Type.Number(), Type.String(), Type.Null()], { description: 'integer/float: a number (null when no finite value); datetime: an ISO 8601 string' })),
    max: Type.Optional(Type.Union([Type.Number(), Type.String(), Type.Null()])),
    mean: Type.Optional(NullableNumber),
    std: Type.Optional(Type.Union([Type.Number(), Type.Null()], { description: 'population standard deviation of the finite values' })),
    nan_count: Type.Optional(Type.Integer()),
    inf_count: Type.Optional(Type.Integer()),
    quantiles: Type.Optional(Type.Object(Object.fromEntries(QUANTILE_KEYS.map((k) => [k, Type.Number()])) as Record<QuantileKey, TNumber>)),
    cdf: Type.Optional(Type.Array(Type.Number(), { description: '101 values: the 0, 1, ..., 100th percentiles (a compact CDF used to re-bin for drift)' })),
    histogram: Type.Optional(
      Type.Object({
        edges: Type.Array(Type.Union([Type.Number(), Type.Null()]), { description: 'null where the range overflows a double' }),
        counts: Type.Array(Type.Number({ description: 'from the quantile sketch: approximate beyond its exact size' })),
      }),
    ),
    true_count: Type.Optional(Type.Integer()),
    false_count: Type.Optional(Type.Integer()),
    min_length: Type.Optional(Type.Integer()),
    max_length: Type.Optional(Type.Integer()),
    mean_length: Type.Optional(Type.Number()),
    top: Type.Optional(Type.Array(ValueCount)),
    top_exact: Type.Optional(Type.Boolean({ description: 'false when top comes from the bounded space-saving summary (counts are then upper bounds)' })),
    categories: Type.Optional(Type.Array(ValueCount, { description: 'categorical columns: every value with its count, sorted by value' })),
  },
  { $id: 'ColumnProfile', description: 'Statistics of one column; which fields are present depends on its type' },
);
export type ColumnProfile = Static<typeof ColumnProfile>;

export const SourceSummary = Type.Object({ name: Type.String(), rows: Type.Integer(), bytes: Type.Integer() });
export type SourceSummary = Static<typeof SourceSummary>;

export const DatasetProfile = Type.Object(
  { format: DataFormat, rows: Type.Integer(), sources: Type.Array(SourceSummary), columns: Type.Array(ColumnProfile) },
  { $id: 'DatasetProfile' },
);
export type DatasetProfile = Static<typeof DatasetProfile>;

// ------------------------------------------------------------------ schemas and validation

export const SchemaColumn = Type.Object({
  name: Type.String(),
  type: ColumnType,
  nullable: Type.Boolean(),
  categories: Type.Optional(Type.Array(Type.String())),
  min: Type.Optional(Type.Union([Type.Number(), Type.String(), Type.Null()], { description: 'a number for integer/float columns, an ISO 8601 string for datetime columns; null: no bound' })),
  max: Type.Optional(Type.Union([Type.Number(), Type.String(), Type.Null()])),
});
export type SchemaColumn = Static<typeof SchemaColumn>;

export const DatasetSchema = Type.Object(
  {
    columns: Type.Array(SchemaColumn),
    allow_extra_columns: Type.Optional(Type.Boolean({ description: 'when false (the default) a column absent from the schema is a NEW_COLUMN anomaly' })),
    require_rows: Type.Optional(Type.Boolean({ description: 'when true (the default) a dataset without rows is a NO_ROWS anomaly' })),
  },
  { $id: 'DatasetSchema' },
);
export type DatasetSchema = Static<typeof DatasetSchema>;

export const AnomalyType = Type.Union([
  Type.Literal('MISSING_COLUMN'),
  Type.Literal('NEW_COLUMN'),
  Type.Literal('TYPE_MISMATCH'),
  Type.Literal('UNEXPECTED_NULLS'),
  Type.Literal('OUT_OF_RANGE'),
  Type.Literal('UNSEEN_CATEGORIES'),
  Type.Literal('MISSING_RATE_JUMP'),
  Type.Literal('DISTRIBUTION_DRIFT'),
  Type.Literal('NO_ROWS'),
]);
export type AnomalyType = Static<typeof AnomalyType>;

export const Anomaly = Type.Object(
  {
    column: Type.Union([Type.String(), Type.Null()]),
    type: AnomalyType,
    severity: Type.Union([Type.Literal('ERROR'), Type.Literal('WARNING')]),
    message: Type.String(),
    details: Type.Record(Type.String(), Type.Unknown(), { description: 'what was measured, per anomaly type' }),
  },
  { $id: 'DatasetAnomaly' },
);
export type Anomaly = Static<typeof Anomaly>;

export const ValidationStatistics = Type.Object({ columns_checked: Type.Integer(), anomalies: Type.Integer(), errors: Type.Integer(), warnings: Type.Integer() });
export type ValidationStatistics = Static<typeof ValidationStatistics>;

// ------------------------------------------------------------------ diffs

export const NumberDelta = Type.Object({ a: NullableNumber, b: NullableNumber, delta: NullableNumber });
export type NumberDelta = Static<typeof NumberDelta>;

export const ColumnDiff = Type.Object(
  {
    name: Type.String(),
    status: Type.Union([Type.Literal('added'), Type.Literal('removed'), Type.Literal('changed'), Type.Literal('unchanged')]),
    type_a: Type.Union([ColumnType, Type.Null()]),
    type_b: Type.Union([ColumnType, Type.Null()]),
    type_changed: Type.Boolean(),
    count: Type.Optional(NumberDelta),
    missing_rate: Type.Optional(NumberDelta),
    distinct: Type.Optional(NumberDelta),
    mean: Type.Optional(NumberDelta),
    std: Type.Optional(NumberDelta),
    min: Type.Optional(NumberDelta),
    max: Type.Optional(NumberDelta),
    quantiles: Type.Optional(Type.Record(Type.String(), NumberDelta)),
    js_divergence: Type.Optional(Type.Union([Type.Number(), Type.Null()], { description: 'Jensen–Shannon divergence (base 2) between the two distributions, null when not comparable' })),
  },
  { $id: 'ColumnDiff' },
);
export type ColumnDiff = Static<typeof ColumnDiff>;

const profileDiffFields = {
  rows: NumberDelta,
  added_columns: Type.Array(Type.String()),
  removed_columns: Type.Array(Type.String()),
  columns: Type.Array(ColumnDiff),
};
export const ProfileDiff = Type.Object(profileDiffFields);
export type ProfileDiff = Static<typeof ProfileDiff>;

// ------------------------------------------------------------------ datasets and versions

export const ManifestEntry = Type.Object({
  path: Type.String({ description: "relative '/'-separated path; no '..', not absolute" }),
  sha256: Type.String({ description: 'SHA-256 of the bytes, lowercase hex' }),
  bytes: Type.Integer({ minimum: 0 }),
});
export type ManifestEntry = Static<typeof ManifestEntry>;

export const Dataset = Type.Object(
  {
    name: Type.String(),
    description: Type.Union([Type.String(), Type.Null()], { description: "the newest version's description" }),
    user_id: Type.Union([Type.String(), Type.Null()]),
    creation_time: Type.Integer(),
    last_update_time: Type.Integer(),
    latest_version: Type.Union([Type.Integer(), Type.Null()]),
    version_count: Type.Integer(),
  },
  { $id: 'Dataset' },
);
export type Dataset = Static<typeof Dataset>;

const versionFields = {
  name: Type.String(),
  version: Type.Integer(),
  ref: Type.String({ description: 'name@vN' }),
  digest: Type.String({ description: 'SHA-256 of the file, or of the canonical manifest of several files' }),
  mlflow_digest: Type.String({ description: 'first 36 characters of digest (what MLflow dataset inputs carry)' }),
  format: DataFormat,
  rows: Type.Integer(),
  bytes: Type.Integer(),
  files: Type.Array(ManifestEntry),
  source: Type.Union([Type.String(), Type.Null()]),
  description: Type.Union([Type.String(), Type.Null()]),
  user_id: Type.Union([Type.String(), Type.Null()]),
  creation_time: Type.Integer(),
};

export const DatasetVersion = Type.Object(versionFields, { $id: 'DatasetVersion' });
export type DatasetVersion = Static<typeof DatasetVersion>;
export const DatasetVersionDetail = Type.Object(
  { ...versionFields, schema: DatasetSchema, profile: DatasetProfile },
  { $id: 'DatasetVersionDetail' },
);
export type DatasetVersionDetail = Static<typeof DatasetVersionDetail>;

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
    anomalies: Type.Array(Anomaly),
    statistics: ValidationStatistics,
    schema: DatasetSchema,
    user_id: Type.Union([Type.String(), Type.Null()]),
    creation_time: Type.Integer(),
  },
  { $id: 'DatasetValidation' },
);
export type Validation = Static<typeof Validation>;

export const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 256 }) });
export type NameParams = Static<typeof NameParams>;
export const VersionParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 256 }), version: Type.String({ maxLength: 32, description: 'v3, 3 or latest' }) });
export type VersionParams = Static<typeof VersionParams>;

export const ListDatasetsQuery = Type.Object({
  name_like: Type.Optional(Type.String({ description: "SQL LIKE pattern on the name, case-insensitive, e.g. 'weather%'" })),
  max_results: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  page_token: Type.Optional(Type.String()),
});
export type ListDatasetsQuery = Static<typeof ListDatasetsQuery>;
export const PageQuery = Type.Object({
  max_results: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  page_token: Type.Optional(Type.String()),
});
export type PageQuery = Static<typeof PageQuery>;

export const MissingBlobsBody = Type.Object({ sha256: Type.Array(Type.String(), { maxItems: 10000 }) }, { additionalProperties: false });
export type MissingBlobsBody = Static<typeof MissingBlobsBody>;

export const AddVersionBody = Type.Object(
  {
    files: Type.Array(ManifestEntry, { minItems: 1, maxItems: 10000 }),
    source: Type.Optional(Type.String({ maxLength: 5000 })),
    description: Type.Optional(Type.String({ maxLength: 5000 })),
  },
  { additionalProperties: false },
);
export type AddVersionBody = Static<typeof AddVersionBody>;

export const ValidateBody = Type.Object(
  {
    // Checked by the service (parseSchema), whose messages name the path of a problem.
    schema: Type.Optional(Type.Unknown({ description: 'a DatasetSchema: {columns: [{name, type, nullable?, categories?, min?, max?}], allow_extra_columns?, require_rows?}' })),
    schema_ref: Type.Optional(Type.String({ description: 'use the inferred schema of this version, e.g. weather@v1' })),
    schema_label: Type.Optional(Type.String({ maxLength: 500, description: 'names an inline schema in the history (e.g. its file name)' })),
    baseline: Type.Optional(Type.String({ description: 'version to compare distributions against (default: the schema_ref version)' })),
    js_threshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  },
  { additionalProperties: false },
);
export type ValidateBody = Static<typeof ValidateBody>;

export const DatasetDiff = Type.Object(
  // Copies without the $id: one response may name an $id once.
  { a: Type.Object(versionFields), b: Type.Object(versionFields), ...profileDiffFields },
  { $id: 'DatasetDiff', description: 'The profiles of two versions compared (a → b)' },
);
export type DatasetDiff = Static<typeof DatasetDiff>;

export const DiffQuery = Type.Object({ a: Type.String({ description: 'e.g. weather@v1' }), b: Type.String({ description: 'e.g. weather@v2' }) });
export type DiffQuery = Static<typeof DiffQuery>;
