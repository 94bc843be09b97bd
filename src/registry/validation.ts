import { KilnError, invalid } from '../platform/errors.js';
import type { Tag } from '../platform/tags.js';
import { checkName, describeValue as describe, validateKey, validateValue } from '../platform/validation.js';
import { STAGES, type Stage } from './types.js';

export const REGISTRY_LIMITS = {
  maxModelNameLength: 256,
  maxTagValueLength: 5000,
  maxAliasLength: 255,
  maxDescriptionLength: 65_535,
  maxSourceLength: 65_535,
} as const;

/** A registered model name: non-empty, printable, no '/' (names appear in models:/ URIs and URL paths). */
export function validateModelName(name: unknown, field = 'name'): string {
  if (typeof name !== 'string' || name.trim() === '') throw invalid(`Missing value for required parameter '${field}': a registered model name is a non-empty string.`);
  if (name.length > REGISTRY_LIMITS.maxModelNameLength) throw invalid(`Registered model name '${name.slice(0, 40)}…' is longer than ${REGISTRY_LIMITS.maxModelNameLength} characters.`);
  if (name.includes('/')) throw invalid(`Invalid registered model name '${name}': names cannot contain '/'.`);
  checkName('registered model name', field, name);
  if (name !== name.trim()) throw invalid(`Invalid registered model name ${JSON.stringify(name)}: names cannot start or end with whitespace.`);
  return name;
}

/** A version number as MLflow sends it: a positive integer in a string (or a number). */
export function parseVersion(version: unknown, field = 'version'): number {
  const s = typeof version === 'number' ? String(version) : version;
  if (typeof s !== 'string' || !/^[1-9][0-9]{0,9}$/.test(s)) throw invalid(`Invalid value ${describe(version)} for parameter '${field}': expected a positive integer version number.`);
  const n = Number(s);
  if (n > 2_147_483_647) throw invalid(`Invalid value ${s} for parameter '${field}': version numbers stop at 2147483647.`);
  return n;
}

export function validateRegistryTag(key: unknown, value: unknown): Tag {
  const k = validateKey('tag', key);
  return { key: k, value: validateValue('tag', k, value ?? '', REGISTRY_LIMITS.maxTagValueLength) };
}

/** MLflow's alias rule: word characters and dashes, at most 255; `latest` and `v<digits>` are reserved. */
export function validateAlias(alias: unknown): string {
  if (typeof alias !== 'string' || alias === '') throw invalid(`Missing value for required parameter 'alias'.`);
  if (alias.length > REGISTRY_LIMITS.maxAliasLength) throw invalid(`Alias '${alias.slice(0, 40)}…' is longer than ${REGISTRY_LIMITS.maxAliasLength} characters.`);
  if (!/^[\w-]+$/u.test(alias) || /[^\x20-\x7e]/.test(alias)) {
    throw invalid(`Invalid alias ${JSON.stringify(alias)}: an alias may only contain letters, digits, underscores (_) and dashes (-).`);
  }
  if (alias.toLowerCase() === 'latest') throw invalid(`Invalid alias 'latest': it is reserved (models:/name@latest means the newest version).`);
  if (/^v[0-9]+$/i.test(alias)) throw invalid(`Invalid alias '${alias}': aliases of the form v<number> are reserved for version references.`);
  return alias;
}

export function validateDescription(d: unknown, field = 'description'): string | undefined {
  if (d === undefined || d === null) return undefined;
  if (typeof d !== 'string') throw invalid(`Invalid value ${describe(d)} for parameter '${field}': expected a string.`);
  if (d.length > REGISTRY_LIMITS.maxDescriptionLength) throw invalid(`The ${field} is longer than ${REGISTRY_LIMITS.maxDescriptionLength} characters.`);
  return d;
}

/** Stage names are matched without regard to case, as MLflow does, and returned in their canonical spelling. */
export function parseStage(stage: unknown): Stage {
  if (typeof stage === 'string') {
    const found = STAGES.find((s) => s.toLowerCase() === stage.toLowerCase());
    if (found) return found;
  }
  throw invalid(`Invalid Model Version stage: ${describe(stage)}. Value must be one of ${STAGES.join(', ')}.`);
}

export function dedupeTags(tags: readonly Tag[]): Tag[] {
  const m = new Map<string, Tag>();
  for (const t of tags) m.set(t.key, t);
  return [...m.values()];
}

/**
 * Refuses to act on a version that is not READY (an alias or a promotion would point users at files that were not
 * found, failed inspection, or are still being inspected).
 */
export function refuseNotReady(v: { readonly status: string; readonly status_message: string | null; readonly version: number | string }, what: string): void {
  if (v.status === 'READY') return;
  const why = v.status === 'PENDING_REGISTRATION' ? 'its files are still being inspected; try again once it is READY' : `${v.status_message ?? 'its files failed inspection'}; only a READY version can be used`;
  throw new KilnError('INVALID_STATE', `Cannot ${what}: version ${v.version} is ${v.status} (${why}).`);
}
