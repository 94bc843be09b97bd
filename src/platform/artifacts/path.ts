import { KilnError } from '../errors.js';

const MAX_PATH = 1024;
const MAX_SEGMENT_BYTES = 255;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/g;

function bad(p: string, why: string): KilnError {
  const shown = p.length > 80 ? p.slice(0, 80) + '…' : p;
  return new KilnError('INVALID_PARAMETER_VALUE', `Invalid artifact path '${shown.replace(CONTROL, '?')}': ${why}`);
}

/**
 * Canonical relative artifact path: '/'-separated, NFC, no '.', '..' or empty segments, no trailing slash.
 * Refuses absolute paths, traversal, backslashes, control characters and oversized names.
 */
export function normalizeArtifactPath(p: string, opts: { allowEmpty?: boolean } = {}): string {
  if (typeof p !== 'string') throw new KilnError('INVALID_PARAMETER_VALUE', 'Artifact path must be a string');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(p)) throw bad(p, 'control characters are not allowed');
  if (p.includes('\\')) throw bad(p, 'backslashes are not allowed; use /');
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) throw bad(p, 'absolute paths are not allowed; give a path relative to the artifact root');
  if (p.length > MAX_PATH) throw bad(p, `longer than ${MAX_PATH} characters`);
  const segments: string[] = [];
  for (const raw of p.normalize('NFC').split('/')) {
    if (raw === '' || raw === '.') continue;
    let decoded = raw;
    try {
      decoded = decodeURIComponent(raw);
    } catch {
      // not percent-encoded: keep as is
    }
    if (raw === '..' || decoded === '..' || decoded.includes('/') || decoded.includes('\\')) throw bad(p, "'..' segments are not allowed");
    if (Buffer.byteLength(raw) > MAX_SEGMENT_BYTES) throw bad(p, `a name is longer than ${MAX_SEGMENT_BYTES} bytes`);
    segments.push(raw);
  }
  const out = segments.join('/');
  if (out === '' && !opts.allowEmpty) throw bad(p, 'the path is empty');
  return out;
}

/** Joins already-normalized relative paths, skipping empty parts. */
export function joinArtifactPath(...parts: string[]): string {
  return parts.filter((x) => x !== '').join('/');
}
