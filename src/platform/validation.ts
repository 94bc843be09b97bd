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

/*
 * The text rule, the same on every backend:
 * - any text (descriptions, tag and param values, filters, ...) is well-formed Unicode without NUL: U+0000 and UTF-16
 *   surrogates without their pair are refused (checked once for every request, at the HTTP edge: see text-guard.ts);
 * - names (experiment, run, registered model, webhook names) additionally refuse control characters (C0, DEL, C1) and
 *   the bidirectional controls (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069) that make a name display as
 *   something else; keys (tags, params, metrics) allow only letters, digits, marks and `_ / . - : space` (validateKey).
 */

// With the u flag a well-formed surrogate pair is one code point, so the class matches only a lone surrogate.
// eslint-disable-next-line no-control-regex
const ILL_FORMED = /[\u0000\uD800-\uDFFF]/u;

/** True when the text breaks the text rule (the fast test: String.prototype.isWellFormed, Node 20). */
export function isIllFormedText(s: string): boolean {
  return s.includes('\u0000') || !(s as unknown as { isWellFormed(): boolean }).isWellFormed();
}
// eslint-disable-next-line no-control-regex
const NAME_FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\p{Bidi_Control}]/u;

/** Why a text is refused anywhere (NUL, an unpaired surrogate), or undefined when it is acceptable. */
export function textProblem(s: string): string | undefined {
  const m = ILL_FORMED.exec(s);
  if (!m) return undefined;
  return m[0] === '\u0000' ? 'text must not contain NUL (U+0000)' : `text must be valid Unicode: it holds an unpaired UTF-16 surrogate (U+${m[0].charCodeAt(0).toString(16).toUpperCase()})`;
}

/** Why a text is refused as a name (the text rule, plus control and bidirectional characters), or undefined. */
export function nameProblem(s: string): string | undefined {
  const t = textProblem(s);
  if (t) return t;
  const m = NAME_FORBIDDEN.exec(s);
  if (!m) return undefined;
  const code = `U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  return /\p{Bidi_Control}/u.test(m[0]) ? `names cannot contain bidirectional control characters (${code})` : `names cannot contain control characters (${code})`;
}

/** Throws INVALID_PARAMETER_VALUE naming `field` when `name` breaks the name rule. */
export function checkName(kind: string, field: string, name: string): string {
  const why = nameProblem(name);
  if (why) throw invalid(`Invalid ${kind} ${JSON.stringify(escapeText(name.length > 80 ? name.slice(0, 80) + '…' : name))}: ${why}.`, { field });
  return name;
}

/** The text with NUL, controls, lone surrogates and bidirectional controls shown as \uXXXX, safe to echo in a message. */
export function escapeText(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f\p{Bidi_Control}\uD800-\uDFFF]/gu, (c) => (c.length === 1 ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c));
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
