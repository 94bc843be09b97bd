/** Datasets over the native API: add from a local file or folder (content-addressed upload), read, diff, validate, download. */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HttpClient } from './http.js';
import { formatFromName } from './contract/data-formats.js';
import { parseDatasetRef } from './contract/dataset-refs.js';
import type { Page } from './contract/tracking-types.js';
import type { Dataset, DatasetDiff, DatasetSchema, DatasetVersion, DatasetVersionDetail, ManifestEntry, Validation } from './contract/data-schemas.js';

const enc = encodeURIComponent;

/** The URL path of a version from a reference (`weather@v3`, `weather@latest`, `weather`). */
function versionPath(ref: string): string {
  const r = parseDatasetRef(ref);
  return `/datasets/${enc(r.name)}/versions/${r.version === 'latest' ? 'latest' : `v${r.version}`}`;
}

export interface AddOptions {
  readonly name: string;
  readonly description?: string;
  /** Recorded with the version; default the absolute local path. */
  readonly source?: string;
}

export interface AddResult {
  /** False when this content already was a version of the dataset (nothing was uploaded or stored). */
  readonly created: boolean;
  readonly version: DatasetVersionDetail;
  /** Blobs sent to the server (the others were already there). */
  readonly uploadedBlobs: number;
  readonly uploadedBytes: number;
}

export interface LocalFile {
  readonly path: string;
  readonly abs: string;
  readonly bytes: number;
}

/**
 * The data files of a local path: a file is itself; a folder gives every data file below it (.csv, .tsv, .jsonl,
 * .ndjson, .json, .parquet) with its '/'-separated relative path; hidden files and names starting with '_'
 * (such as _SUCCESS) are skipped.
 */
export async function localDataFiles(path: string): Promise<LocalFile[]> {
  const abs = resolve(path);
  const st = await stat(abs);
  if (st.isFile()) return [{ path: basename(abs), abs, bytes: st.size }];
  if (!st.isDirectory()) throw new Error(`${path} is neither a file nor a folder`);
  const out: LocalFile[] = [];
  const walk = async (dir: string) => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.') || e.name.startsWith('_')) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && formatFromName(e.name)) out.push({ path: relative(abs, p).split(sep).join('/'), abs: p, bytes: (await stat(p)).size });
    }
  };
  await walk(abs);
  if (out.length === 0) throw new Error(`${path} holds no data file (.csv, .tsv, .jsonl, .ndjson, .json, .parquet)`);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** SHA-256 (hex) of a local file, streamed. */
export async function sha256File(path: string): Promise<string> {
  // node:crypto loads when a file is hashed: every client command (`kiln runs get`) loads this module.
  const { createHash } = await import('node:crypto');
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export class DataClient {
  constructor(
    private readonly http: HttpClient,
    private readonly headers: Record<string, string> = {},
  ) {}

  private api<T = unknown>(method: string, path: string, body?: unknown, query?: Record<string, unknown>): Promise<T> {
    return this.http.json<T>(method, `/api/v1${path}`, body, query);
  }

  /** Adds a version from a local file or folder: hashes locally, uploads only the blobs the server lacks, then creates the version. */
  async add(path: string, opts: AddOptions): Promise<AddResult> {
    const local = await localDataFiles(path);
    const files: ManifestEntry[] = [];
    for (const f of local) files.push({ path: f.path, sha256: await sha256File(f.abs), bytes: f.bytes });
    const { missing } = await this.api<{ missing: string[] }>('POST', '/data/blobs/missing', { sha256: files.map((f) => f.sha256) });
    let uploadedBytes = 0;
    for (const sha of missing) {
      const i = files.findIndex((f) => f.sha256 === sha);
      await this.uploadBlob(sha, local[i]!.abs, local[i]!.bytes);
      uploadedBytes += local[i]!.bytes;
    }
    const r = await this.api<{ created: boolean; version: DatasetVersionDetail }>('POST', `/datasets/${enc(opts.name)}/versions`, {
      files,
      source: opts.source ?? resolve(path),
      description: opts.description,
    });
    return { created: r.created, version: r.version, uploadedBlobs: missing.length, uploadedBytes };
  }

  /** Streams a local file to PUT /api/v1/data/blobs/{sha256} with its length (never held in memory). */
  async uploadBlob(sha256: string, file: string, _bytes?: number): Promise<void> {
    await this.http.uploadFile('PUT', `/api/v1/data/blobs/${sha256}`, file, 'application/octet-stream');
  }

  async list(input: { nameLike?: string; maxResults?: number; pageToken?: string } = {}): Promise<Page<Dataset>> {
    const r = await this.api<{ datasets: Dataset[]; next_page_token?: string }>('GET', '/datasets', undefined, { name_like: input.nameLike, max_results: input.maxResults, page_token: input.pageToken });
    return { items: r.datasets, nextPageToken: r.next_page_token };
  }
  async getDataset(name: string): Promise<Dataset> {
    return (await this.api<{ dataset: Dataset }>('GET', `/datasets/${enc(name)}`)).dataset;
  }
  async deleteDataset(name: string): Promise<void> {
    await this.api('DELETE', `/datasets/${enc(name)}`);
  }
  async versions(name: string, input: { maxResults?: number; pageToken?: string } = {}): Promise<Page<DatasetVersion>> {
    const r = await this.api<{ versions: DatasetVersion[]; next_page_token?: string }>('GET', `/datasets/${enc(name)}/versions`, undefined, { max_results: input.maxResults, page_token: input.pageToken });
    return { items: r.versions, nextPageToken: r.next_page_token };
  }
  /** A version with schema and profile: `weather@v3`, `weather@latest` or `weather` (latest). */
  async get(ref: string): Promise<DatasetVersionDetail> {
    return (await this.api<{ version: DatasetVersionDetail }>('GET', versionPath(ref))).version;
  }
  async byDigest(digest: string): Promise<DatasetVersionDetail> {
    return (await this.api<{ version: DatasetVersionDetail }>('GET', `/datasets/by-digest/${enc(digest)}`)).version;
  }
  async schema(ref: string): Promise<DatasetSchema> {
    return this.api<DatasetSchema>('GET', `${versionPath(ref)}/schema`);
  }
  /** The profiles of two versions compared (a → b): rows, columns added, removed and retyped, statistics, drift. */
  async diff(a: string, b: string): Promise<DatasetDiff> {
    return this.api<DatasetDiff>('GET', '/datasets/diff', undefined, { a, b });
  }
  /** Validates against a schema object or another version's schema (`schemaRef`); the report is stored on the server. */
  async validate(ref: string, input: { schema?: DatasetSchema | unknown; schemaRef?: string; schemaLabel?: string; baseline?: string; jsThreshold?: number }): Promise<Validation> {
    const r = await this.api<{ validation: Validation }>('POST', `${versionPath(ref)}/validations`, {
      schema: input.schema,
      schema_ref: input.schemaRef,
      schema_label: input.schemaLabel,
      baseline: input.baseline,
      js_threshold: input.jsThreshold,
    });
    return r.validation;
  }
  /** Validation reports of a version, latest first. */
  async validations(ref: string): Promise<Validation[]> {
    return (await this.api<{ validations: Validation[] }>('GET', `${versionPath(ref)}/validations`)).validations;
  }
  /** Downloads every file of a version into `dir` (keeping the folder layout); returns the local paths. */
  async download(ref: string, dir: string): Promise<string[]> {
    const v = await this.get(ref);
    const root = resolve(dir);
    const out: string[] = [];
    for (const f of v.files) {
      const target = resolve(root, ...f.path.split('/'));
      if (target !== root && !target.startsWith(root + sep)) throw new Error(`Refusing to write outside ${root}: ${f.path}`);
      await mkdir(dirname(target), { recursive: true });
      const res = await this.http.send('GET', `/api/v1${versionPath(`${v.name}@v${v.version}`)}/files/${f.path.split('/').map(enc).join('/')}`);
      const tmp = `${target}.kiln-partial`;
      await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(tmp));
      await rename(tmp, target);
      out.push(target);
    }
    return out;
  }
}

/** MLflow's column types for Kiln's (the `mlflow_colspec` schema of a dataset input). */
const MLFLOW_TYPES: Record<string, string> = { integer: 'long', float: 'double', boolean: 'boolean', datetime: 'datetime', categorical: 'string', string: 'string' };

/** A version as an MLflow dataset input: digest = mlflow_digest, source_type kiln, schema as mlflow_colspec, profile {num_rows}. */
export function mlflowDatasetOf(v: DatasetVersionDetail): { name: string; digest: string; sourceType: string; source: string; schema: string; profile: string } {
  return {
    name: v.name,
    digest: v.mlflow_digest,
    sourceType: 'kiln',
    source: `kiln://datasets/${v.name}/v${v.version}`,
    schema: JSON.stringify({ mlflow_colspec: v.schema.columns.map((c) => ({ type: MLFLOW_TYPES[c.type] ?? 'string', name: c.name, required: !c.nullable })) }),
    profile: JSON.stringify({ num_rows: v.rows }),
  };
}
