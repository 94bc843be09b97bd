import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { createArtifactStore } from './index.js';
import type { ArtifactStore } from './types.js';
import { startS3Server } from '../../../test/support/s3.js';
import { ARTIFACT_BACKENDS } from '../../../test/support/backends.js';

async function text(store: ArtifactStore, path: string): Promise<string> {
  const obj = await store.get(path);
  const chunks: Buffer[] = [];
  for await (const c of obj.body) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

async function bytes(store: ArtifactStore, path: string): Promise<Buffer> {
  const obj = await store.get(path);
  const chunks: Buffer[] = [];
  for await (const c of obj.body) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

for (const backend of ARTIFACT_BACKENDS) {
  describe(`artifact store contract: ${backend}`, () => {
    let store: ArtifactStore;
    let cleanup: () => Promise<void>;
    before(async () => {
      if (backend === 'local') {
        const dir = mkdtempSync(join(tmpdir(), 'kiln-art-'));
        store = await createArtifactStore(pathToFileURL(join(dir, 'root')).href);
        cleanup = async () => rmSync(dir, { recursive: true, force: true });
      } else {
        const s3 = await startS3Server();
        store = await createArtifactStore(`s3://${s3.bucket}/prefix/inner`, { KILN_S3_ENDPOINT: s3.endpoint, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' });
        cleanup = () => s3.stop();
      }
      await store.ready();
    });
    after(async () => {
      await store?.close();
      await store?.close(); // safe twice
      await cleanup?.();
    });

    it('round-trips buffers, streams and empty files', async () => {
      await store.put('a/b.txt', Buffer.from('hello'));
      assert.equal(await text(store, 'a/b.txt'), 'hello');
      await store.put('a/stream.txt', Readable.from(['he', 'llo ', 'world']));
      assert.equal(await text(store, 'a/stream.txt'), 'hello world');
      await store.put('empty.bin', Buffer.alloc(0));
      const e = await store.get('empty.bin');
      assert.equal(e.size, 0);
      assert.equal((await bytes(store, 'empty.bin')).length, 0);
    });

    it('streams a large body (multipart on S3)', async () => {
      const chunk = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < chunk.length; i++) chunk[i] = i % 251;
      await store.put('big/blob.bin', Readable.from((function* () {
        for (let i = 0; i < 20; i++) yield chunk;
      })()));
      const got = await bytes(store, 'big/blob.bin');
      assert.equal(got.length, 20 * 1024 * 1024);
      assert.ok(got.subarray(19 * 1024 * 1024).equals(chunk));
      assert.equal((await store.list('big'))[0]!.size, 20 * 1024 * 1024);
    });

    it('overwrites', async () => {
      await store.put('over.txt', Buffer.from('one'));
      await store.put('over.txt', Buffer.from('two!'));
      assert.equal(await text(store, 'over.txt'), 'two!');
    });

    it('lists immediate children, sorted, with sizes', async () => {
      await store.put('l/z.txt', Buffer.from('zz'));
      await store.put('l/a.txt', Buffer.from('a'));
      await store.put('l/sub/deep/x.txt', Buffer.from('x'));
      await store.put('l/sub/w.txt', Buffer.from('w'));
      await store.put('l/sub2/y.txt', Buffer.from('yyy'));
      assert.deepEqual(await store.list('l'), [
        { path: 'l/a.txt', isDir: false, size: 1 },
        { path: 'l/sub', isDir: true },
        { path: 'l/sub2', isDir: true },
        { path: 'l/z.txt', isDir: false, size: 2 },
      ]);
      assert.deepEqual(await store.list('l/sub'), [
        { path: 'l/sub/deep', isDir: true },
        { path: 'l/sub/w.txt', isDir: false, size: 1 },
      ]);
      assert.deepEqual(await store.list('nothing/here'), []);
      const root = (await store.list('')).map((e) => e.path);
      for (const p of ['a', 'big', 'empty.bin', 'l', 'over.txt']) assert.ok(root.includes(p), `${p} in ${root.join(',')}`);
    });

    it(
      'lists a folder that holds only subfolders',
      // s3rver's listObjects prunes folders below a common prefix, so it never reports one that holds only
      // subfolders; real S3 (and MinIO) do. The local store is checked here; S3 stays marked as a gap.
      { todo: backend === 's3' ? 's3rver cannot list folders that hold only subfolders' : false },
      async () => {
        await store.put('only/nested/deeper/f.txt', Buffer.from('f'));
        assert.deepEqual(await store.list('only'), [{ path: 'only/nested', isDir: true }]);
      },
    );

    it('keeps unicode and spaces in names', async () => {
      await store.put('u/résumé 📈.txt', Buffer.from('ü'));
      assert.deepEqual(await store.list('u'), [{ path: 'u/résumé 📈.txt', isDir: false, size: 2 }]);
      assert.equal(await text(store, 'u/résumé 📈.txt'), 'ü');
    });

    it('deletes files and whole folders; deleting nothing is fine', async () => {
      await store.put('d/1.txt', Buffer.from('1'));
      await store.put('d/sub/2.txt', Buffer.from('2'));
      await store.delete('d/1.txt');
      assert.equal(await store.exists('d/1.txt'), false);
      assert.equal(await store.exists('d/sub/2.txt'), true);
      await store.delete('d');
      assert.deepEqual(await store.list('d'), []);
      await store.delete('never/was');
    });

    it('reports missing objects and folders as RESOURCE_DOES_NOT_EXIST', async () => {
      await assert.rejects(store.get('missing.txt'), (e: Error & { code?: string }) => e.code === 'RESOURCE_DOES_NOT_EXIST');
      await store.put('f/inside.txt', Buffer.from('x'));
      await assert.rejects(store.get('f'), (e: Error & { code?: string }) => e.code === 'RESOURCE_DOES_NOT_EXIST');
      assert.equal(await store.exists('f'), false);
    });
  });
}

describe('local artifact store safety', () => {
  it('does not follow a symlink out of the root', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-art-'));
    const outside = join(dir, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret.txt'), 'secret');
    const store = await createArtifactStore(join(dir, 'root'));
    await store.ready();
    symlinkSync(outside, join(dir, 'root', 'link'));
    await assert.rejects(store.get('link/secret.txt'), /leaves the artifact store/);
    await assert.rejects(store.put('link/new.txt', Buffer.from('x')), /leaves the artifact store/);
    await assert.rejects(store.list('link'), /leaves the artifact store/);
    assert.deepEqual(readdirSync(outside), ['secret.txt']);
    rmSync(dir, { recursive: true, force: true });
  });

  it('leaves no file behind when an upload fails midway', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-art-'));
    const store = await createArtifactStore(join(dir, 'root'));
    await store.ready();
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(1024));
        this.destroy(new Error('client went away'));
      },
    });
    await assert.rejects(store.put('up/partial.bin', failing), /client went away/);
    assert.equal(await store.exists('up/partial.bin'), false);
    assert.deepEqual(readdirSync(join(dir, 'root', 'up')), [], 'no temp file is left');
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses unsupported URIs', async () => {
    await assert.rejects(createArtifactStore('ftp://x/y'), /file:\/\/\/absolute\/path or s3:\/\/bucket\/prefix/);
    await assert.rejects(createArtifactStore('relative/dir'), /Unsupported/);
  });
});
