/** Dataset references: `name`, `name@v3`, `name@3`, `name@latest`. Parsed here and nowhere else. */
import { invalid } from './errors.js';

export type VersionSelector = number | 'latest';

export interface DatasetRef {
  readonly name: string;
  readonly version: VersionSelector;
}

/** Dataset names: a letter or digit, then letters, digits, '.', '_' or '-'; at most 200 characters. */
export const DATASET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export function validateDatasetName(name: unknown): string {
  if (typeof name !== 'string' || !DATASET_NAME.test(name)) {
    throw invalid(
      `Invalid dataset name ${JSON.stringify(name)}: use at most 200 letters, digits, '.', '_' or '-', starting with a letter or digit`,
      { field: 'name' },
    );
  }
  return name;
}

/** `v3`, `3` or `latest` (any case for the `v` and `latest`). */
export function parseVersionSelector(v: unknown): VersionSelector {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 1) return v;
  if (typeof v === 'string') {
    if (/^latest$/i.test(v)) return 'latest';
    const m = /^[vV]?([1-9][0-9]{0,8})$/.exec(v);
    if (m) return Number(m[1]);
  }
  throw invalid(`Invalid dataset version ${JSON.stringify(v)}: use v3, 3 or latest`, { field: 'version' });
}

/**
 * Parses `name@v3` / `name@3` / `name@latest`. Without `@`, the version is `latest` unless `requireVersion`
 * is set, in which case a bare name is an error.
 */
export function parseDatasetRef(ref: unknown, opts: { requireVersion?: boolean } = {}): DatasetRef {
  if (typeof ref !== 'string' || ref === '') throw invalid('A dataset reference is required: NAME@vN, NAME@N or NAME@latest', { field: 'ref' });
  const at = ref.lastIndexOf('@');
  if (at < 0) {
    if (opts.requireVersion) throw invalid(`Dataset reference '${ref}' names no version: use ${ref}@vN or ${ref}@latest`, { field: 'ref' });
    return { name: validateDatasetName(ref), version: 'latest' };
  }
  const name = ref.slice(0, at);
  const version = ref.slice(at + 1);
  try {
    return { name: validateDatasetName(name), version: parseVersionSelector(version) };
  } catch (e) {
    throw invalid(`Invalid dataset reference '${ref}': ${(e as Error).message}`, { field: 'ref' });
  }
}

export function formatDatasetRef(name: string, version: number): string {
  return `${name}@v${version}`;
}
