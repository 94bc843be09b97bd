import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ARTIFACT_BACKENDS, STORE_BACKENDS } from '../support/backends.js';
import { call, startTestServer, type TestServer } from '../support/server.js';
import { linearModel } from '../../src/registry/packaging/test-models.js';
import { buildOnnxModelPackage } from '../../src/registry/packaging/write-package.js';
import { inspectOnnx } from '../../src/registry/packaging/onnx-inspect.js';

/**
 * What a version's status means: registering answers READY once the files were found and inspected (within the
 * request), a source that names nothing is refused or FAILED_REGISTRATION, nothing acts on a version that is not
 * READY, and a model's version list never lets a filter reach another model's versions.
 */
for (const backend of STORE_BACKENDS) {
  for (const artifacts of ARTIFACT_BACKENDS) {
    describe(`registration status on ${backend} with ${artifacts} artifacts`, () => {
      let ts: TestServer;
      const mlflow = (method: string, path: string, body?: unknown) => call(ts.url, method, `/api/2.0/mlflow${path}`, body);
      const v1 = (method: string, path: string, body?: unknown) => call(ts.url, method, `/api/v1${path}`, body);
      /** A run with an MLflow ONNX model folder logged under `model/`. */
      const runWithOnnx = async (): Promise<string> => {
        const run = (await mlflow('POST', '/runs/create', { experiment_id: '0' })).body.run.info;
        const files = await buildOnnxModelPackage({ inspect: inspectOnnx, onnx: linearModel({ inputs: 4, outputs: 1 }), inputExample: [[1, 2, 3, 4]] });
        for (const f of files) {
          const r = await fetch(`${ts.url}/api/2.0/mlflow-artifacts/artifacts/${run.artifact_uri.replace('mlflow-artifacts:/', '')}/model/${f.path}`, { method: 'PUT', body: f.bytes });
          assert.equal(r.status, 200, await r.text());
        }
        return run.run_id as string;
      };

      before(async () => {
        ts = await startTestServer({ store: backend, artifacts });
      });
      after(async () => {
        await ts?.stop();
      });

      it('answers READY from create_model_version for an ONNX model logged to a run', async () => {
        await mlflow('POST', '/registered-models/create', { name: 'rain' });
        const runId = await runWithOnnx();
        for (let i = 1; i <= 2; i++) {
          // The first registration also starts the inspection worker (cold); both answer within the request.
          const r = await mlflow('POST', '/model-versions/create', { name: 'rain', source: `runs:/${runId}/model`, run_id: runId });
          assert.equal(r.status, 200, r.text);
          assert.equal(r.body.model_version.version, String(i));
          assert.equal(r.body.model_version.status, 'READY', r.text);
        }
        // The native API answers the same way, with what inspection found.
        const r = await v1('POST', '/models/rain/versions', { source: `runs:/${runId}/model`, run_id: runId });
        assert.equal(r.status, 201, r.text);
        assert.equal(r.body.version.status, 'READY');
        assert.equal(r.body.version.servable, true);
        assert.deepEqual(r.body.version.package.flavors.sort(), ['onnx', 'python_function']);
      });

      it('refuses a source with an unknown scheme, naming the accepted ones, and registers nothing', async () => {
        await mlflow('POST', '/registered-models/create', { name: 'typo' });
        const runId = await runWithOnnx();
        for (const source of [`run:/${runId}/model`, `/tmp/${runId}/model`, 'ftp://example.com/model', 'model']) {
          let r = await mlflow('POST', '/model-versions/create', { name: 'typo', source });
          assert.equal(r.status, 400, `${source}: ${r.text}`);
          assert.equal(r.body.error_code, 'INVALID_PARAMETER_VALUE');
          assert.match(r.body.message, /runs:\/<run_id>\/<path>.*models:\/<name>\/<version>.*mlflow-artifacts:\/<path>.*s3:\//);
          r = await v1('POST', '/models/typo/versions', { source });
          assert.equal(r.status, 400, `${source}: ${r.text}`);
          assert.equal(r.body.error_code, 'INVALID_PARAMETER_VALUE');
        }
        const r = await mlflow('POST', '/model-versions/create', { name: 'typo', source: `run:/${runId}/model` });
        assert.match(r.body.message, /Did you mean runs:\/\?/);
        // the data capability's content-addressed folder is never a model's files
        for (const source of ['mlflow-artifacts:/datasets/blobs/sha256/ab', 'mlflow-artifacts:/datasets']) {
          const owned = await v1('POST', '/models/typo/versions', { source });
          assert.equal(owned.status, 400, `${source}: ${owned.text}`);
          assert.match(owned.body.message, /'datasets\/' folder belongs to another capability/);
        }
        assert.deepEqual((await v1('GET', '/models/typo/versions')).body.versions, []);
        // a location in external storage is still accepted: READY, not servable, and says it was not inspected
        const ext = await v1('POST', '/models/typo/versions', { source: 's3://other-bucket/models/rain' });
        assert.equal(ext.status, 201, ext.text);
        assert.equal(ext.body.version.status, 'READY');
        assert.equal(ext.body.version.servable, false);
        assert.match(ext.body.version.status_message, /registered without inspection/);
      });

      it('fails a source with nothing behind it in the create answer, and refuses aliases and promotions on it', async () => {
        await mlflow('POST', '/registered-models/create', { name: 'ghost' });
        const runId = await runWithOnnx();
        let r = await mlflow('POST', '/model-versions/create', { name: 'ghost', source: `runs:/${runId}/model` });
        assert.equal(r.body.model_version.status, 'READY', r.text);
        for (const source of [`runs:/${runId}/no-such-folder`, 'mlflow-artifacts:/nowhere/at/all']) {
          r = await mlflow('POST', '/model-versions/create', { name: 'ghost', source });
          assert.equal(r.status, 200, r.text);
          assert.equal(r.body.model_version.status, 'FAILED_REGISTRATION', `${source}: ${r.text}`);
          assert.match(r.body.model_version.status_message, /no model artifacts/);
        }
        r = await v1('POST', '/models/ghost/versions', { source: `runs:/${runId}/no-such-folder` });
        assert.equal(r.status, 201, r.text);
        assert.equal(r.body.version.status, 'FAILED_REGISTRATION');
        const failed = r.body.version.version as number;

        // no alias, no promotion on a version that is not READY: MLflow's API and the native one
        r = await mlflow('POST', '/registered-models/alias', { name: 'ghost', alias: 'champion', version: String(failed) });
        assert.equal(r.status, 400, r.text);
        assert.equal(r.body.error_code, 'INVALID_PARAMETER_VALUE');
        assert.match(r.body.message, /Cannot point alias 'champion' at version \d+: version \d+ is FAILED_REGISTRATION \(no model artifacts/);
        r = await v1('PUT', '/models/ghost/aliases/champion', { version: failed });
        assert.equal(r.status, 409, r.text);
        assert.equal(r.body.error_code, 'INVALID_STATE');
        r = await v1('POST', `/models/ghost/versions/${failed}/promote`, { alias: 'production' });
        assert.equal(r.status, 409, r.text);
        assert.match(r.body.message, /Cannot promote version \d+ to 'production'.*FAILED_REGISTRATION/);
        r = await v1('POST', `/models/ghost/versions/${failed}/promote`, { alias: 'production', dry_run: true });
        assert.equal(r.status, 409, r.text);
        assert.equal((await v1('GET', '/models/ghost/aliases/champion')).status, 404);
        assert.ok(!(await v1('GET', '/models/ghost/history')).body.events.some((e: { kind: string }) => e.kind.startsWith('alias_') || e.kind.startsWith('promotion_')));
        // the READY version still takes an alias
        assert.equal((await v1('PUT', '/models/ghost/aliases/champion', { version: 1 })).status, 200);

        // `latest` is the newest READY version; MLflow's latest_versions stays the newest per stage, status shown
        assert.equal((await v1('GET', '/models/ghost/aliases/latest')).body.version.version, 1);
        assert.equal((await v1('GET', `/model-versions/resolve?uri=${encodeURIComponent('models:/ghost/latest')}`)).body.version.version, 1);
        const latest = (await mlflow('GET', '/registered-models/get-latest-versions?name=ghost')).body.model_versions;
        assert.deepEqual(latest.map((v: { version: string; status: string }) => [v.version, v.status]), [[String(failed), 'FAILED_REGISTRATION']]);
        const native = (await v1('GET', '/models/ghost')).body.model.latest_versions;
        assert.deepEqual(native.map((v: { version: number; status: string }) => [v.version, v.status]), [[failed, 'FAILED_REGISTRATION']]);

        await mlflow('POST', '/registered-models/create', { name: 'all-failed' });
        await mlflow('POST', '/model-versions/create', { name: 'all-failed', source: `runs:/${runId}/nothing` });
        r = await v1('GET', '/models/all-failed/aliases/latest');
        assert.equal(r.status, 404);
        assert.match(r.body.message, /no READY version: the newest, version 1, is FAILED_REGISTRATION/);
      });

      it("keeps a model's version list to that model, whatever the filter holds", async () => {
        for (const name of ['scope-a', 'scope-b']) await v1('POST', '/models', { name });
        const runId = await runWithOnnx();
        for (const name of ['scope-a', 'scope-b', 'scope-b']) assert.equal((await v1('POST', `/models/${name}/versions`, { source: `runs:/${runId}/model`, run_id: runId })).status, 201);
        const listed = async (filter: string) => {
          const r = await v1('GET', `/models/scope-a/versions?filter=${encodeURIComponent(filter)}`);
          return { status: r.status, names: (r.body.versions ?? []).map((v: { name: string }) => v.name) as string[], r };
        };
        // An unbalanced filter is refused on its own; it can never close the model's scope.
        const injected = await listed("name LIKE '%') OR (name LIKE '%'");
        assert.equal(injected.status, 400, injected.r.text);
        assert.equal(injected.r.body.error_code, 'INVALID_PARAMETER_VALUE');
        for (const filter of ["name LIKE '%' OR name = 'scope-b'", `run_id = '${runId}' OR version_number >= 1`, "name = 'scope-b'"]) {
          const { status, names, r } = await listed(filter);
          assert.equal(status, 200, r.text);
          assert.ok(names.every((n) => n === 'scope-a'), `${filter}: ${JSON.stringify(names)}`);
        }
        assert.deepEqual((await listed("name LIKE '%'")).names, ['scope-a']);
        // a name with a quote is scoped like any other
        await v1('POST', '/models', { name: "o'brien" });
        assert.equal((await v1('POST', `/models/${encodeURIComponent("o'brien")}/versions`, { source: `runs:/${runId}/model` })).status, 201);
        const quoted = await v1('GET', `/models/${encodeURIComponent("o'brien")}/versions?filter=${encodeURIComponent('version_number >= 1')}`);
        assert.deepEqual(quoted.body.versions.map((v: { name: string }) => v.name), ["o'brien"]);
        assert.equal((await v1('GET', '/models/nope/versions')).status, 404);
      });
    });
  }
}

/** With the bound at 0 ms, registering never waits: PENDING_REGISTRATION, then READY in the background. */
for (const backend of STORE_BACKENDS) {
  describe(`registration past the inspection bound on ${backend}`, () => {
    let ts: TestServer;
    before(async () => {
      ts = await startTestServer({ store: backend, capabilities: { registry: { inspectionWaitMs: 0 } } });
    });
    after(async () => {
      await ts?.stop();
    });

    it('answers PENDING_REGISTRATION and finishes the inspection in the background', async () => {
      const mlflow = (method: string, path: string, body?: unknown) => call(ts.url, method, `/api/2.0/mlflow${path}`, body);
      await mlflow('POST', '/registered-models/create', { name: 'slow' });
      const run = (await mlflow('POST', '/runs/create', { experiment_id: '0' })).body.run.info;
      const put = await fetch(`${ts.url}/api/2.0/mlflow-artifacts/artifacts/${run.artifact_uri.replace('mlflow-artifacts:/', '')}/model/model.onnx`, { method: 'PUT', body: linearModel() });
      assert.equal(put.status, 200);
      const r = await mlflow('POST', '/model-versions/create', { name: 'slow', source: `runs:/${run.run_id}/model` });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.model_version.status, 'PENDING_REGISTRATION');
      await ts.server.services.registry.whenSettled();
      assert.equal((await mlflow('GET', '/model-versions/get?name=slow&version=1')).body.model_version.status, 'READY');
    });
  });
}
