import type { Readable } from 'node:stream';
import type { CompletedPart, S3Client } from '@aws-sdk/client-s3';
import { KilnError } from '../../errors.js';
import { normalizeArtifactPath } from '../path.js';
import type { ArtifactEntry, ArtifactObject, ArtifactStore } from '../types.js';

export interface S3StoreOptions {
  readonly bucket: string;
  /** Key prefix every artifact lives under, without leading or trailing '/'; '' for the whole bucket. */
  readonly prefix?: string;
  /** Endpoint of an S3-compatible service (MinIO, Ceph, R2, ...); AWS itself when absent. */
  readonly endpoint?: string;
  /** Default 'us-east-1'. */
  readonly region?: string;
  /** Static credentials; when absent the standard AWS chain is used (environment, shared files, SSO, instance roles). */
  readonly credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Bucket in the path rather than the host name; default true when an endpoint is given. */
  readonly forcePathStyle?: boolean;
  /** Bodies larger than this go up as multipart uploads (default 16 MiB). */
  readonly multipartThreshold?: number;
  /** Size of the parts of a multipart upload (default 8 MiB; S3 needs at least 5 MiB for every part but the last). */
  readonly partSize?: number;
}

const MiB = 1024 * 1024;
const MAX_PARTS = 10_000;
const MAX_PART_SIZE = 5 * 1024 * MiB;
/** DeleteObjects takes at most this many keys per call. */
const DELETE_BATCH = 1000;

/**
 * Connection settings from the environment: KILN_S3_ENDPOINT (or AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL),
 * AWS_REGION (or AWS_DEFAULT_REGION, default us-east-1) and AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
 * AWS_SESSION_TOKEN. Without keys in the environment the SDK's own credential chain applies.
 */
export function s3OptionsFromEnv(env: NodeJS.ProcessEnv = process.env): Omit<S3StoreOptions, 'bucket' | 'prefix'> {
  const endpoint = env.KILN_S3_ENDPOINT || env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
  const credentials =
    env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) }
      : undefined;
  return { endpoint, region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1', credentials, forcePathStyle: !!endpoint };
}

/** Bucket and key prefix of an s3://bucket/prefix URI (the prefix is taken literally, as MLflow does). */
export function parseS3Uri(uri: string): { bucket: string; prefix: string } {
  if (!uri.startsWith('s3://')) throw new KilnError('INVALID_PARAMETER_VALUE', `Not an S3 URI: '${uri}'`);
  const rest = uri.slice('s3://'.length).replace(/[?#].*$/, '');
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/.test(bucket)) {
    throw new KilnError('INVALID_PARAMETER_VALUE', `Invalid S3 URI '${uri}': expected s3://bucket/optional/prefix`);
  }
  const prefix = slash === -1 ? '' : normalizeArtifactPath(rest.slice(slash + 1), { allowEmpty: true });
  return { bucket, prefix };
}

type Sdk = typeof import('@aws-sdk/client-s3');

interface SdkError {
  name?: string;
  Code?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

/** The object (not the bucket) is absent. HEAD answers carry no body, so a bare 404 counts too. */
function isMissingObject(e: unknown): boolean {
  const x = e as SdkError | undefined;
  if (x?.name === 'NoSuchBucket' || x?.Code === 'NoSuchBucket') return false;
  return x?.name === 'NoSuchKey' || x?.name === 'NotFound' || x?.$metadata?.httpStatusCode === 404;
}

const byPath = (a: ArtifactEntry, b: ArtifactEntry): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/**
 * Artifacts in an S3-compatible bucket under a key prefix; the artifact path 'a/b.txt' is the key 'prefix/a/b.txt'.
 *
 * The AWS SDK is imported on first use, so a server with a local store never loads it. Bodies up to
 * `multipartThreshold` are buffered and sent with one PutObject; larger ones go up as a multipart upload, one part
 * in memory at a time, and the upload is aborted when anything fails. Folders are key prefixes: listing uses the '/'
 * delimiter, and deleting a folder deletes every key under it.
 *
 * S3 keeps no real folders, so unlike the local store it does not refuse 'a/b' when 'a' is a file.
 */
export class S3ArtifactStore implements ArtifactStore {
  readonly rootUri: string;
  private readonly bucket: string;
  private readonly prefix: string;
  private loading: Promise<{ sdk: Sdk; client: S3Client }> | undefined;
  private client: S3Client | undefined;
  private closed = false;

  constructor(private readonly opts: S3StoreOptions) {
    if (!opts.bucket || opts.bucket.includes('/')) throw new KilnError('INVALID_PARAMETER_VALUE', `Invalid S3 bucket name '${opts.bucket}'`);
    this.bucket = opts.bucket;
    this.prefix = normalizeArtifactPath(opts.prefix ?? '', { allowEmpty: true });
    this.rootUri = `s3://${this.bucket}${this.prefix ? '/' + this.prefix : ''}`;
  }

  private key(path: string): string {
    return this.prefix === '' ? path : path === '' ? this.prefix : `${this.prefix}/${path}`;
  }

  private connect(): Promise<{ sdk: Sdk; client: S3Client }> {
    if (this.closed) return Promise.reject(new KilnError('TEMPORARILY_UNAVAILABLE', `The artifact store ${this.rootUri} is closed`));
    if (!this.loading) {
      const attempt = (async () => {
        let sdk: Sdk;
        try {
          sdk = await import('@aws-sdk/client-s3');
        } catch (e) {
          throw new KilnError('INTERNAL_ERROR', `The S3 artifact store needs the package @aws-sdk/client-s3: ${(e as Error).message}`);
        }
        if (this.closed) throw new KilnError('TEMPORARILY_UNAVAILABLE', `The artifact store ${this.rootUri} is closed`);
        const client = new sdk.S3Client({
          region: this.opts.region || 'us-east-1',
          ...(this.opts.endpoint ? { endpoint: this.opts.endpoint } : {}),
          ...(this.opts.credentials ? { credentials: this.opts.credentials } : {}),
          forcePathStyle: this.opts.forcePathStyle ?? !!this.opts.endpoint,
          // Fail fast on an endpoint that does not answer; a slow transfer is not cut short.
          requestHandler: { connectionTimeout: 10_000 },
        });
        this.client = client;
        return { sdk, client };
      })();
      attempt.catch(() => {
        if (this.loading === attempt) this.loading = undefined;
      });
      this.loading = attempt;
    }
    return this.loading;
  }

  async ready(): Promise<void> {
    const { sdk, client } = await this.connect();
    try {
      await client.send(new sdk.HeadBucketCommand({ Bucket: this.bucket }));
    } catch (e) {
      const x = e as SdkError;
      const where = `S3 bucket '${this.bucket}'${this.opts.endpoint ? ` at ${this.opts.endpoint}` : ''}`;
      const status = x.$metadata?.httpStatusCode;
      if (status === 404 || x.name === 'NotFound' || x.name === 'NoSuchBucket') {
        throw new KilnError('INVALID_PARAMETER_VALUE', `${where} does not exist; create it or fix the artifact store URI`);
      }
      if (status === 403 || status === 401) {
        throw new KilnError('INVALID_PARAMETER_VALUE', `${where} refused access (HTTP ${status}); check the credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) and the bucket policy`);
      }
      const detail = [x.name, x.code, x.message].filter((s) => s && s !== 'Error' && s !== 'UnknownError').join(': ');
      throw new KilnError('TEMPORARILY_UNAVAILABLE', `${where} is not reachable${detail ? ` (${detail})` : ''}; check KILN_S3_ENDPOINT and the network`);
    }
  }

  async put(path: string, body: Readable | Buffer, contentLength?: number): Promise<void> {
    const rel = normalizeArtifactPath(path);
    const Key = this.key(rel);
    const Bucket = this.bucket;
    const threshold = this.opts.multipartThreshold ?? 16 * MiB;
    const reader = new ChunkReader(Buffer.isBuffer(body) ? [body][Symbol.iterator]() : body[Symbol.asyncIterator]());
    try {
      const { sdk, client } = await this.connect();
      const mismatch = (got: number) =>
        new KilnError(
          'INVALID_PARAMETER_VALUE',
          got > (contentLength ?? 0)
            ? `Upload of '${rel}' is longer than the ${contentLength} bytes announced`
            : `Upload of '${rel}' ended after ${got} bytes; ${contentLength} were announced`,
        );

      if (contentLength !== undefined && contentLength <= threshold) {
        // Known small size: one byte more than announced is enough to tell a longer body.
        const all = await reader.take(contentLength + 1);
        if (all.length !== contentLength) throw mismatch(all.length);
        await client.send(new sdk.PutObjectCommand({ Bucket, Key, Body: all, ContentLength: all.length }));
        return;
      }
      if (contentLength === undefined) {
        // Unknown size: read up to one byte past the threshold to choose between one request and a multipart upload.
        const head = await reader.take(threshold + 1);
        if (head.length <= threshold) {
          await client.send(new sdk.PutObjectCommand({ Bucket, Key, Body: head, ContentLength: head.length }));
          return;
        }
        reader.unshift(head);
      }

      // Multipart. With a known size the part size grows so the upload fits in S3's 10,000 parts; with an unknown
      // size it doubles every 1,000 parts, which reaches S3's 5 TiB object limit before the part count runs out.
      const base = Math.max(this.opts.partSize ?? 8 * MiB, contentLength ? Math.ceil(contentLength / MAX_PARTS) : 0);
      const partSizeOf = (n: number) => Math.min(MAX_PART_SIZE, contentLength ? base : base * 2 ** Math.floor((n - 1) / 1000));
      const checksums = await withChecksums(client);
      const created = await client.send(new sdk.CreateMultipartUploadCommand({ Bucket, Key, ...(checksums ? { ChecksumAlgorithm: 'CRC32' } : {}) }));
      const UploadId = created.UploadId;
      if (!UploadId) throw new KilnError('INTERNAL_ERROR', `S3 did not return an upload id for '${Key}'`);
      try {
        const parts: CompletedPart[] = [];
        let total = 0;
        for (let n = 1; ; n++) {
          const data = await reader.take(partSizeOf(n));
          if (data.length === 0 && n > 1) break;
          if (n > MAX_PARTS) throw new KilnError('INVALID_PARAMETER_VALUE', `Upload of '${rel}' is larger than S3 accepts`);
          total += data.length;
          if (contentLength !== undefined && total > contentLength) throw mismatch(total);
          const r = await client.send(
            new sdk.UploadPartCommand({ Bucket, Key, UploadId, PartNumber: n, Body: data, ContentLength: data.length, ...(checksums ? { ChecksumAlgorithm: 'CRC32' } : {}) }),
          );
          parts.push({ PartNumber: n, ETag: r.ETag, ...(r.ChecksumCRC32 ? { ChecksumCRC32: r.ChecksumCRC32 } : {}) });
          if (data.length < partSizeOf(n)) break; // the source is exhausted
        }
        if (contentLength !== undefined && total !== contentLength) throw mismatch(total);
        await client.send(new sdk.CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: parts } }));
      } catch (e) {
        await client.send(new sdk.AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => {});
        throw e;
      }
    } catch (e) {
      if (!Buffer.isBuffer(body) && !body.destroyed) body.destroy();
      throw e;
    }
  }

  async get(path: string): Promise<ArtifactObject> {
    const rel = normalizeArtifactPath(path);
    const { sdk, client } = await this.connect();
    try {
      const r = await client.send(new sdk.GetObjectCommand({ Bucket: this.bucket, Key: this.key(rel) }));
      if (!r.Body) throw new KilnError('INTERNAL_ERROR', `S3 returned no body for '${rel}'`);
      return { body: r.Body as Readable, size: Number(r.ContentLength ?? 0) };
    } catch (e) {
      if (isMissingObject(e)) throw new KilnError('RESOURCE_DOES_NOT_EXIST', `No artifact file at '${rel}'`);
      throw e;
    }
  }

  async list(prefix: string): Promise<ArtifactEntry[]> {
    const rel = normalizeArtifactPath(prefix, { allowEmpty: true });
    const { sdk, client } = await this.connect();
    const base = this.key(rel);
    const Prefix = base === '' ? '' : base + '/';
    const strip = this.prefix === '' ? 0 : this.prefix.length + 1;
    const folders = new Set<string>();
    const files = new Map<string, number>();
    let ContinuationToken: string | undefined;
    do {
      const r = await client.send(new sdk.ListObjectsV2Command({ Bucket: this.bucket, Prefix, Delimiter: '/', ContinuationToken }));
      for (const p of r.CommonPrefixes ?? []) {
        if (p.Prefix && p.Prefix.length > Prefix.length + 1) folders.add(p.Prefix.slice(strip, -1));
      }
      for (const o of r.Contents ?? []) {
        // A key equal to the prefix is a folder marker some tools create; it is not a child.
        if (o.Key && o.Key !== Prefix) files.set(o.Key.slice(strip), Number(o.Size ?? 0));
      }
      ContinuationToken = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (ContinuationToken);
    const out: ArtifactEntry[] = [...folders].map((path) => ({ path, isDir: true }));
    for (const [path, size] of files) out.push({ path, isDir: false, size });
    return out.sort(byPath);
  }

  async delete(path: string): Promise<void> {
    const rel = normalizeArtifactPath(path, { allowEmpty: true });
    if (rel === '') throw new KilnError('INVALID_PARAMETER_VALUE', 'Refusing to delete the root of the artifact store');
    const { sdk, client } = await this.connect();
    const Bucket = this.bucket;
    const key = this.key(rel);
    // The object itself, if the path is a file (S3 answers 204 for a key that does not exist).
    await client.send(new sdk.DeleteObjectCommand({ Bucket, Key: key })).catch((e: unknown) => {
      if (!isMissingObject(e)) throw e;
    });
    // Everything under it, if it is a folder. Each listed page holds at most 1,000 keys, one DeleteObjects call.
    let ContinuationToken: string | undefined;
    do {
      const r = await client.send(new sdk.ListObjectsV2Command({ Bucket, Prefix: key + '/', ContinuationToken }));
      const keys = (r.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      for (let i = 0; i < keys.length; i += DELETE_BATCH) {
        const d = await client.send(new sdk.DeleteObjectsCommand({ Bucket, Delete: { Objects: keys.slice(i, i + DELETE_BATCH), Quiet: true } }));
        const failed = (d.Errors ?? []).filter((x) => x.Code !== 'NoSuchKey');
        if (failed.length > 0) {
          const first = failed[0]!;
          throw new KilnError('INTERNAL_ERROR', `Could not delete ${failed.length} object(s) under '${rel}': ${first.Key}: ${first.Code} ${first.Message ?? ''}`.trim());
        }
      }
      ContinuationToken = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  async exists(path: string): Promise<boolean> {
    const rel = normalizeArtifactPath(path);
    const { sdk, client } = await this.connect();
    try {
      await client.send(new sdk.HeadObjectCommand({ Bucket: this.bucket, Key: this.key(rel) }));
      return true;
    } catch (e) {
      if (isMissingObject(e)) return false;
      throw e;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client?.destroy();
    this.client = undefined;
  }
}

/**
 * Whether the client adds checksums to requests that support them (the SDK default, 'WHEN_SUPPORTED'; operators can
 * turn it off with AWS_REQUEST_CHECKSUM_CALCULATION=WHEN_REQUIRED for services that reject them). A multipart upload
 * must then declare the algorithm when it is created and list each part's checksum when it is completed.
 */
async function withChecksums(client: S3Client): Promise<boolean> {
  const setting: unknown = (client.config as { requestChecksumCalculation?: unknown }).requestChecksumCalculation;
  const value = typeof setting === 'function' ? await (setting as () => Promise<unknown>)() : setting;
  return value === 'WHEN_SUPPORTED';
}

/** Reads a byte source in exact-size pieces, holding no more than one piece in memory. */
class ChunkReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private done = false;

  constructor(private readonly source: AsyncIterator<unknown> | Iterator<unknown>) {}

  unshift(data: Buffer): void {
    if (data.length === 0) return;
    this.pending.unshift(data);
    this.pendingBytes += data.length;
  }

  /** The next `size` bytes, or fewer when the source ends first (empty at the end). */
  async take(size: number): Promise<Buffer> {
    while (this.pendingBytes < size && !this.done) {
      const next = await this.source.next();
      if (next.done) {
        this.done = true;
        break;
      }
      const chunk = toBuffer(next.value);
      if (chunk.length === 0) continue;
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
    }
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    const out = all.length <= size ? all : all.subarray(0, size);
    const rest = all.length <= size ? undefined : all.subarray(size);
    this.pending = rest ? [rest] : [];
    this.pendingBytes = rest?.length ?? 0;
    return out;
  }
}

function toBuffer(v: unknown): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (typeof v === 'string') return Buffer.from(v);
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  throw new KilnError('INVALID_PARAMETER_VALUE', 'An artifact body must be a stream of bytes');
}
