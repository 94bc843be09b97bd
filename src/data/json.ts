/** Datasets as the native API's JSON (snake_case). */
import type { Dataset, DatasetVersion, DatasetVersionDetail, ValidationRecord, VersionDiff } from './types.js';
import type * as S from './schemas.js';

/**
 * A computed value as JSON holds it: NaN and ±Infinity become null, as JSON.stringify writes them into the store
 * (the schemas declare those numbers nullable; the serializer would refuse them). Returns `v` itself when it holds
 * no such number.
 */
function finite<T>(v: T): T {
  if (typeof v === 'number') return (Number.isFinite(v) ? v : null) as T;
  if (Array.isArray(v)) {
    const out = v.map(finite);
    return (out.every((y, i) => y === v[i]) ? v : out) as T;
  }
  if (typeof v === 'object' && v !== null) {
    const entries = Object.entries(v);
    const out = entries.map(([k, x]) => [k, finite(x)] as const);
    return (out.every(([, y], i) => y === entries[i]![1]) ? v : Object.fromEntries(out)) as T;
  }
  return v;
}

export function datasetJson(d: Dataset): S.Dataset {
  return {
    name: d.name,
    description: d.description,
    user_id: d.userId,
    creation_time: d.creationTime,
    last_update_time: d.lastUpdateTime,
    latest_version: d.latestVersion,
    version_count: d.versionCount,
  };
}

export function versionJson(v: DatasetVersion): S.DatasetVersion {
  return {
    name: v.name,
    version: v.version,
    ref: `${v.name}@v${v.version}`,
    digest: v.digest,
    mlflow_digest: v.mlflowDigest,
    format: v.format,
    rows: v.rows,
    bytes: v.bytes,
    files: v.files.map((f) => ({ path: f.path, sha256: f.sha256, bytes: f.bytes })),
    source: v.source,
    description: v.description,
    user_id: v.userId,
    creation_time: v.creationTime,
  };
}

export function versionDetailJson(v: DatasetVersionDetail): S.DatasetVersionDetail {
  return { ...versionJson(v), schema: finite(v.schema), profile: finite(v.profile) };
}

export function validationJson(r: ValidationRecord): S.Validation {
  return {
    id: r.id,
    name: r.name,
    version: r.version,
    ref: `${r.name}@v${r.version}`,
    schema_ref: r.schemaRef,
    baseline: r.baseline,
    js_threshold: r.jsThreshold,
    ok: r.ok,
    errors: r.errors,
    warnings: r.warnings,
    anomalies: finite(r.report.anomalies),
    statistics: r.report.statistics,
    schema: finite(r.schema),
    user_id: r.userId,
    creation_time: r.creationTime,
  };
}

export function diffJson(d: VersionDiff): S.DatasetDiff {
  return { a: versionJson(d.a), b: versionJson(d.b), ...finite(d.diff) };
}
