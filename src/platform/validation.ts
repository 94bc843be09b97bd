import { posix } from 'node:path';
import { invalid } from './errors.js';

/** Validation shared by every capability: MLflow's key rules, value limits, and how a bad value is described. */

/** Longest tag, param and metric key (MLflow's MAX_ENTITY_KEY_LENGTH). */
export const MAX_KEY_LENGTH = 250;

// MLflow: ^[/\w.\- :]*$ where \w is Unicode-aware.
const KEY_CHARS = /^[\p{L}\p{N}\p{M}_/.\- :]*$/u;

export function validateKey(kind: string, key: unknown): string {
  if (typeof key !== 'string' || key.length === 0) throw invalid(`Invalid ${kind} name: a non-empty string is required`);
  if (key.length > MAX_KEY_LENGTH) {
    throw invalid(`${capitalize(kind)} name '${key.slice(0, 40)}…' had length ${key.length}, which exceeded length limit of ${MAX_KEY_LENGTH}`);
  }
  if (!KEY_CHARS.test(key)) {
    throw invalid(
      `Invalid ${kind} name: '${key}'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colons (:) and slashes (/).`,
    );
  }
  if (posix.normalize(key) !== key || key === '.' || key.startsWith('..') || key.startsWith('/')) {
    throw invalid(`Invalid ${kind} name: '${key}'. Names may be treated as files in certain cases, and must not resolve to other names when treated as such.`);
  }
  return key;
}

export function validateValue(kind: string, key: string, value: unknown, max: number): string {
  if (typeof value !== 'string') throw invalid(`Invalid value for ${kind} '${key}': a string is required, got ${describeValue(value)}`);
  if (value.length > max) {
    throw invalid(`${capitalize(kind)} value '${value.slice(0, 40)}…' had length ${value.length}, which exceeded length limit of ${max}`);
  }
  return value;
}

export function hasControlChars(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f]/.test(s);
}

export function describeValue(v: unknown): string {
  if (typeof v === 'string') return `'${v.length > 40 ? v.slice(0, 40) + '…' : v}'`;
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `${String(v)} (${typeof v})`;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
