import { DEFAULT_PROJECT_ID } from '../platform/auth/access.js';
import type { ResourceDirectory } from '../platform/auth/resources.js';
import type { Transaction } from 'kysely';
import type { EventLog } from '../platform/events/log.js';
import type { NewEvent } from '../platform/events/types.js';
import type { DataTables } from './tables.js';
/** Datasets: content-addressed versions with profiles and schemas, validation reports, diffs. No HTTP here. */
import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import type { MetadataStore } from '../platform/db/types.js';
import type { ArtifactObject, ArtifactStore } from '../platform/artifacts/types.js';
import { normalizeArtifactPath } from '../platform/artifacts/path.js';
import { ANONYMOUS, type Actor } from '../platform/actor.js';
import { KilnError, invalid, isKilnError, notFound } from '../platform/errors.js';
import { offsetFromPageToken, offsetPage, validateMaxResults } from '../platform/pagination.js';
import { diffProfiles, inferSchema, parseSchema, readSource, validateProfile, type DatasetProfile, type DatasetSchema, type DataFormat, type RowSink } from './profile/index.js';
import { blobPath, canonicalManifest, manifestDigest, mlflowDigest, validateManifest, validateSha256, type ManifestEntry } from './manifest.js';
import { formatDatasetRef, parseDatasetRef, parseVersionSelector, validateDatasetName, type VersionSelector } from './refs.js';
import { DataStore, type DatasetRow, type ValidationRow, type VersionRow } from './store.js';
import { inProcessProfiler, sourcesFor, type Profiler } from './profiler.js';
import type { AddVersionInput, AddVersionResult, Dataset, DatasetVersion, DatasetVersionDetail, Page, ValidateInput, ValidationRecord, VersionDiff } from './types.js';

export interface DataServiceOptions {
  /** How blobs are profiled; default on the calling thread (the server passes a worker-thread profiler). */
  readonly profiler?: Profiler;
  readonly now?: () => number;
}

const MAX_PAGE = 1000;
/** How many blobs a missing-check reads at once. */
const BLOB_CHECKS_AT_ONCE = 8;
/** How many verified digests a process remembers (past it, they are hashed again). */
const MAX_VERIFIED = 100_000;

/** `fn` over the items, at most `limit` at a time, results in order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
const MAX_TEXT = 5000;

const pageSize = (v: unknown, dflt: number): number => validateMaxResults(v, dflt, MAX_PAGE);

function optionalText(field: string, v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || v.length > MAX_TEXT) throw invalid(`${field} must be a string of at most ${MAX_TEXT} characters`, { field });
  return v;
}

const toDataset = (r: DatasetRow): Dataset => ({
  name: r.name,
  // The newest version's description (a dataset without versions keeps the one it was created with).
  description: r.latest_version === null ? r.description : r.latest_description,
  userId: r.user_id,
  creationTime: Number(r.creation_time),
  lastUpdateTime: Number(r.last_update_time),
  latestVersion: r.latest_version === null ? null : Number(r.latest_version),
  versionCount: Number(r.version_count),
});

const toVersion = (r: VersionRow): DatasetVersion => ({
  name: r.name,
  version: Number(r.version),
  digest: r.digest,
  mlflowDigest: r.mlflow_digest,
  format: r.format as DataFormat,
  rows: Number(r.rows),
  bytes: Number(r.bytes),
  files: JSON.parse(r.manifest) as ManifestEntry[],
  source: r.source,
  description: r.description,
  userId: r.user_id,
  creationTime: Number(r.creation_time),
});

const toDetail = (r: VersionRow): DatasetVersionDetail => ({ ...toVersion(r), schema: JSON.parse(r.schema) as DatasetSchema, profile: JSON.parse(r.profile) as DatasetProfile });

function toValidation(r: ValidationRow): ValidationRecord {
  const stored = JSON.parse(r.report) as ValidationRecord['report'] & { baseline?: string | null; js_threshold?: number };
  const { baseline, js_threshold, ...report } = stored;
  return {
    id: Number(r.validation_pk),
    name: r.name,
    version: Number(r.version),
    schemaRef: r.schema_ref,
    baseline: baseline ?? null,
    jsThreshold: js_threshold ?? 0.1,
    ok: Number(r.ok) === 1,
    errors: Number(r.errors),
    warnings: Number(r.warnings),
    report,
    schema: JSON.parse(r.schema) as DatasetSchema,
    userId: r.user_id,
    creationTime: Number(r.creation_time),
  };
}

/** Thrown inside the version transaction when a concurrent add stored the same digest first. */
class SameDigest extends Error {
  constructor(readonly row: VersionRow) {
    super('same digest');
  }
}

export class DataService {
  private readonly store: DataStore;
  private readonly profiler: Profiler;
  private readonly now: () => number;
  /** Digests of blobs hashed in this process (written, or checked): only this capability writes them, so they stay right. */
  private readonly verified = new Set<string>();

  constructor(
    meta: MetadataStore,
    private readonly artifacts: ArtifactStore,
    /** Where `data.version_created` and `data.validation_recorded` are published, in the change's transaction. */
    private readonly events: EventLog,
    opts: DataServiceOptions = {},
  ) {
    this.store = new DataStore(meta.db.withTables<DataTables>(), meta.adapter);
    this.profiler = opts.profiler ?? inProcessProfiler(artifacts);
    this.now = opts.now ?? Date.now;
  }

  /** A transaction whose emitted events go to the event log with it. */
  private transaction<T>(fn: (trx: Transaction<DataTables>, emit: (e: NewEvent) => void) => Promise<T>): Promise<T> {
    return this.events.transaction(this.store.db, fn);
  }

  // ------------------------------------------------------------------ blobs

  /**
   * Which of these blobs the store lacks (in the order given, without duplicates). A blob is present only when its
   * bytes hash to its name: one that does not (planted or damaged outside this capability) is removed and reported
   * missing, so the client uploads the real content.
   */
  async missingBlobs(sha256s: readonly string[]): Promise<string[]> {
    if (!Array.isArray(sha256s) || sha256s.length > 10_000) throw invalid('sha256 must be a list of at most 10000 digests', { field: 'sha256' });
    const unique = [...new Set(sha256s.map((s, i) => validateSha256(s, `sha256[${i}]`)))];
    const present = await mapLimited(unique, BLOB_CHECKS_AT_ONCE, (s) => this.blobIntact(s));
    return unique.filter((_, i) => !present[i]);
  }

  /**
   * Whether the blob is stored with bytes that hash to its digest. Each blob is hashed once per server process (when
   * it is written, or the first time it is asked for); later checks only ask whether it still exists. A blob whose
   * bytes do not match is deleted.
   */
  private async blobIntact(sha256: string): Promise<boolean> {
    const path = blobPath(sha256);
    if (this.verified.has(sha256)) {
      if (await this.artifacts.exists(path)) return true;
      this.verified.delete(sha256);
      return false;
    }
    let object: ArtifactObject;
    try {
      object = await this.artifacts.get(path);
    } catch (e) {
      if (isKilnError(e) && e.code === 'RESOURCE_DOES_NOT_EXIST') return false;
      throw e;
    }
    const hash = createHash('sha256');
    for await (const chunk of object.body) hash.update(chunk as Buffer);
    if (hash.digest('hex') === sha256) {
      this.rememberVerified(sha256);
      return true;
    }
    await this.artifacts.delete(path);
    return false;
  }

  private rememberVerified(sha256: string): void {
    if (this.verified.size >= MAX_VERIFIED) this.verified.clear();
    this.verified.add(sha256);
  }

  /**
   * Stores a blob from a stream while hashing it. When the bytes do not hash to `sha256` (or their length differs
   * from `declaredLength`), nothing is kept and INVALID_PARAMETER_VALUE is thrown. A blob already present with the
   * right bytes is not rewritten (the body is drained); one present with other bytes is replaced by the upload.
   */
  async putBlob(sha256: string, body: Readable, declaredLength?: number): Promise<{ created: boolean; bytes: number }> {
    validateSha256(sha256);
    const path = blobPath(sha256);
    if (await this.blobIntact(sha256)) {
      body.resume();
      return { created: false, bytes: declaredLength ?? 0 };
    }
    const hash = createHash('sha256');
    let bytes = 0;
    const verify = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        bytes += chunk.length;
        cb(null, chunk);
      },
      flush(cb) {
        const got = hash.digest('hex');
        if (got !== sha256) cb(invalid(`Uploaded content does not match its digest: expected sha256 ${sha256}, got ${got} (${bytes} bytes); nothing was stored`, { expected: sha256, actual: got }));
        else if (declaredLength !== undefined && bytes !== declaredLength) cb(invalid(`Upload ended after ${bytes} bytes; ${declaredLength} were announced; nothing was stored`));
        else cb();
      },
    });
    // The store may start reading only after it has prepared the target: keep an early failure for it to see.
    verify.on('error', () => {});
    body.on('error', (e) => verify.destroy(e));
    body.pipe(verify);
    await this.artifacts.put(path, verify);
    this.rememberVerified(sha256);
    return { created: true, bytes };
  }

  /**
   * The blob's bytes for a download, checked as they stream: a size that differs from the manifest's is refused before
   * anything is sent, and a hash that differs fails the stream before its last chunk, so a client never receives a
   * complete body whose bytes are not the digest's. Either way the damaged blob is deleted (uploading the file again
   * repairs the version).
   */
  private async readVerified(entry: ManifestEntry): Promise<ArtifactObject> {
    const path = blobPath(entry.sha256);
    const object = await this.artifacts.get(path);
    const damaged = () => {
      this.verified.delete(entry.sha256);
      return this.artifacts.delete(path).catch(() => {});
    };
    if (object.size !== entry.bytes) {
      object.body.destroy();
      await damaged();
      throw new KilnError('INVALID_STATE', `The stored content of '${entry.path}' (sha256 ${entry.sha256}) is damaged: ${object.size} bytes instead of ${entry.bytes}. It was removed; upload the file again to repair the version.`);
    }
    const hash = createHash('sha256');
    let held: Buffer | undefined;
    const check = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        const out = held;
        held = chunk;
        cb(null, out);
      },
      flush(cb) {
        if (hash.digest('hex') !== entry.sha256) {
          // Removed before the stream fails: a client that uploads the file again as soon as its download failed must
          // not race the removal (which could delete its new upload, or fail it).
          void damaged().then(() => cb(new KilnError('INVALID_STATE', `The stored content of '${entry.path}' does not match its digest ${entry.sha256}; it was removed.`)));
        } else cb(null, held);
      },
    });
    object.body.on('error', (e) => check.destroy(e));
    object.body.pipe(check);
    return { body: check, size: object.size };
  }

  // ------------------------------------------------------------------ versions

  /**
   * Adds a version from blobs already uploaded. The dataset is created with its first version. When a version of the
   * dataset already has this digest it is returned (`created: false`) and nothing is written. Otherwise the blobs are
   * profiled and the version (with its schema and profile) is inserted in one transaction; when profiling fails
   * nothing is written, and blobs that no version references are removed.
   */
  async addVersion(name: string, input: AddVersionInput, actor: Actor = ANONYMOUS): Promise<AddVersionResult> {
    validateDatasetName(name);
    const { files, format } = validateManifest(input.files);
    const source = optionalText('source', input.source);
    const description = optionalText('description', input.description);
    const digest = manifestDigest(files);

    const existing = await this.existingDigest(name, digest);
    if (existing) return { created: false, version: toDetail(existing) };

    const missing = await this.missingBlobs(files.map((f) => f.sha256));
    if (missing.length > 0) {
      throw invalid(`${missing.length} blob${missing.length === 1 ? ' is' : 's are'} not uploaded (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}): PUT /api/v1/data/blobs/{sha256} first`, { missing });
    }
    const declared = new Map(files.map((f) => [f.sha256, f.bytes]));
    let profile: DatasetProfile;
    try {
      profile = await this.profiler(files);
      for (const s of profile.sources) {
        const f = files.find((x) => x.path === s.name);
        if (f && s.bytes !== declared.get(f.sha256)) throw invalid(`files: '${f.path}' has ${s.bytes} bytes, not the ${f.bytes} declared`, { field: 'files' });
      }
    } catch (e) {
      await this.removeUnreferencedBlobs(files);
      throw e;
    }
    const schema = inferSchema(profile);
    const now = this.now();
    try {
      const row = await this.transaction(async (trx, emit) => {
        const pk = await this.store.ensureDataset(trx, name, description, actor.user, now);
        const version = await this.store.takeVersionNumber(trx, pk, now);
        const same = await this.store.versionByDatasetDigest(pk, digest, trx);
        if (same) throw new SameDigest(same);
        const v = {
          dataset_pk: pk,
          version,
          digest,
          mlflow_digest: mlflowDigest(digest),
          format,
          rows: profile.rows,
          bytes: files.reduce((a, f) => a + f.bytes, 0),
          files: files.length,
          manifest: canonicalManifest(files),
          source,
          schema: JSON.stringify(schema),
          profile: JSON.stringify(profile),
          description,
          user_id: actor.user,
          creation_time: now,
        };
        await this.store.insertVersion(trx, v);
        emit({ type: 'data.version_created', actor: actor.user, time: now, subject: name, subjectKind: 'dataset', data: { name, version, ref: formatDatasetRef(name, version), digest, rows: v.rows, bytes: v.bytes } });
        return { ...v, name };
      });
      return { created: true, version: toDetail(row) };
    } catch (e) {
      if (e instanceof SameDigest) return { created: false, version: toDetail(e.row) };
      throw e;
    }
  }

  private async existingDigest(name: string, digest: string): Promise<VersionRow | undefined> {
    const ds = await this.store.datasetRow(name);
    return ds ? this.store.versionByDatasetDigest(Number(ds.dataset_pk), digest) : undefined;
  }

  /** Deletes the blobs of `files` that no version references (after a failed add, or a dataset deletion). */
  private async removeUnreferencedBlobs(files: readonly ManifestEntry[]): Promise<void> {
    for (const sha of new Set(files.map((f) => f.sha256))) {
      if (!(await this.store.blobReferenced(sha))) await this.artifacts.delete(blobPath(sha)).catch(() => {});
    }
  }

  /**
   * Who owns a dataset (for the route rules): its project, or, for a name no dataset has yet, the default project,
   * where adding a first version creates it.
   */
  registerResolvers(resources: ResourceDirectory): void {
    resources.register('dataset', async (name) => ({ projectId: (await this.store.datasetProject(name)) ?? DEFAULT_PROJECT_ID }));
    resources.registerUsage((projectId) => this.store.projectHoldsDatasets(projectId));
  }

  async listDatasets(input: { nameLike?: string; maxResults?: number; pageToken?: string } = {}): Promise<Page<Dataset>> {
    const limit = pageSize(input.maxResults, 100);
    const offset = offsetFromPageToken(input.pageToken);
    if (input.nameLike !== undefined && (typeof input.nameLike !== 'string' || input.nameLike.length > 256)) throw invalid('name_like must be a string of at most 256 characters');
    const rows = await this.store.searchDatasets(input.nameLike, offset, limit + 1);
    return offsetPage(rows, limit, offset, async (r) => r.map(toDataset));
  }

  async getDataset(name: string): Promise<Dataset> {
    return toDataset(await this.requireDataset(name));
  }

  /** Deletes a dataset, its versions and validations, and the blobs no other dataset references. */
  async deleteDataset(name: string): Promise<void> {
    const ds = await this.requireDataset(name);
    const pk = Number(ds.dataset_pk);
    const shas = new Set((await this.store.manifestsOf(pk)).flatMap((m) => (JSON.parse(m) as ManifestEntry[]).map((f) => f.sha256)));
    await this.events.transaction(this.store.db, async (trx, _emit, audit) => {
      await this.store.deleteDataset(pk, trx);
      audit({ action: 'data.dataset_deleted', resourceType: 'dataset', resourceId: ds.name, details: { versions: Number(ds.next_version) - 1 } });
    });
    for (const sha of shas) if (!(await this.store.blobReferenced(sha))) await this.artifacts.delete(blobPath(sha)).catch(() => {});
  }

  /** Versions of a dataset, newest first, without schema and profile. */
  async listVersions(name: string, input: { maxResults?: number; pageToken?: string } = {}): Promise<Page<DatasetVersion>> {
    const ds = await this.requireDataset(name);
    const limit = pageSize(input.maxResults, 100);
    const offset = offsetFromPageToken(input.pageToken);
    const rows = await this.store.listVersions(Number(ds.dataset_pk), offset, limit + 1);
    return offsetPage(rows, limit, offset, async (r) => r.map(toVersion));
  }

  /** A version with schema and profile; `version` is 3, "v3", "3" or "latest". */
  async getVersion(name: string, version: VersionSelector | string): Promise<DatasetVersionDetail> {
    return toDetail(await this.requireVersion(name, version));
  }

  /** A version from a reference such as weather@v3 (a bare name means latest). */
  async resolve(ref: string): Promise<DatasetVersionDetail> {
    const r = parseDatasetRef(ref);
    return this.getVersion(r.name, r.version);
  }

  /** The version whose digest or MLflow digest (first 36 characters) equals `digest`; the oldest when several do. */
  async versionByDigest(digest: string): Promise<DatasetVersionDetail> {
    if (typeof digest !== 'string' || !/^[0-9a-f]{1,64}$/.test(digest)) throw invalid(`Invalid digest ${JSON.stringify(digest)}: expected lowercase hexadecimal`, { field: 'digest' });
    const rows = await this.store.versionsByDigest(digest);
    if (rows.length === 0) throw notFound(`No dataset version has digest ${digest}`);
    return toDetail(rows[0]!);
  }

  /** Summaries of every version whose digest or MLflow digest is one of `digests` (for lineage; one query). */
  async versionsByDigests(digests: readonly string[]): Promise<DatasetVersion[]> {
    const valid = digests.filter((d) => typeof d === 'string' && /^[0-9a-f]{1,64}$/.test(d));
    return (await this.store.versionsByDigests(valid)).map(toVersion);
  }

  async schemaOf(name: string, version: VersionSelector | string): Promise<DatasetSchema> {
    return JSON.parse((await this.requireVersion(name, version)).schema) as DatasetSchema;
  }

  /**
   * Streams the rows of a version's files into `sink` with the profiler's readers (for capabilities that consume a
   * dataset's rows, such as monitoring's reference profiles). Returns the rows read.
   */
  async scan(name: string, version: VersionSelector | string, sink: RowSink): Promise<number> {
    const v = toVersion(await this.requireVersion(name, version, false));
    let rows = 0;
    for (const src of sourcesFor(this.artifacts, v.files)) rows += (await readSource(src, sink)).rows;
    return rows;
  }

  /** Opens one file of a version for download. */
  async openFile(name: string, version: VersionSelector | string, path: string): Promise<{ entry: ManifestEntry; object: ArtifactObject }> {
    const v = toVersion(await this.requireVersion(name, version, false));
    let p: string;
    try {
      p = normalizeArtifactPath(path);
    } catch (e) {
      throw invalid(isKilnError(e) ? e.message : String(e), { field: 'path' });
    }
    const entry = v.files.find((f) => f.path === p);
    if (!entry) throw notFound(`${formatDatasetRef(v.name, v.version)} has no file '${p}'`);
    return { entry, object: await this.readVerified(entry) };
  }

  async diff(refA: string, refB: string): Promise<VersionDiff> {
    const [a, b] = await Promise.all([this.resolve(refA), this.resolve(refB)]);
    return { a: stripDetail(a), b: stripDetail(b), diff: diffProfiles(a.profile, b.profile) };
  }

  // ------------------------------------------------------------------ validation

  /** Validates a version against a schema (inline or another version's), stores the report and returns it. */
  async validate(name: string, version: VersionSelector | string, input: ValidateInput, actor: Actor = ANONYMOUS): Promise<ValidationRecord> {
    const target = await this.requireVersion(name, version);
    if ((input.schema === undefined) === (input.schemaRef === undefined)) throw invalid('Give exactly one of schema (a schema JSON object) or schema_ref (e.g. weather@v1)', { field: 'schema' });
    const jsThreshold = input.jsThreshold ?? 0.1;
    if (typeof jsThreshold !== 'number' || !(jsThreshold >= 0 && jsThreshold <= 1)) throw invalid('js_threshold must be a number between 0 and 1', { field: 'js_threshold' });
    let schema: DatasetSchema;
    let schemaRef: string;
    let baselineRef = input.baseline;
    if (input.schemaRef !== undefined) {
      const ref = parseDatasetRef(input.schemaRef);
      const sv = await this.getVersion(ref.name, ref.version);
      schema = sv.schema;
      schemaRef = formatDatasetRef(sv.name, sv.version);
      baselineRef ??= schemaRef;
    } else {
      schema = parseSchema(input.schema);
      schemaRef = optionalText('schema_label', input.schemaLabel) ?? 'inline';
    }
    let baseline: DatasetProfile | undefined;
    let baselineName: string | null = null;
    if (baselineRef !== undefined) {
      const bv = await this.resolve(baselineRef);
      baseline = bv.profile;
      baselineName = formatDatasetRef(bv.name, bv.version);
    }
    const report = validateProfile(JSON.parse(target.profile) as DatasetProfile, schema, { baseline, jsThreshold });
    const now = this.now();
    const row = {
      dataset_pk: Number(target.dataset_pk),
      version: Number(target.version),
      schema_ref: schemaRef,
      schema: JSON.stringify(schema),
      ok: report.ok ? 1 : 0,
      errors: report.statistics.errors,
      warnings: report.statistics.warnings,
      report: JSON.stringify({ ...report, baseline: baselineName, js_threshold: jsThreshold }),
      user_id: actor.user,
      creation_time: now,
    };
    const id = await this.transaction(async (trx, emit) => {
      const pk = await this.store.insertValidation(trx, row);
      emit({
        type: 'data.validation_recorded',
        actor: actor.user,
        time: now,
        subject: target.name,
        subjectKind: 'dataset',
        data: { id: pk, name: target.name, version: Number(target.version), ref: formatDatasetRef(target.name, Number(target.version)), schema_ref: schemaRef, ok: report.ok, errors: row.errors, warnings: row.warnings },
      });
      return pk;
    });
    return toValidation({ ...row, validation_pk: id, name: target.name });
  }

  /** The validation history of a version, latest first. */
  async validations(name: string, version: VersionSelector | string, maxResults?: number): Promise<ValidationRecord[]> {
    const v = await this.requireVersion(name, version, false);
    return (await this.store.validations(Number(v.dataset_pk), Number(v.version), pageSize(maxResults, 100))).map(toValidation);
  }

  /** The latest validation report of a version, or null when it was never validated (promotion gates read this). */
  async validationsOf(name: string, version: VersionSelector | string): Promise<ValidationRecord | null> {
    return (await this.validations(name, version, 1))[0] ?? null;
  }

  // ------------------------------------------------------------------ helpers

  private async requireDataset(name: string): Promise<DatasetRow> {
    validateDatasetName(name);
    const ds = await this.store.datasetRow(name);
    if (!ds) throw notFound(`Dataset '${name}' does not exist`);
    return ds;
  }

  private async requireVersion(name: string, version: VersionSelector | string, full = true): Promise<VersionRow> {
    validateDatasetName(name);
    const sel = typeof version === 'number' && version >= 1 ? version : parseVersionSelector(version);
    const row = await this.store.versionRow(name, sel, full);
    if (row) return row;
    await this.requireDataset(name);
    throw notFound(sel === 'latest' ? `Dataset '${name}' has no version` : `Dataset '${name}' has no version v${sel}`);
  }
}

function stripDetail(v: DatasetVersionDetail): DatasetVersion {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { schema, profile, ...rest } = v;
  return rest;
}

