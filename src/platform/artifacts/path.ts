import { KilnError } from '../errors.js';

/** Longest canonical path, in UTF-8 bytes (S3's key limit). */
export const MAX_ARTIFACT_PATH_BYTES = 1024;
/** Longest single name, in UTF-8 bytes (the usual file-system limit). */
export const MAX_ARTIFACT_NAME_BYTES = 255;

// C0 controls, DEL and C1 controls.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// eslint-disable-next-line no-control-regex
const CONTROL_ALL = /[\u0000-\u001f\u007f-\u009f]/g;
// With the u flag a well-formed surrogate pair is one code point, so this only matches a lone surrogate.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
// '/x', '\x', '\\server\share', 'C:\x', 'C:/x' and drive-relative 'C:x'.
const ABSOLUTE = /^(?:[/\\]|[A-Za-z]:)/;

function bad(p: string, why: string): KilnError {
  const shown = p.length > 80 ? p.slice(0, 80) + '…' : p;
  return new KilnError('INVALID_PARAMETER_VALUE', `Invalid artifact path '${shown.replace(CONTROL_ALL, '?')}': ${why}`);
}

/** True when a name, decoded up to three times (to catch double encoding), holds a '..' segment. */
function decodesToTraversal(name: string): boolean {
  let current = name;
  for (let i = 0; i < 3 && current.includes('%'); i++) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      return false; // not valid percent-encoding: the name is taken literally
    }
    if (next === current) return false;
    if (next.split(/[/\\]/).some((s) => s === '..')) return true;
    current = next;
  }
  return false;
}

/**
 * Canonical form of a relative artifact path: '/'-separated, NFC, without '.', empty segments or a trailing slash.
 *
 * Refused with INVALID_PARAMETER_VALUE: absolute paths ('/x', 'C:\x', '\\server\share'), '..' segments (also when
 * percent-encoded), backslashes, control characters, lone surrogates, a canonical path over 1024 UTF-8 bytes and a name
 * over 255 UTF-8 bytes. The empty path (the root) is accepted only with `allowEmpty`.
 *
 * HTTP handlers decode percent-encoding before calling this; the check on encoded '..' is a second line of defence
 * against a layer that decodes twice.
 */
export function normalizeArtifactPath(p: string, opts: { allowEmpty?: boolean } = {}): string {
  if (typeof p !== 'string') throw new KilnError('INVALID_PARAMETER_VALUE', 'Artifact path must be a string');
  // Anything this long cannot shrink under the limit; refuse it before doing any work on it.
  if (p.length > 4 * MAX_ARTIFACT_PATH_BYTES) throw bad(p, `longer than ${MAX_ARTIFACT_PATH_BYTES} bytes`);
  if (CONTROL.test(p)) throw bad(p, 'control characters are not allowed');
  if (LONE_SURROGATE.test(p)) throw bad(p, 'not valid Unicode text');
  if (ABSOLUTE.test(p)) throw bad(p, 'absolute paths are not allowed; give a path relative to the artifact root');
  if (p.includes('\\')) throw bad(p, 'backslashes are not allowed; use / to separate folders');
  const segments: string[] = [];
  for (const name of p.normalize('NFC').split('/')) {
    if (name === '' || name === '.') continue;
    if (name === '..' || decodesToTraversal(name)) throw bad(p, "'..' segments are not allowed");
    if (Buffer.byteLength(name) > MAX_ARTIFACT_NAME_BYTES) throw bad(p, `a name is longer than ${MAX_ARTIFACT_NAME_BYTES} bytes`);
    segments.push(name);
  }
  const out = segments.join('/');
  if (Buffer.byteLength(out) > MAX_ARTIFACT_PATH_BYTES) throw bad(p, `longer than ${MAX_ARTIFACT_PATH_BYTES} bytes`);
  if (out === '' && !opts.allowEmpty) throw bad(p, 'the path is empty');
  return out;
}

/**
 * Joins relative artifact paths ('' parts are skipped) into one canonical path; '' when every part is empty.
 * The result is checked like any other path, so a part holding '..' or an absolute path is refused.
 */
export function joinArtifactPath(...parts: string[]): string {
  const nonEmpty = parts.filter((x) => x !== '');
  if (nonEmpty.length === 0) return '';
  return normalizeArtifactPath(nonEmpty.join('/'), { allowEmpty: true });
}

/** The URI scheme of files served through the server's artifact proxy (MLflow's name for it). */
export const PROXY_SCHEME = 'mlflow-artifacts:';

/** Where an artifact URI's files live in the server's artifact store; only proxied (mlflow-artifacts:) locations are served. */
export function storePrefixOf(artifactUri: string): string | undefined {
  if (!artifactUri.startsWith(PROXY_SCHEME)) return undefined;
  const rest = artifactUri.slice(PROXY_SCHEME.length).replace(/^\/+/, '');
  return normalizeArtifactPath(rest, { allowEmpty: true });
}

/** The reserved prefix (a capability's own folder, see Platform.reservedArtifactPrefixes) that holds a canonical path, if any. */
export function reservedPrefixOf(path: string, reserved: readonly string[]): string | undefined {
  return reserved.find((r) => path === r || path.startsWith(`${r}/`));
}
