/** Manifests: the files of a version, each naming its content-addressed blob; and the version digest. */
import { createHash } from 'node:crypto';
import { normalizeArtifactPath } from '../platform/artifacts/path.js';
import { invalid, isKilnError } from '../platform/errors.js';
import { formatFromName, type DataFormat } from './formats.js';
import type { ManifestEntry } from './schemas.js';

/** A file of a version: its relative '/'-separated path and the SHA-256 (lowercase hex) of its bytes, the blob that holds them. */
export type { ManifestEntry } from './schemas.js';

export const SHA256_HEX = /^[0-9a-f]{64}$/;
export const MAX_MANIFEST_FILES = 10_000;

export function validateSha256(v: unknown, field = 'sha256'): string {
  if (typeof v !== 'string' || !SHA256_HEX.test(v)) throw invalid(`${field} must be 64 lowercase hexadecimal characters (a SHA-256 digest), got ${JSON.stringify(v)}`, { field });
  return v;
}

/** Where a blob lives in the artifact store. */
export function blobPath(sha256: string): string {
  return `datasets/blobs/sha256/${sha256.slice(0, 2)}/${sha256}`;
}

const byPath = (a: ManifestEntry, b: ManifestEntry) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/**
 * Checks a manifest sent by a client: safe relative paths (no '..', no absolute paths), no duplicates, digests and
 * sizes well formed, one data format. Returns the entries sorted by path, with the format.
 */
export function validateManifest(files: unknown): { files: ManifestEntry[]; format: DataFormat } {
  if (!Array.isArray(files) || files.length === 0) throw invalid('files must be a non-empty list of {path, sha256, bytes}', { field: 'files' });
  if (files.length > MAX_MANIFEST_FILES) throw invalid(`A dataset version holds at most ${MAX_MANIFEST_FILES} files, got ${files.length}`, { field: 'files' });
  const seen = new Set<string>();
  const out: ManifestEntry[] = [];
  files.forEach((f: unknown, i: number) => {
    const at = `files[${i}]`;
    if (typeof f !== 'object' || f === null || Array.isArray(f)) throw invalid(`${at} must be an object {path, sha256, bytes}`, { field: at });
    const { path, sha256, bytes } = f as Record<string, unknown>;
    let p: string;
    try {
      p = normalizeArtifactPath(path as string);
    } catch (e) {
      throw invalid(`${at}.path: ${isKilnError(e) ? e.message : String(e)}`, { field: `${at}.path` });
    }
    if (seen.has(p)) throw invalid(`${at}.path: duplicate path '${p}'`, { field: `${at}.path` });
    seen.add(p);
    if (!formatFromName(p)) throw invalid(`${at}.path: '${p}' is not a data file (use .csv, .tsv, .jsonl, .ndjson, .json or .parquet)`, { field: `${at}.path` });
    validateSha256(sha256, `${at}.sha256`);
    if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0) throw invalid(`${at}.bytes must be a non-negative integer`, { field: `${at}.bytes` });
    out.push({ path: p, sha256: sha256 as string, bytes });
  });
  out.sort(byPath);
  const format = formatFromName(out[0]!.path)!;
  const other = out.find((e) => formatFromName(e.path) !== format);
  if (other) throw invalid(`'${other.path}' is ${formatFromName(other.path)} but '${out[0]!.path}' is ${format}: a dataset version has one format`, { field: 'files' });
  return { files: out, format };
}

/** The canonical manifest text: entries sorted by path, keys in a fixed order, no spaces. */
export function canonicalManifest(files: readonly ManifestEntry[]): string {
  return JSON.stringify([...files].sort(byPath).map((f) => ({ path: f.path, sha256: f.sha256, bytes: f.bytes })));
}

/**
 * The digest of a version's content: for a single file the SHA-256 of its bytes (so `sha256sum file.csv` gives it);
 * for several files the SHA-256 of the canonical manifest.
 */
export function manifestDigest(files: readonly ManifestEntry[]): string {
  if (files.length === 1) return files[0]!.sha256;
  return createHash('sha256').update(canonicalManifest(files)).digest('hex');
}

/** What an MLflow dataset input carries as its digest (MLflow caps digests at 36 characters). */
export function mlflowDigest(digest: string): string {
  return digest.slice(0, 36);
}
