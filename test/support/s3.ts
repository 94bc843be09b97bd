import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, rename, unlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';

/** Credentials s3rver accepts. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

const CHILD_FLAG = '--kiln-s3rver-child';
const THIS_FILE = fileURLToPath(import.meta.url);

export interface S3TestServer {
  /** http://127.0.0.1:<port> */
  readonly endpoint: string;
  /** A bucket that exists and is empty at start. */
  readonly bucket: string;
  stop(): Promise<void>;
}

/**
 * An S3-compatible server (s3rver) on a random loopback port, with one empty bucket, its data in a temporary folder.
 *
 * s3rver runs in a child process, where three of its faults can be mended without touching the test process:
 * - it signs ListObjectsV2 continuation tokens with single DES, which OpenSSL 3 only offers through its legacy
 *   provider, so any listing longer than 1,000 keys fails with HTTP 500 unless Node runs with --openssl-legacy-provider;
 * - its listing walks the data folder in readdir order (hash order on ext4, not key order) and skips folders it
 *   wrongly takes for rolled-up common prefixes, so pages can lose keys and a folder holding only subfolders is not
 *   listed. The child swaps in a walk that visits everything in key order (`walkInKeyOrder`);
 * - its PutObject is neither atomic nor read-after-write consistent; the child swaps in one that is (`atomicPutObject`).
 * These are harness fixes only: the store under test talks plain S3 to it. Use the credentials in S3RVER_CREDENTIALS.
 */
export async function startS3Server(): Promise<S3TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-s3-'));
  const bucket = 'kiln-test';
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT; // the child is a plain script, not a test file
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, ['--openssl-legacy-provider', THIS_FILE, CHILD_FLAG, dir, bucket], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env,
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    if (stderr.length < 10_000) stderr += s;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`s3rver did not start within 20 s: ${stderr}`)), 20_000);
      child.stdout.setEncoding('utf8').on('data', (s: string) => {
        out += s;
        const m = /^listening (\d+)$/m.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`s3rver exited before it was ready (code ${code}, signal ${signal}): ${stderr}`));
      });
    });
  } catch (e) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  // The child ends when its stdin closes, so it cannot outlive this process; it must not keep this process alive either.
  child.unref();
  for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as { unref?: () => void }).unref?.();

  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    stop() {
      stopping ??= (async () => {
        child.stdin.end();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

/** The walk s3rver's listing uses, in S3 key order (UTF-8 bytes) and without its faulty pruning. */
function* walkInKeyOrder(dir: string): Generator<string> {
  const sortKey = (name: string, isDir: boolean) => Buffer.from(isDir ? name + '/' : name.replace(/\._S3rver_[^/]*$/, ''));
  const entries = readdirSync(dir, { withFileTypes: true })
    .map((d) => ({ d, key: sortKey(d.name, d.isDirectory()) }))
    .sort((a, b) => Buffer.compare(a.key, b.key));
  for (const { d } of entries) {
    const p = posix.join(dir, d.name);
    if (d.isDirectory()) yield* walkInKeyOrder(p);
    else yield p;
  }
}

interface S3rverObject {
  bucket: string;
  key: string;
  content: Buffer | Readable;
  metadata: Record<string, string>;
}
interface S3rverFileStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
}

/**
 * s3rver's PutObject writes straight into the object's file and answers before the write is flushed, so two PUTs of
 * one key interleave their bytes and a GET right after a PUT can see a part. This one writes a temporary file, renames
 * it into place, and takes the PUTs of one key in turn, which gives S3's atomic, read-after-write PUT.
 */
function atomicPutObject(): (this: S3rverFileStore, object: S3rverObject) => Promise<{ size: number; md5: string }> {
  const queues = new Map<string, Promise<unknown>>();
  let seq = 0;
  async function write(store: S3rverFileStore, object: S3rverObject): Promise<{ size: number; md5: string }> {
    const objectPath = store.getResourcePath(object.bucket, object.key, 'object');
    await mkdir(dirname(objectPath), { recursive: true });
    const tmp = `${objectPath}.${process.pid}-${seq++}.tmp`;
    const md5 = createHash('md5');
    let size = 0;
    try {
      await pipeline(
        Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content,
        new Transform({
          transform(chunk: Buffer, _enc, cb) {
            md5.update(chunk);
            size += chunk.length;
            cb(null, chunk);
          },
        }),
        createWriteStream(tmp),
      );
      await rename(tmp, objectPath);
    } catch (e) {
      await unlink(tmp).catch(() => {});
      throw e;
    }
    const digest = md5.digest('hex');
    await store.putMetadata(object.bucket, object.key, object.metadata, digest);
    return { size, md5: digest };
  }
  return function (this: S3rverFileStore, object: S3rverObject) {
    const id = `${object.bucket}/${object.key}`;
    const run = (queues.get(id) ?? Promise.resolve()).catch(() => {}).then(() => write(this, object));
    queues.set(id, run);
    const forget = () => {
      if (queues.get(id) === run) queues.delete(id);
    };
    run.then(forget, forget);
    return run;
  };
}

async function serveChild(dir: string, bucket: string): Promise<void> {
  const require = createRequire(import.meta.url);
  // Replace the walk before s3rver's file store module reads it.
  const utils = require('s3rver/lib/utils.js') as { walk: (dir: string, filter?: unknown) => Iterable<string> };
  utils.walk = (d: string) => walkInKeyOrder(d);
  const FilesystemStore = require('s3rver/lib/stores/filesystem.js') as { prototype: { putObject: unknown } };
  FilesystemStore.prototype.putObject = atomicPutObject();
  const { default: S3rver } = await import('s3rver');
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  process.stdout.write(`listening ${port}\n`);
  // Nothing needs flushing (the parent removes the data folder), and waiting for idle keep-alive sockets could stall.
  const stop = () => process.exit(0);
  process.stdin.on('end', stop).on('close', stop).resume();
  process.on('SIGTERM', stop);
}

if (process.argv[1] === THIS_FILE && process.argv[2] === CHILD_FLAG) {
  serveChild(process.argv[3]!, process.argv[4]!).catch((e: unknown) => {
    process.stderr.write(`s3rver failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
