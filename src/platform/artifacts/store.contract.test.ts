import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createArtifactStore } from './index.js';
import { LocalArtifactStore } from './local/store.js';
import { S3ArtifactStore, parseS3Uri, s3OptionsFromEnv } from './s3/store.js';
import type { ArtifactStore } from './types.js';
import { S3RVER_CREDENTIALS, startS3Server } from '../../../test/support/s3.js';
import type { S3TestServer } from '../../../test/support/s3.js';
import { ARTIFACT_BACKENDS } from '../../../test/support/backends.js';

const MiB = 1024 * 1024;

async function bytes(store: ArtifactStore, path: string): Promise<Buffer> {
  const obj = await store.get(path);
  const chunks: Buffer[] = [];
  for await (const c of obj.body) chunks.push(Buffer.from(c as Buffer));
  const all = Buffer.concat(chunks);
  assert.equal(obj.size, all.length, `size of ${path} matches its bytes`);
  return all;
}

const text = async (store: ArtifactStore, path: string): Promise<string> => (await bytes(store, path)).toString('utf8');
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const code = (expected: string, message?: RegExp) => (e: Error & { code?: string }) => {
  assert.equal(e.code, expected, `${e.code}: ${e.message}`);
  if (message) assert.match(e.message, message);
  return true;
};

/** `count` MiB of bytes where every MiB differs, so a part stored out of order is noticed. */
function pattern(count: number): Buffer[] {
  return Array.from({ length: count }, (_, i) => {
    const b = Buffer.alloc(MiB);
    for (let j = 0; j < b.length; j += 4) b.writeUInt32LE((j * 2654435761 + i * 40503) >>> 0, j);
    return b;
  });
}

/** A stream that yields `chunks` and then fails. */
function failingAfter(chunks: Buffer[]): Readable {
  let i = 0;
  return new Readable({
    read() {
      if (i < chunks.length) this.push(chunks[i++]);
      else this.destroy(new Error('client went away'));
    },
  });
}

/** Runs `fn` over `items` with at most `width` in flight. */
async function inParallel<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

interface Backend {
  /** A new, empty store: its own folder (local) or its own key prefix (S3). */
  fresh(): Promise<ArtifactStore>;
  stop(): Promise<void>;
}

async function openBackend(kind: 'local' | 's3'): Promise<Backend> {
  const opened: ArtifactStore[] = [];
  let n = 0;
  if (kind === 'local') {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-art-'));
    return {
      async fresh() {
        const store = await createArtifactStore(pathToFileURL(join(dir, `root-${n++}`)).href);
        opened.push(store);
        await store.ready();
        return store;
      },
      async stop() {
        for (const s of opened) await s.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const s3 = await startS3Server();
  const env = { KILN_S3_ENDPOINT: s3.endpoint, AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey };
  return {
    async fresh() {
      const store = await createArtifactStore(`s3://${s3.bucket}/stores/s${n++}`, env);
      opened.push(store);
      await store.ready();
      return store;
    },
    async stop() {
      for (const s of opened) await s.close();
      await s3.stop();
    },
  };
}

for (const backend of ARTIFACT_BACKENDS) {
  describe(`artifact store contract: ${backend}`, () => {
    let b: Backend;
    before(async () => {
      b = await openBackend(backend);
    });
    after(async () => {
      await b?.stop();
    });

    it('round-trips buffers, streams and empty files', async () => {
      const store = await b.fresh();
      await store.put('a/b.txt', Buffer.from('hello'));
      assert.equal(await text(store, 'a/b.txt'), 'hello');
      await store.put('a/strings.txt', Readable.from(['he', 'llo ', 'world']));
      assert.equal(await text(store, 'a/strings.txt'), 'hello world');
      await store.put('a/buffers.bin', Readable.from([Buffer.from([0, 1, 2]), Buffer.alloc(0), Buffer.from([255])]), 4);
      assert.deepEqual([...(await bytes(store, 'a/buffers.bin'))], [0, 1, 2, 255]);
      await store.put('empty.bin', Buffer.alloc(0));
      const empty = await store.get('empty.bin');
      assert.equal(empty.size, 0);
      empty.body.destroy();
      assert.equal((await bytes(store, 'empty.bin')).length, 0);
      await store.put('empty-stream.bin', Readable.from([]), 0);
      assert.equal((await bytes(store, 'empty-stream.bin')).length, 0);
      assert.deepEqual(await store.list(''), [
        { path: 'a', isDir: true },
        { path: 'empty-stream.bin', isDir: false, size: 0 },
        { path: 'empty.bin', isDir: false, size: 0 },
      ]);
    });

    it('stores a 20 MiB stream of unknown length and a 20 MiB buffer of known length (multipart on S3)', async () => {
      const store = await b.fresh();
      const chunks = pattern(20);
      const whole = Buffer.concat(chunks);
      await store.put('big/stream.bin', Readable.from(chunks));
      await store.put('big/buffer.bin', whole, whole.length);
      for (const p of ['big/stream.bin', 'big/buffer.bin']) {
        const got = await bytes(store, p);
        assert.equal(got.length, 20 * MiB);
        assert.equal(sha256(got), sha256(whole), `${p} holds the same bytes in the same order`);
      }
      assert.deepEqual(await store.list('big'), [
        { path: 'big/buffer.bin', isDir: false, size: 20 * MiB },
        { path: 'big/stream.bin', isDir: false, size: 20 * MiB },
      ]);
      // A large object replaced by a small one.
      await store.put('big/stream.bin', Buffer.from('small now'));
      assert.equal(await text(store, 'big/stream.bin'), 'small now');
    });

    it('overwrites', async () => {
      const store = await b.fresh();
      await store.put('over.txt', Buffer.from('one'));
      await store.put('over.txt', Readable.from(['two!']));
      assert.equal(await text(store, 'over.txt'), 'two!');
      assert.deepEqual(await store.list(''), [{ path: 'over.txt', isDir: false, size: 4 }]);
    });

    it('lists immediate children, sorted, with sizes', async () => {
      const store = await b.fresh();
      await store.put('l/z.txt', Buffer.from('zz'));
      await store.put('l/a.txt', Buffer.from('a'));
      await store.put('l/B.txt', Buffer.from('BBBB'));
      await store.put('l/sub/deep/x.txt', Buffer.from('x'));
      await store.put('l/sub/w.txt', Buffer.from('w'));
      await store.put('l/sub-2/y.txt', Buffer.from('yyy'));
      await store.put('l/sub.txt', Buffer.from('.'));
      await store.put('top.txt', Buffer.from('top'));
      assert.deepEqual(await store.list('l'), [
        { path: 'l/B.txt', isDir: false, size: 4 },
        { path: 'l/a.txt', isDir: false, size: 1 },
        { path: 'l/sub', isDir: true },
        { path: 'l/sub-2', isDir: true },
        { path: 'l/sub.txt', isDir: false, size: 1 },
        { path: 'l/z.txt', isDir: false, size: 2 },
      ]);
      assert.deepEqual(await store.list('l/sub'), [
        { path: 'l/sub/deep', isDir: true },
        { path: 'l/sub/w.txt', isDir: false, size: 1 },
      ]);
      assert.deepEqual(await store.list('l/sub/deep/'), [{ path: 'l/sub/deep/x.txt', isDir: false, size: 1 }], 'a trailing slash is ignored');
      assert.deepEqual(await store.list(''), [
        { path: 'l', isDir: true },
        { path: 'top.txt', isDir: false, size: 3 },
      ]);
    });

    it('lists a folder that holds only subfolders', async () => {
      const store = await b.fresh();
      await store.put('only/nested/deeper/f.txt', Buffer.from('f'));
      await store.put('only/other/g.txt', Buffer.from('g'));
      assert.deepEqual(await store.list('only'), [
        { path: 'only/nested', isDir: true },
        { path: 'only/other', isDir: true },
      ]);
      assert.deepEqual(await store.list(''), [{ path: 'only', isDir: true }]);
    });

    it('lists nothing for a missing folder, a file, or an empty store', async () => {
      const store = await b.fresh();
      assert.deepEqual(await store.list(''), []);
      await store.put('file.txt', Buffer.from('x'));
      assert.deepEqual(await store.list('nothing/here'), []);
      assert.deepEqual(await store.list('file.txt'), []);
      assert.deepEqual(await store.list('fil'), [], 'a name prefix is not a folder');
    });

    it('lists and deletes more than 1,000 entries (paged listing, batched deletes)', async () => {
      const store = await b.fresh();
      const names = Array.from({ length: 1010 }, (_, i) => `many/f${String(i).padStart(4, '0')}.txt`);
      await inParallel(names, 24, (p) => store.put(p, Buffer.from(p)));
      await store.put('many/sub/inner.txt', Buffer.from('i'));
      await store.put('many-sibling.txt', Buffer.from('s'));
      const listed = await store.list('many');
      assert.equal(listed.length, 1011);
      assert.deepEqual(
        listed.map((e) => e.path),
        [...names, 'many/sub'].sort(),
      );
      assert.ok(listed.every((e) => (e.isDir ? e.size === undefined : e.size === Buffer.byteLength(e.path))));
      await store.delete('many');
      assert.deepEqual(await store.list('many'), []);
      assert.deepEqual(await store.list(''), [{ path: 'many-sibling.txt', isDir: false, size: 1 }]);
    });

    it('keeps unicode and spaces in names, in NFC', async () => {
      const store = await b.fresh();
      await store.put('u/résumé 📈.txt', Buffer.from('ü'));
      await store.put('u/中文 目录/数据 1.csv', Buffer.from('a,b'));
      await store.put('u/cafe\u0301.txt', Buffer.from('nfd')); // stored under its NFC name
      assert.deepEqual(await store.list('u'), [
        { path: 'u/café.txt', isDir: false, size: 3 },
        { path: 'u/résumé 📈.txt', isDir: false, size: 2 },
        { path: 'u/中文 目录', isDir: true },
      ]);
      assert.equal(await text(store, 'u/résumé 📈.txt'), 'ü');
      assert.equal(await text(store, 'u/中文 目录/数据 1.csv'), 'a,b');
      assert.equal(await text(store, 'u/café.txt'), 'nfd');
      assert.equal(await text(store, 'u/cafe\u0301.txt'), 'nfd');
      assert.equal(await store.exists('u/café.txt'), true);
    });

    it('deletes files and whole folders, leaves look-alike siblings, and accepts deleting nothing', async () => {
      const store = await b.fresh();
      for (const p of ['d/1.txt', 'd/sub/2.txt', 'd/sub/deeper/3.txt', 'dd/x.txt', 'd.txt', 'd-x/y.txt']) await store.put(p, Buffer.from(p));
      await store.delete('d/1.txt');
      assert.equal(await store.exists('d/1.txt'), false);
      assert.equal(await store.exists('d/sub/2.txt'), true);
      await store.delete('d');
      assert.deepEqual(await store.list('d'), []);
      assert.equal(await store.exists('d/sub/deeper/3.txt'), false);
      assert.deepEqual(
        (await store.list('')).map((e) => e.path),
        ['d-x', 'd.txt', 'dd'],
      );
      await store.put('e/f/g.txt', Buffer.from('g'));
      await store.delete('e/f/g.txt');
      assert.deepEqual(await store.list('e'), [], 'a folder disappears with its last file');
      assert.ok(!(await store.list('')).some((e) => e.path === 'e'));
      await store.delete('never/was');
      await store.delete('d.txt/below-a-file');
      await assert.rejects(store.delete(''), code('INVALID_PARAMETER_VALUE', /root/));
      assert.equal(await text(store, 'd.txt'), 'd.txt');
    });

    it('reports missing files and folders as RESOURCE_DOES_NOT_EXIST; exists is true for files only', async () => {
      const store = await b.fresh();
      await assert.rejects(store.get('missing.txt'), code('RESOURCE_DOES_NOT_EXIST', /missing\.txt/));
      await store.put('f/inside.txt', Buffer.from('x'));
      await assert.rejects(store.get('f'), code('RESOURCE_DOES_NOT_EXIST'));
      await assert.rejects(store.get('f/inside.txt/more'), code('RESOURCE_DOES_NOT_EXIST'));
      assert.equal(await store.exists('f/inside.txt'), true);
      assert.equal(await store.exists('f'), false);
      assert.equal(await store.exists('missing.txt'), false);
      assert.equal(await store.exists('f/inside.txt/more'), false);
    });

    it('refuses unsafe paths itself, whatever the caller checked', async () => {
      const store = await b.fresh();
      await assert.rejects(store.put('../escape.txt', Buffer.from('x')), code('INVALID_PARAMETER_VALUE', /'\.\.'/));
      await assert.rejects(store.put('/etc/passwd', Buffer.from('x')), code('INVALID_PARAMETER_VALUE', /absolute/));
      await assert.rejects(store.get('a/../../b'), code('INVALID_PARAMETER_VALUE'));
      await assert.rejects(store.list('..'), code('INVALID_PARAMETER_VALUE'));
      await assert.rejects(store.delete('x/..'), code('INVALID_PARAMETER_VALUE'));
      await assert.rejects(store.exists('a\\b'), code('INVALID_PARAMETER_VALUE', /backslash/));
      await assert.rejects(store.put('', Buffer.from('x')), code('INVALID_PARAMETER_VALUE', /empty/));
      assert.deepEqual(await store.list(''), []);
    });

    it('stores nothing (and keeps the old content) when an upload fails or its length is wrong', async () => {
      const store = await b.fresh();
      await store.put('keep.txt', Buffer.from('old'));
      await assert.rejects(store.put('keep.txt', failingAfter([Buffer.from('new content')])), /client went away/);
      await assert.rejects(store.put('keep.txt', Readable.from(['too short']), 100), code('INVALID_PARAMETER_VALUE', /100/));
      await assert.rejects(store.put('keep.txt', Readable.from(['longer than announced']), 3), code('INVALID_PARAMETER_VALUE', /3/));
      await assert.rejects(store.put('keep.txt', Buffer.from('abc'), 4), code('INVALID_PARAMETER_VALUE'));
      assert.equal(await text(store, 'keep.txt'), 'old');
      // Large enough for a multipart upload on S3, which must be aborted.
      await assert.rejects(store.put('big/partial.bin', failingAfter(pattern(18))), /client went away/);
      await assert.rejects(store.put('big/short.bin', Readable.from(pattern(17)), 18 * MiB), code('INVALID_PARAMETER_VALUE'));
      assert.equal(await store.exists('big/partial.bin'), false);
      assert.equal(await store.exists('big/short.bin'), false);
      assert.deepEqual(await store.list(''), [{ path: 'keep.txt', isDir: false, size: 3 }]);
    });

    it('keeps one whole version when the same path is written concurrently', async () => {
      const store = await b.fresh();
      const versions = Array.from({ length: 12 }, (_, i) => Buffer.alloc(64 * 1024 + i, 65 + i));
      await Promise.all(versions.map((v) => store.put('race.bin', Readable.from([v.subarray(0, 1000), v.subarray(1000)]))));
      const got = await bytes(store, 'race.bin');
      assert.ok(versions.some((v) => v.equals(got)), 'the content is exactly one of the written versions');
      assert.deepEqual(await store.list(''), [{ path: 'race.bin', isDir: false, size: got.length }]);
    });

    it('can be made ready and closed twice', async () => {
      const store = await b.fresh();
      await store.ready();
      await store.put('x.txt', Buffer.from('x'));
      await store.close();
      await store.close();
    });
  });
}

describe('local artifact store safety', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kiln-art-safety-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const setup = async (name: string) => {
    const base = join(dir, name);
    const outside = join(base, 'outside');
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'secret.txt'), 'secret');
    const root = join(base, 'root');
    const store = new LocalArtifactStore(root);
    await store.ready();
    return { store, root, outside };
  };

  it('does not follow a symbolic link out of the root, for reading or writing', async () => {
    const { store, root, outside } = await setup('links');
    symlinkSync(outside, join(root, 'link'));
    symlinkSync(join(outside, 'secret.txt'), join(root, 'secret-link.txt'));
    const leaves = code('INVALID_PARAMETER_VALUE', /leaves the artifact store/);
    await assert.rejects(store.get('link/secret.txt'), leaves);
    await assert.rejects(store.get('secret-link.txt'), leaves);
    await assert.rejects(store.put('link/new.txt', Buffer.from('x')), leaves);
    await assert.rejects(store.put('link/deeper/new.txt', Buffer.from('x')), leaves);
    await assert.rejects(store.list('link'), leaves);
    await assert.rejects(store.exists('link/secret.txt'), leaves);
    await assert.rejects(store.delete('link/secret.txt'), leaves);
    assert.deepEqual(await store.list(''), [], 'links out of the root are not listed');
    assert.deepEqual(readdirSync(outside), ['secret.txt']);
    // Deleting the link removes the link, not what it points to.
    await store.delete('link');
    await store.delete('secret-link.txt');
    assert.equal(readFileSync(join(outside, 'secret.txt'), 'utf8'), 'secret');
    assert.equal(existsSync(join(root, 'link')), false);
  });

  it('replaces a link at the written path instead of writing through it', async () => {
    const { store, root, outside } = await setup('replace-link');
    symlinkSync(join(outside, 'secret.txt'), join(root, 'target.txt'));
    await store.put('target.txt', Buffer.from('mine'));
    assert.equal(readFileSync(join(outside, 'secret.txt'), 'utf8'), 'secret');
    assert.equal(await text(store, 'target.txt'), 'mine');
  });

  it('follows links that stay inside the root', async () => {
    const { store, root } = await setup('inner-links');
    await store.put('real/data.txt', Buffer.from('inside'));
    symlinkSync(join(root, 'real'), join(root, 'alias'));
    assert.equal(await text(store, 'alias/data.txt'), 'inside');
    assert.deepEqual(await store.list(''), [
      { path: 'alias', isDir: true },
      { path: 'real', isDir: true },
    ]);
  });

  it('leaves no file behind when an upload fails midway', async () => {
    const { store, root } = await setup('partial');
    await assert.rejects(store.put('up/partial.bin', failingAfter([Buffer.alloc(1024), Buffer.alloc(1024)])), /client went away/);
    assert.equal(await store.exists('up/partial.bin'), false);
    assert.deepEqual(readdirSync(root), [], 'no temporary file is left, nor the folder made for it');
    await store.put('up/kept.txt', Buffer.from('k'));
    await assert.rejects(store.put('up/short.bin', Readable.from(['abc']), 10), code('INVALID_PARAMETER_VALUE'));
    assert.deepEqual(readdirSync(join(root, 'up')), ['kept.txt']);
  });

  it('hides uploads in progress from listings', async () => {
    const { store, root } = await setup('in-progress');
    await store.put('f/done.txt', Buffer.from('x'));
    writeFileSync(join(root, 'f', '.kiln-upload-0123456789abcdef'), 'half');
    assert.deepEqual(await store.list('f'), [{ path: 'f/done.txt', isDir: false, size: 1 }]);
    assert.equal(await store.exists('f/.kiln-upload-0123456789abcdef'), false);
    await assert.rejects(store.get('f/.kiln-upload-0123456789abcdef'), code('RESOURCE_DOES_NOT_EXIST'));
  });

  it('refuses a file where a folder is needed, and a folder where a file is', async () => {
    const { store } = await setup('conflicts');
    await store.put('a.txt', Buffer.from('file'));
    await assert.rejects(store.put('a.txt/b.txt', Buffer.from('x')), code('INVALID_PARAMETER_VALUE', /is a file/));
    await assert.rejects(store.put('a.txt/b/c.txt', Readable.from(['x'])), code('INVALID_PARAMETER_VALUE', /is a file/));
    await store.put('dir/inner.txt', Buffer.from('x'));
    await assert.rejects(store.put('dir', Buffer.from('x')), code('INVALID_PARAMETER_VALUE', /is a folder/));
    assert.equal(await text(store, 'a.txt'), 'file');
    assert.equal(await text(store, 'dir/inner.txt'), 'x');
  });

  it('creates its root on first use and needs an absolute root', async () => {
    const root = join(dir, 'lazy', 'nested', 'root');
    const store = new LocalArtifactStore(root);
    assert.equal(store.rootUri, pathToFileURL(root).href);
    await store.put('x.txt', Buffer.from('x'));
    assert.equal(readFileSync(join(root, 'x.txt'), 'utf8'), 'x');
    assert.throws(() => new LocalArtifactStore('relative/root'), code('INVALID_PARAMETER_VALUE', /absolute/));
    // The root removed behind the store's back: reads find nothing, the next write makes it again.
    rmSync(root, { recursive: true });
    await assert.rejects(store.get('x.txt'), code('RESOURCE_DOES_NOT_EXIST'));
    assert.deepEqual(await store.list(''), []);
    assert.equal(await store.exists('x.txt'), false);
    await store.put('y/z.txt', Buffer.from('z'));
    assert.equal(await text(store, 'y/z.txt'), 'z');
  });
});

describe('artifact store URIs and settings', () => {
  it('opens local stores from file:// URIs and absolute paths', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-art-uri-'));
    try {
      const a = await createArtifactStore(pathToFileURL(join(dir, 'a b')).href);
      assert.ok(a instanceof LocalArtifactStore);
      assert.equal(a.rootUri, pathToFileURL(join(dir, 'a b')).href);
      const p = await createArtifactStore(join(dir, 'plain'));
      assert.ok(p instanceof LocalArtifactStore);
      await p.put('x.txt', Buffer.from('x'));
      assert.equal(readFileSync(join(dir, 'plain', 'x.txt'), 'utf8'), 'x');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('opens S3 stores without contacting them', async () => {
    const s = await createArtifactStore('s3://my-bucket/some/prefix/', { KILN_S3_ENDPOINT: 'http://127.0.0.1:1' });
    assert.ok(s instanceof S3ArtifactStore);
    assert.equal(s.rootUri, 's3://my-bucket/some/prefix');
    assert.equal((await createArtifactStore('s3://my-bucket', {})).rootUri, 's3://my-bucket');
    await s.close();
  });

  it('refuses unsupported and malformed URIs, naming the supported schemes', async () => {
    for (const uri of ['ftp://x/y', 'relative/dir', 'gs://bucket/x', '', 'file:relative']) {
      await assert.rejects(createArtifactStore(uri), code('INVALID_PARAMETER_VALUE', /file:\/\/\/absolute\/path.*s3:\/\/bucket\/prefix/));
    }
    await assert.rejects(createArtifactStore('file://remote-host/share'), code('INVALID_PARAMETER_VALUE'));
    await assert.rejects(createArtifactStore('s3://'), code('INVALID_PARAMETER_VALUE', /s3:\/\/bucket/));
    await assert.rejects(createArtifactStore('s3:///prefix'), code('INVALID_PARAMETER_VALUE'));
    await assert.rejects(createArtifactStore('s3://bucket/../other'), code('INVALID_PARAMETER_VALUE', /'\.\.'/));
  });

  it('parses s3:// URIs', () => {
    assert.deepEqual(parseS3Uri('s3://b'), { bucket: 'b', prefix: '' });
    assert.deepEqual(parseS3Uri('s3://b/'), { bucket: 'b', prefix: '' });
    assert.deepEqual(parseS3Uri('s3://b.c-d/x//y/'), { bucket: 'b.c-d', prefix: 'x/y' });
  });

  it('reads S3 settings from the environment', () => {
    assert.deepEqual(s3OptionsFromEnv({}), { endpoint: undefined, region: 'us-east-1', credentials: undefined, forcePathStyle: false });
    const all = s3OptionsFromEnv({
      KILN_S3_ENDPOINT: 'http://kiln:9000',
      AWS_ENDPOINT_URL_S3: 'http://s3:9000',
      AWS_ENDPOINT_URL: 'http://any:9000',
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'id',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'token',
    });
    assert.deepEqual(all, { endpoint: 'http://kiln:9000', region: 'eu-west-1', credentials: { accessKeyId: 'id', secretAccessKey: 'secret', sessionToken: 'token' }, forcePathStyle: true });
    assert.equal(s3OptionsFromEnv({ AWS_ENDPOINT_URL_S3: 'http://s3:9000', AWS_ENDPOINT_URL: 'http://any:9000' }).endpoint, 'http://s3:9000');
    assert.equal(s3OptionsFromEnv({ AWS_ENDPOINT_URL: 'http://any:9000' }).endpoint, 'http://any:9000');
    assert.equal(s3OptionsFromEnv({ AWS_REGION: 'ap-south-1', AWS_DEFAULT_REGION: 'eu-west-1' }).region, 'ap-south-1');
    assert.equal(s3OptionsFromEnv({ AWS_ACCESS_KEY_ID: 'id' }).credentials, undefined, 'half a key pair leaves the SDK chain in charge');
  });

  it('does not load the AWS SDK for a local store', () => {
    const indexUrl = pathToFileURL(fileURLToPath(new URL('./index.js', import.meta.url))).href;
    const script = `
      import { createRequire } from 'node:module';
      import { mkdtempSync, rmSync } from 'node:fs';
      import { tmpdir } from 'node:os';
      import { join } from 'node:path';
      const { createArtifactStore } = await import(${JSON.stringify(indexUrl)});
      const dir = mkdtempSync(join(tmpdir(), 'kiln-art-nosdk-'));
      const store = await createArtifactStore(join(dir, 'root'));
      await store.ready();
      await store.put('a/b.txt', Buffer.from('x'));
      await store.list('a');
      rmSync(dir, { recursive: true, force: true });
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('@aws-sdk'));
      const before = loaded();
      await createArtifactStore('s3://bucket/prefix', { KILN_S3_ENDPOINT: 'http://127.0.0.1:1' }).then((s) => s.exists('x').catch(() => {}).then(() => s.close()));
      console.log(JSON.stringify({ before, after: loaded() }));
    `;
    const childEnv: NodeJS.ProcessEnv = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y' };
    delete childEnv.NODE_TEST_CONTEXT;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('.', import.meta.url)),
      env: childEnv,
      timeout: 30_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').pop()!), { before: false, after: true }, 'loaded only once an S3 store is used');
  });
});

describe('S3 store against an S3-compatible server', { skip: !ARTIFACT_BACKENDS.includes('s3') && 'KILN_TEST_ARTIFACTS excludes s3' }, () => {
  let s3: S3TestServer;
  const opened: ArtifactStore[] = [];
  const open = (prefix: string, extra: Partial<ConstructorParameters<typeof S3ArtifactStore>[0]> = {}) => {
    const store = new S3ArtifactStore({ bucket: s3.bucket, prefix, endpoint: s3.endpoint, credentials: { ...S3RVER_CREDENTIALS }, ...extra });
    opened.push(store);
    return store;
  };
  before(async () => {
    s3 = await startS3Server();
  });
  after(async () => {
    for (const s of opened) await s.close();
    await s3?.stop();
  });

  it('keeps stores with look-alike prefixes apart', async () => {
    const a = open('shared/run');
    const b = open('shared/run2');
    const whole = open('');
    await a.put('x.txt', Buffer.from('a'));
    await b.put('x.txt', Buffer.from('bb'));
    await b.put('sub/y.txt', Buffer.from('y'));
    assert.deepEqual(await a.list(''), [{ path: 'x.txt', isDir: false, size: 1 }]);
    assert.deepEqual(await whole.list('shared'), [
      { path: 'shared/run', isDir: true },
      { path: 'shared/run2', isDir: true },
    ]);
    assert.equal(await text(whole, 'shared/run2/x.txt'), 'bb');
    await whole.delete('shared/run');
    assert.deepEqual(await a.list(''), []);
    assert.equal(await text(b, 'x.txt'), 'bb');
  });

  it('explains a missing bucket, wrong credentials and an unreachable endpoint', async () => {
    await assert.rejects(open('', { bucket: 'no-such-bucket' }).ready(), code('INVALID_PARAMETER_VALUE', /no-such-bucket.*does not exist/));
    await assert.rejects(
      open('', { credentials: { accessKeyId: 'WRONG', secretAccessKey: 'WRONG' } }).ready(),
      code('INVALID_PARAMETER_VALUE', /refused access.*credentials/),
    );
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await assert.rejects(open('', { endpoint: `http://127.0.0.1:${port}` }).ready(), code('TEMPORARILY_UNAVAILABLE', /not reachable/));
  });

  it('uses multipart uploads with a small threshold too', async () => {
    const store = open('small-parts', { multipartThreshold: 5 * MiB, partSize: 5 * MiB });
    const chunks = pattern(12);
    await store.put('m.bin', Readable.from(chunks));
    assert.equal(sha256(await bytes(store, 'm.bin')), sha256(Buffer.concat(chunks)));
  });

  it('refuses to work once closed', async () => {
    const store = open('closed');
    await store.ready();
    await store.close();
    await assert.rejects(store.exists('x'), code('TEMPORARILY_UNAVAILABLE', /closed/));
  });
});
