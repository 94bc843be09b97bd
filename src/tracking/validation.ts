import { invalid } from '../platform/errors.js';
import { MAX_KEY_LENGTH, checkName, describeValue as describe, validateKey, validateValue } from '../platform/validation.js';

import { PROXY_SCHEME, reservedPrefixOf, storePrefixOf } from '../platform/artifacts/path.js';
import { RUN_NAME_TAG } from './run-store.js';
import { RUN_STATUSES, VIEW_TYPES, type Metric, type RunStatus, type Tag, type ViewType } from './types.js';

/** Limits follow MLflow's mlflow/utils/validation.py so MLflow clients see the same behaviour. */
export const LIMITS = {
  maxEntityKeyLength: MAX_KEY_LENGTH,
  maxParamValueLength: 6000,
  maxRunTagValueLength: 8000,
  maxExperimentTagValueLength: 5000,
  maxExperimentNameLength: 500,
  maxRunNameLength: 500,
  maxBatchMetrics: 1000,
  maxBatchParams: 100,
  maxBatchTags: 100,
  maxBatchEntities: 1000,
  maxDatasetNameLength: 500,
  maxDatasetDigestLength: 36,
  maxDatasetSchemaLength: 1_048_575,
  maxDatasetSourceLength: 65_535,
  maxDatasetProfileLength: 16_777_215,
  maxInputTagKeyLength: 255,
  maxInputTagValueLength: 500,
  maxArtifactLocationLength: 2048,
  searchMaxResultsDefault: 1000,
  searchMaxResults: 50_000,
  experimentsMaxResults: 50_000,
  metricHistoryMaxResults: 25_000,
  maxPoints: 100_000,
  maxExperimentIdsPerSearch: 1000,
} as const;

const RUN_ID = /^[a-zA-Z0-9][\w-]{0,255}$/;
const EXPERIMENT_ID = /^[0-9]{1,18}$/;

export function validateParam(key: unknown, value: unknown): { key: string; value: string } {
  const k = validateKey('param', key);
  return { key: k, value: validateValue('param', k, value, LIMITS.maxParamValueLength) };
}

export function validateRunTag(key: unknown, value: unknown): Tag {
  const k = validateKey('tag', key);
  const v = validateValue('tag', k, value, LIMITS.maxRunTagValueLength);
  // The tag that holds the run's name follows the run name rule.
  return { key: k, value: k === RUN_NAME_TAG ? validateRunName(v) : v };
}

export function validateExperimentTag(key: unknown, value: unknown): Tag {
  const k = validateKey('tag', key);
  return { key: k, value: validateValue('experiment tag', k, value, LIMITS.maxExperimentTagValueLength) };
}

/** `knownKeys` remembers keys already checked in the same batch (a batch repeats a few keys many times). */
export function validateMetric(m: { key: unknown; value: unknown; timestamp: unknown; step?: unknown }, knownKeys?: Set<string>): Metric {
  const key = typeof m.key === 'string' && knownKeys?.has(m.key) ? m.key : validateKey('metric', m.key);
  knownKeys?.add(key);
  if (typeof m.value !== 'number') throw invalid(`Got invalid value ${describe(m.value)} for metric '${key}' (timestamp=${String(m.timestamp)}). Please specify value as a valid double (64-bit floating point)`);
  const timestamp = m.timestamp;
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw invalid(`Got invalid timestamp ${describe(timestamp)} for metric '${key}' (value=${m.value}). Timestamp must be a non-negative integer (milliseconds since the epoch).`);
  }
  const step = m.step === undefined || m.step === null ? 0 : m.step;
  if (typeof step !== 'number' || !Number.isSafeInteger(step)) {
    throw invalid(`Got invalid step ${describe(step)} for metric '${key}' (value=${m.value}). Step must be a valid 64-bit integer value.`);
  }
  return { key, value: m.value, timestamp, step };
}

export function validateRunId(runId: unknown): string {
  if (typeof runId !== 'string' || !RUN_ID.test(runId)) throw invalid(`Invalid run ID: '${String(runId)}'`);
  return runId;
}

/** Experiment ids are integers in the database; any other string names no experiment. */
export function parseExperimentId(id: unknown): number | undefined {
  if (typeof id !== 'string' || !EXPERIMENT_ID.test(id)) return undefined;
  const n = Number(id);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A list of experiment ids as the database keys them; a malformed id is an error, not an empty match. */
export function parseExperimentIds(ids: readonly unknown[]): number[] {
  if (!Array.isArray(ids)) throw invalid('experiment_ids must be a list of experiment ids');
  if (ids.length > LIMITS.maxExperimentIdsPerSearch) throw invalid(`At most ${LIMITS.maxExperimentIdsPerSearch} experiment ids per search`);
  return ids.map((id) => {
    const n = parseExperimentId(id);
    if (n === undefined) throw invalid(`Invalid experiment id '${String(id)}'`);
    return n;
  });
}

export function validateExperimentName(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '') throw invalid('Invalid experiment name: a non-empty string is required');
  if (name.length > LIMITS.maxExperimentNameLength) {
    throw invalid(`Experiment name had length ${name.length}, which exceeded length limit of ${LIMITS.maxExperimentNameLength}`);
  }
  return checkName('experiment name', 'name', name);
}

export function validateRunName(name: unknown): string {
  if (typeof name !== 'string') throw invalid(`Invalid run name: a string is required, got ${describe(name)}`);
  if (name.length > LIMITS.maxRunNameLength) throw invalid(`Run name had length ${name.length}, which exceeded length limit of ${LIMITS.maxRunNameLength}`);
  return checkName('run name', 'run_name', name);
}

export function validateStatus(status: unknown): RunStatus {
  if (typeof status !== 'string' || !(RUN_STATUSES as readonly string[]).includes(status)) {
    throw invalid(`Invalid run status '${String(status)}': expected one of ${RUN_STATUSES.join(', ')}`);
  }
  return status as RunStatus;
}

export function validateViewType(v: unknown): ViewType {
  if (v === undefined) return 'ACTIVE_ONLY';
  if (typeof v !== 'string' || !(VIEW_TYPES as readonly string[]).includes(v)) {
    throw invalid(`Invalid view type '${String(v)}': expected one of ${VIEW_TYPES.join(', ')}`);
  }
  return v as ViewType;
}

export function validateTime(name: string, t: unknown): number {
  if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0) throw invalid(`${name} must be a non-negative integer (milliseconds since the epoch), got ${describe(t)}`);
  return t;
}


/** URI schemes an experiment's artifact_location may use besides the server's own store (mlflow-artifacts:). */
export const EXTERNAL_ARTIFACT_SCHEMES = ['s3', 'gs', 'wasbs', 'abfss', 'hdfs', 'dbfs', 'file', 'http', 'https', 'sftp'] as const;

/**
 * An experiment's artifact_location, checked when the experiment is created: `mlflow-artifacts:/<path>` (a clean path
 * in the server's store, outside the folders capabilities own, e.g. dataset blobs), or a URI of a known external
 * scheme without '..' segments (the server never reads those; clients write there directly). Returned without a
 * trailing slash, a store path in canonical form.
 */
export function validateArtifactLocation(location: unknown, reserved: readonly string[]): string {
  if (typeof location !== 'string' || location.length > LIMITS.maxArtifactLocationLength) {
    throw invalid(`artifact_location must be a string of at most ${LIMITS.maxArtifactLocationLength} characters`, { field: 'artifact_location' });
  }
  const bad = (why: string) => invalid(`Invalid artifact_location '${location.slice(0, 200)}': ${why}`, { field: 'artifact_location' });
  if (location.startsWith(PROXY_SCHEME)) {
    if (location.startsWith(`${PROXY_SCHEME}//`)) throw bad(`give a path in this server's store as ${PROXY_SCHEME}/<path>`);
    let path: string;
    try {
      path = storePrefixOf(location)!;
    } catch (e) {
      throw bad((e as Error).message.replace(/^Invalid artifact path '.*': /, ''));
    }
    const owned = reservedPrefixOf(path, reserved);
    if (owned !== undefined) throw bad(`'${owned}/' is reserved for the server's own storage`);
    return path === '' ? PROXY_SCHEME : `${PROXY_SCHEME}/${path}`;
  }
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(location);
  if (!m || !(EXTERNAL_ARTIFACT_SCHEMES as readonly string[]).includes(m[1]!.toLowerCase())) {
    throw bad(`expected ${PROXY_SCHEME}/<path> or a URI with one of the schemes ${EXTERNAL_ARTIFACT_SCHEMES.join(', ')}`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(location)) throw bad('control characters and backslashes are not allowed');
  const rest = location.slice(m[0].length).split(/[?#]/)[0]!;
  if (rest.split('/').some((seg) => seg === '..' || seg === '.' || /^(%2e|\.){2}$/i.test(seg))) throw bad("'.' and '..' segments are not allowed");
  return location.replace(/\/+$/, '');
}
