import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { KilnError } from '../../errors.js';
import type { ArtifactEntry, ArtifactObject, ArtifactStore } from '../types.js';

export interface S3StoreOptions {
  readonly bucket: string;
  readonly prefix: string;
  readonly endpoint?: string;
  readonly region?: string;
  readonly credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  readonly forcePathStyle?: boolean;
  /** Bodies above this size go up as multipart uploads (default 16 MiB). */
  readonly multipartThreshold?: number;
  /** Part size of multipart uploads (default 8 MiB; S3's minimum is 5 MiB). */
  readonly partSize?: number;
}

export function s3OptionsFromEnv(env: NodeJS.ProcessEnv): Omit<S3StoreOptions, 'bucket' | 'prefix'> {
  const endpoint = env.KILN_S3_ENDPOINT || env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
  const credentials =
    env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN }
      : undefined;
  return { endpoint, region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1', credentials, forcePathStyle: !!endpoint };
}

type Sdk = typeof import('@aws-sdk/client-s3');

const isMissing = (e: unknown) => {
  const x = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return x?.name === 'NoSuchKey' || x?.name === 'NotFound' || x?.$metadata?.httpStatusCode === 404;
};

/** Artifacts in an S3-compatible bucket under a key prefix. The AWS SDK is loaded only when this store is used. */
export class S3ArtifactStore implements ArtifactStore {
  readonly rootUri: string;
  private sdk: Sdk | undefined;
  private client: S3Client | undefined;
  private closed = false;

  constructor(private readonly opts: S3StoreOptions) {
    this.rootUri = `s3://${opts.bucket}${opts.prefix ? '/' + opts.prefix : ''}`;
  }

  private key(path: string): string {
    return [this.opts.prefix, path].filter((x) => x !== '').join('/');
  }

  private async c(): Promise<{ sdk: Sdk; client: S3Client }> {
    if (!this.sdk || !this.client) {
      this.sdk = await import('@aws-sdk/client-s3');
      this.client = new this.sdk.S3Client({
        endpoint: this.opts.endpoint,
        region: this.opts.region ?? 'us-east-1',
        credentials: this.opts.credentials,
        forcePathStyle: this.opts.forcePathStyle ?? !!this.opts.endpoint,
      });
    }
    return { sdk: this.sdk, client: this.client };
  }

  async ready(): Promise<void> {
    const { sdk, client } = await this.c();
    try {
      await client.send(new sdk.HeadBucketCommand({ Bucket: this.opts.bucket }));
    } catch (e) {
      throw new KilnError('INVALID_PARAMETER_VALUE', `S3 bucket '${this.opts.bucket}' is not reachable${this.opts.endpoint ? ` at ${this.opts.endpoint}` : ''}: ${(e as Error).name ?? ''} ${(e as Error).message ?? ''}`.trim());
    }
  }

  async put(path: string, body: Readable | Buffer): Promise<void> {
    const { sdk, client } = await this.c();
    const threshold = this.opts.multipartThreshold ?? 16 * 1024 * 1024;
    const partSize = this.opts.partSize ?? 8 * 1024 * 1024;
    const Key = this.key(path);
    const Bucket = this.opts.bucket;
    if (Buffer.isBuffer(body)) {
      await client.send(new sdk.PutObjectCommand({ Bucket, Key, Body: body, ContentLength: body.length }));
      return;
    }
    // Buffer up to the threshold; a larger body goes up in parts, each part buffered once.
    let first: Buffer[] = [];
    let size = 0;
    const iter = body[Symbol.asyncIterator]();
    let done = false;
    while (size <= threshold) {
      const n = await iter.next();
      if (n.done) {
        done = true;
        break;
      }
      const chunk = Buffer.from(n.value as Buffer);
      first.push(chunk);
      size += chunk.length;
    }
    if (done) {
      const all = Buffer.concat(first);
      await client.send(new sdk.PutObjectCommand({ Bucket, Key, Body: all, ContentLength: all.length }));
      return;
    }
    const { UploadId } = await client.send(new sdk.CreateMultipartUploadCommand({ Bucket, Key }));
    const parts: { ETag: string; PartNumber: number }[] = [];
    try {
      let pending = Buffer.concat(first);
      first = [];
      const sendPart = async (data: Buffer) => {
        const PartNumber = parts.length + 1;
        const r = await client.send(new sdk.UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body: data, ContentLength: data.length }));
        parts.push({ ETag: r.ETag ?? '', PartNumber });
      };
      for (;;) {
        while (pending.length >= partSize) {
          await sendPart(pending.subarray(0, partSize));
          pending = pending.subarray(partSize);
        }
        const n = await iter.next();
        if (n.done) break;
        pending = Buffer.concat([pending, Buffer.from(n.value as Buffer)]);
      }
      if (pending.length > 0 || parts.length === 0) await sendPart(pending);
      await client.send(new sdk.CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: parts } }));
    } catch (e) {
      await client.send(new sdk.AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => {});
      throw e;
    }
  }

  async get(path: string): Promise<ArtifactObject> {
    const { sdk, client } = await this.c();
    try {
      const r = await client.send(new sdk.GetObjectCommand({ Bucket: this.opts.bucket, Key: this.key(path) }));
      return { body: r.Body as Readable, size: Number(r.ContentLength ?? 0) };
    } catch (e) {
      if (isMissing(e)) throw new KilnError('RESOURCE_DOES_NOT_EXIST', `No artifact file at '${path}'`);
      throw e;
    }
  }

  async list(prefix: string): Promise<ArtifactEntry[]> {
    const { sdk, client } = await this.c();
    const base = this.key(prefix);
    const Prefix = base === '' ? '' : base + '/';
    const strip = this.opts.prefix === '' ? 0 : this.opts.prefix.length + 1;
    const out: ArtifactEntry[] = [];
    let ContinuationToken: string | undefined;
    do {
      const r = await client.send(new sdk.ListObjectsV2Command({ Bucket: this.opts.bucket, Prefix, Delimiter: '/', ContinuationToken }));
      for (const p of r.CommonPrefixes ?? []) if (p.Prefix) out.push({ path: p.Prefix.slice(strip).replace(/\/$/, ''), isDir: true });
      for (const o of r.Contents ?? []) if (o.Key && o.Key !== Prefix) out.push({ path: o.Key.slice(strip), isDir: false, size: Number(o.Size ?? 0) });
      ContinuationToken = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (ContinuationToken);
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async delete(path: string): Promise<void> {
    const { sdk, client } = await this.c();
    const Bucket = this.opts.bucket;
    await client.send(new sdk.DeleteObjectCommand({ Bucket, Key: this.key(path) })).catch((e: unknown) => {
      if (!isMissing(e)) throw e;
    });
    const Prefix = this.key(path) + '/';
    let ContinuationToken: string | undefined;
    do {
      const r = await client.send(new sdk.ListObjectsV2Command({ Bucket, Prefix, ContinuationToken }));
      const keys = (r.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      for (let i = 0; i < keys.length; i += 1000) {
        await client.send(new sdk.DeleteObjectsCommand({ Bucket, Delete: { Objects: keys.slice(i, i + 1000), Quiet: true } }));
      }
      ContinuationToken = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  async exists(path: string): Promise<boolean> {
    const { sdk, client } = await this.c();
    try {
      await client.send(new sdk.HeadObjectCommand({ Bucket: this.opts.bucket, Key: this.key(path) }));
      return true;
    } catch (e) {
      if (isMissing(e)) return false;
      throw e;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client?.destroy();
  }
}
