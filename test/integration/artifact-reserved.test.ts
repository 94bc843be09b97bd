import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ARTIFACT_BACKENDS, STORE_BACKENDS } from '../support/backends.js';
import { call, startTestServer, type TestServer } from '../support/server.js';
import { blobPath } from '../../src/data/manifest.js';

/**
 * Content-addressed dataset blobs are written only by the data capability: the generic artifact proxy cannot reach
 * them, experiment locations cannot point at them, and a blob whose bytes do not match its digest (planted directly in
 * the store) is never trusted: it is replaced by a real upload and never served as the digest's content.
 */

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const csv = (n: number) => `id,value\n${Array.from({ length: n }, (_, i) => `${i},${i * 2}`).join('\n')}\n`;
const PROXY = ['/api/2.0/mlflow-artifacts', '/ajax-api/2.0/mlflow-artifacts'];

for (const backend of STORE_BACKENDS) {
  for (const artifacts of ARTIFACT_BACKENDS) {
    describe(`reserved artifact storage on ${backend} + ${artifacts}`, () => {
      let ts: TestServer;
      const v1 = (method: string, path: string, body?: unknown) => call(ts.url, method, `/api/v1${path}`, body);
      const putBlob = (content: Buffer | string, digest = sha(content)) =>
        fetch(`${ts.url}/api/v1/data/blobs/${digest}`, { method: 'PUT', body: content, headers: { 'content-type': 'application/octet-stream' } });
      const missing = async (digests: string[]) => (await v1('POST', '/data/blobs/missing', { sha256: digests })).body.missing as string[];
      const stored = async (digest: string) => {
        const o = await ts.server.artifacts.get(blobPath(digest));
        const parts: Buffer[] = [];
        for await (const c of o.body) parts.push(c as Buffer);
        return Buffer.concat(parts).toString();
      };
      /** Writes bytes straight into the store, as someone with access to the bucket or folder could. */
      const plant = (digest: string, bytes: string) => ts.server.artifacts.put(blobPath(digest), Buffer.from(bytes));

      before(async () => {
        ts = await startTestServer({ store: backend, artifacts });
      });
      after(async () => {
        await ts?.stop();
      });

      it('the artifact proxy cannot write, read, list or delete dataset blobs', async () => {
        const real = csv(5);
        const digest = sha(real);
        assert.equal((await putBlob(real)).status, 201);
        for (const base of PROXY) {
          for (const path of [blobPath(digest), `./${blobPath(digest)}`, `datasets//blobs/sha256/${digest.slice(0, 2)}/${digest}`, 'datasets/anything.txt']) {
            const url = `${ts.url}${base}/artifacts/${path.split('/').map(encodeURIComponent).join('/')}`;
            let res = await fetch(url, { method: 'PUT', body: 'poison' });
            assert.equal(res.status, 403, `PUT ${path}: ${await res.text()}`);
            assert.match(((await res.json().catch(() => ({}))) as { message?: string }).message ?? 'datasets', /datasets/);
            res = await fetch(url);
            assert.equal(res.status, 403, `GET ${path}`);
            await res.arrayBuffer();
            res = await fetch(url, { method: 'DELETE' });
            assert.equal(res.status, 403, `DELETE ${path}`);
            await res.arrayBuffer();
          }
          for (const p of ['datasets', 'datasets/blobs', `datasets/blobs/sha256/${digest.slice(0, 2)}`]) {
            const r = await call(ts.url, 'GET', `${base}/artifacts?path=${encodeURIComponent(p)}`);
            assert.equal(r.status, 403, `list ${p}: ${r.text}`);
          }
          const root = await call(ts.url, 'GET', `${base}/artifacts`);
          assert.equal(root.status, 200, root.text);
          assert.ok(!root.body.files.some((f: { path: string }) => f.path === 'datasets'), 'the root listing does not show the reserved folder');
        }
        assert.equal(await stored(digest), real, 'the blob is untouched');
        assert.deepEqual(await missing([digest]), []);
      });

      it('an experiment artifact_location cannot escape the store or point into reserved storage', async () => {
        const refused = [
          'mlflow-artifacts:/../..',
          'mlflow-artifacts:/a/../../b',
          'mlflow-artifacts:/datasets',
          'mlflow-artifacts:/datasets/blobs/sha256/ab',
          'mlflow-artifacts:datasets/x',
          'mlflow-artifacts://other-host/x',
          'mlflow-artifacts:/%2e%2e/x',
          's3://bucket/../other',
          'file:///tmp/%2E%2E/x',
          'ftp://example.com/x',
          'javascript:alert(1)',
          '/tmp/relative-to-the-server',
          'no-scheme',
        ];
        let i = 0;
        for (const loc of refused) {
          i++;
          let r = await call(ts.url, 'POST', '/api/2.0/mlflow/experiments/create', { name: `bad-loc-${i}`, artifact_location: loc });
          assert.equal(r.status, 400, `${loc}: ${r.text}`);
          assert.equal(r.body.error_code, 'INVALID_PARAMETER_VALUE');
          assert.match(r.body.message, /artifact_location/);
          r = await v1('POST', '/experiments', { name: `bad-loc-native-${i}`, artifact_location: loc });
          assert.equal(r.status, 400, `native ${loc}: ${r.text}`);
          assert.equal((await call(ts.url, 'GET', `/api/2.0/mlflow/experiments/get-by-name?experiment_name=bad-loc-${i}`)).status, 404, 'nothing was created');
        }
        // Accepted: a clean path in the store (canonical form) and external URIs, which the server never reads.
        let r = await call(ts.url, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'custom-loc', artifact_location: 'mlflow-artifacts:/teams//vision/' });
        assert.equal(r.status, 200, r.text);
        const exp = (await call(ts.url, 'GET', `/api/2.0/mlflow/experiments/get?experiment_id=${r.body.experiment_id}`)).body.experiment;
        assert.equal(exp.artifact_location, 'mlflow-artifacts:/teams/vision');
        const run = (await call(ts.url, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: exp.experiment_id })).body.run.info;
        const put = await fetch(`${ts.url}/api/2.0/mlflow-artifacts/artifacts/teams/vision/${run.run_id}/artifacts/a.txt`, { method: 'PUT', body: 'a' });
        assert.equal(put.status, 200);
        const listed = await call(ts.url, 'GET', `/api/2.0/mlflow/artifacts/list?run_id=${run.run_id}`);
        assert.deepEqual(listed.body.files.map((f: { path: string }) => f.path), ['a.txt']);
        for (const loc of ['s3://bucket/experiments/x', 'gs://b/p', 'file:///srv/mlruns']) {
          r = await call(ts.url, 'POST', '/api/2.0/mlflow/experiments/create', { name: `ext-${loc}`, artifact_location: loc });
          assert.equal(r.status, 200, `${loc}: ${r.text}`);
        }
      });

      it('a blob planted with wrong bytes is reported missing, replaced by the real upload, and never served', async () => {
        const real = csv(20);
        const digest = sha(real);
        await plant(digest, 'poison!');
        assert.deepEqual(await missing([digest]), [digest], 'the planted blob does not count as present');
        assert.equal((await putBlob(real)).status, 201, 'the real content is stored');
        assert.equal(await stored(digest), real);
        const r = await v1('POST', '/datasets/planted/versions', { files: [{ path: 'data.csv', sha256: digest, bytes: real.length }] });
        assert.equal(r.status, 201, r.text);
        const dl = await fetch(`${ts.url}/api/v1/datasets/planted/versions/1/files/data.csv`);
        assert.equal(await dl.text(), real);
      });

      it('an upload of a blob planted under its digest replaces it even when the client skips the missing check', async () => {
        const real = csv(30);
        const digest = sha(real);
        await plant(digest, 'x'.repeat(real.length));
        const res = await putBlob(real);
        assert.equal(res.status, 201, await res.text());
        assert.equal(await stored(digest), real);
      });

      it('a version whose blob is damaged afterwards never downloads the damaged bytes, and a new upload repairs it', async () => {
        const real = csv(4000);
        const digest = sha(real);
        assert.equal((await putBlob(real)).status, 201);
        const r = await v1('POST', '/datasets/damaged/versions', { files: [{ path: 'data.csv', sha256: digest, bytes: real.length }] });
        assert.equal(r.status, 201, r.text);
        const url = `${ts.url}/api/v1/datasets/damaged/versions/1/files/data.csv`;

        // Same length, other bytes: the stream fails before its last chunk (an error answer when nothing was sent yet).
        const damaged = real.replace('0,0', '6,6');
        await plant(digest, damaged);
        const got = await fetch(url).then(
          async (res) => ({ status: res.status, text: await res.text() }),
          (e: Error) => e,
        );
        if (!(got instanceof Error)) {
          assert.notEqual(got.status, 200, 'the damaged bytes are not served as a complete download');
          assert.notEqual(got.text, damaged);
          assert.match(got.text, /does not match its digest/, `status ${got.status}`);
        }
        assert.deepEqual(await missing([digest]), [digest], 'the damaged blob was removed');
        assert.equal((await putBlob(real)).status, 201);
        assert.equal(await (await fetch(url)).text(), real, 'the version is repaired');

        // Another length: refused before anything is sent.
        await plant(digest, 'short');
        const res = await fetch(url);
        assert.equal(res.status, 409, 'a size that differs is refused up front');
        assert.match(((await res.json()) as { message: string }).message, /damaged/);
        assert.deepEqual(await missing([digest]), [digest]);
      });
    });
  }
}
