import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ARTIFACT_BACKENDS, STORE_BACKENDS } from '../support/backends.js';
import { call, startTestServer, type TestServer } from '../support/server.js';
import { SKLEARN_MLMODEL, linearModel, notOnnxBytes, truncated } from '../../src/registry/packaging/test-models.js';
import { buildOnnxModelPackage } from '../../src/registry/packaging/write-package.js';
import { inspectOnnx } from '../../src/registry/packaging/onnx-inspect.js';

/** The model registry through MLflow's REST API (model_registry.proto), as the Python client calls it. */
for (const backend of STORE_BACKENDS) {
  for (const artifacts of ARTIFACT_BACKENDS) {
    describe(`MLflow model registry on ${backend} with ${artifacts} artifacts`, () => {
      let ts: TestServer;
      const api = (method: string, path: string, body?: unknown) => call(ts.url, method, `/api/2.0/mlflow${path}`, body);
      const put = async (path: string, bytes: Uint8Array | string) => {
        const r = await fetch(`${ts.url}/api/2.0/mlflow-artifacts/artifacts/${path}`, { method: 'PUT', body: bytes });
        assert.equal(r.status, 200, await r.text());
      };
      /** A run with files logged under `model/`; returns its id and experiment. */
      const runWithModel = async (files: Record<string, Uint8Array | string>) => {
        const run = (await api('POST', '/runs/create', { experiment_id: '0' })).body.run.info;
        const base = run.artifact_uri.replace('mlflow-artifacts:/', '');
        for (const [p, bytes] of Object.entries(files)) await put(`${base}/model/${p}`, bytes);
        return run.run_id as string;
      };
      const settled = async (name: string, version: string) => {
        await ts.server.services.registry.whenSettled();
        return (await api('GET', `/model-versions/get?name=${encodeURIComponent(name)}&version=${version}`)).body.model_version;
      };

      before(async () => {
        ts = await startTestServer({ store: backend, artifacts });
      });
      after(async () => {
        await ts?.stop();
      });

      it('registers models, versions from runs, and inspects them', async () => {
        let r = await api('POST', '/registered-models/create', { name: 'weather', description: 'forecasts', tags: [{ key: 'team', value: 'ml' }] });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.body.registered_model.name, 'weather');
        assert.deepEqual(r.body.registered_model.tags, [{ key: 'team', value: 'ml' }]);
        r = await api('POST', '/registered-models/create', { name: 'weather' });
        assert.equal(r.status, 400);
        assert.equal(r.body.error_code, 'RESOURCE_ALREADY_EXISTS');

        const onnx = linearModel({ inputs: 4, outputs: 1 });
        const pkgFiles = await buildOnnxModelPackage({ inspect: inspectOnnx, onnx, inputExample: [[1, 2, 3, 4]] });
        const runId = await runWithModel(Object.fromEntries(pkgFiles.map((f) => [f.path, f.bytes])));
        r = await api('POST', '/model-versions/create', { name: 'weather', source: `runs:/${runId}/model`, run_id: runId, tags: [{ key: 'candidate', value: 'yes' }] });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.body.model_version.version, '1');
        assert.equal(r.body.model_version.run_id, runId);
        assert.ok(['PENDING_REGISTRATION', 'READY'].includes(r.body.model_version.status));
        const v1 = await settled('weather', '1');
        assert.equal(v1.status, 'READY', v1.status_message);
        assert.deepEqual(v1.tags, [{ key: 'candidate', value: 'yes' }]);

        // the native view carries what inspection found
        const native = (await call(ts.url, 'GET', '/api/v1/models/weather/versions/1')).body.version;
        assert.equal(native.servable, true);
        assert.deepEqual(native.package.flavors.sort(), ['onnx', 'python_function']);
        assert.deepEqual(
          native.package.onnx.inputs.map((i: any) => [i.name, i.type, i.shape]),
          [['x', 'float32', ['N', 4]]],
        );
        assert.match(native.package.onnx.sha256, /^[0-9a-f]{64}$/);

        // a scikit-learn model registers but Kiln cannot serve it
        const skRun = await runWithModel({ MLmodel: SKLEARN_MLMODEL, 'model.pkl': new Uint8Array([128, 4, 149]) });
        r = await api('POST', '/model-versions/create', { name: 'weather', source: `runs:/${skRun}/model`, run_id: skRun });
        assert.equal(r.body.model_version.version, '2');
        assert.equal((await settled('weather', '2')).status, 'READY');
        const sk = (await call(ts.url, 'GET', '/api/v1/models/weather/versions/2')).body.version;
        assert.equal(sk.servable, false);
        assert.match(sk.package.not_servable_reason, /sklearn is not servable by Kiln/);

        // broken models fail registration with a reason, and the version is never READY
        const badRun = await runWithModel({ 'model.onnx': truncated(onnx) });
        r = await api('POST', '/model-versions/create', { name: 'weather', source: `runs:/${badRun}/model` });
        const bad = await settled('weather', r.body.model_version.version);
        assert.equal(bad.status, 'FAILED_REGISTRATION');
        assert.match(bad.status_message, /ONNX|onnx/);
        const junkRun = await runWithModel({ 'model.onnx': notOnnxBytes() });
        r = await api('POST', '/model-versions/create', { name: 'weather', source: `runs:/${junkRun}/model` });
        assert.equal((await settled('weather', r.body.model_version.version)).status, 'FAILED_REGISTRATION');
        const emptyRun = await runWithModel({ 'model.onnx': new Uint8Array(0) });
        r = await api('POST', '/model-versions/create', { name: 'weather', source: `runs:/${emptyRun}/model` });
        const empty = await settled('weather', r.body.model_version.version);
        assert.equal(empty.status, 'FAILED_REGISTRATION');
        r = await api('POST', '/model-versions/create', { name: 'weather', source: `runs:/${emptyRun}/nothing-here` });
        const missing = await settled('weather', r.body.model_version.version);
        assert.equal(missing.status, 'FAILED_REGISTRATION');
        assert.match(missing.status_message, /no model artifacts/);

        // download URI is where the files are
        r = await api('GET', '/model-versions/get-download-uri?name=weather&version=1');
        assert.match(r.body.artifact_uri, new RegExp(`^mlflow-artifacts:/0/${runId}/artifacts/model$`));
        const listing = (await call(ts.url, 'GET', '/api/v1/models/weather/versions/1/files')).body.files.map((f: any) => f.path);
        assert.ok(listing.includes('MLmodel') && listing.includes('model.onnx'), JSON.stringify(listing));
        const mlmodel = await fetch(`${ts.url}/api/v1/models/weather/versions/1/files/MLmodel`);
        assert.match(await mlmodel.text(), /onnx/);
      });

      it('moves aliases, stages and keeps the history', async () => {
        await api('POST', '/registered-models/create', { name: 'churn' });
        const runId = await runWithModel({ 'model.onnx': linearModel() });
        for (let i = 0; i < 3; i++) await api('POST', '/model-versions/create', { name: 'churn', source: `runs:/${runId}/model`, run_id: runId });
        await ts.server.services.registry.whenSettled();

        let r = await api('POST', '/registered-models/alias', { name: 'churn', alias: 'champion', version: '2' });
        assert.equal(r.status, 200, r.text);
        r = await api('GET', '/registered-models/alias?name=churn&alias=champion');
        assert.equal(r.body.model_version.version, '2');
        assert.deepEqual(r.body.model_version.aliases, ['champion']);
        const model = (await api('GET', '/registered-models/get?name=churn')).body.registered_model;
        assert.deepEqual(model.aliases, [{ alias: 'champion', version: '2' }]);
        for (const bad of ['latest', 'v3', 'has space', 'semi;colon', '', 'ünï']) {
          r = await api('POST', '/registered-models/alias', { name: 'churn', alias: bad, version: '1' });
          assert.equal(r.status, 400, `alias ${bad}`);
          assert.equal(r.body.error_code, 'INVALID_PARAMETER_VALUE');
        }
        assert.equal((await api('POST', '/registered-models/alias', { name: 'churn', alias: 'x', version: '9' })).status, 404);
        r = await call(ts.url, 'POST', '/api/2.0/mlflow/registered-models/alias', { name: 'churn', alias: 'champion', version: '3' }, { 'x-kiln-user': 'ana' });
        assert.equal(r.status, 200);
        r = await api('DELETE', '/registered-models/alias', { name: 'churn', alias: 'champion' });
        assert.equal(r.status, 200, r.text);
        assert.equal((await api('GET', '/registered-models/alias?name=churn&alias=champion')).status, 404);

        r = await api('POST', '/model-versions/transition-stage', { name: 'churn', version: '1', stage: 'production', archive_existing_versions: false });
        assert.equal(r.body.model_version.current_stage, 'Production');
        r = await api('POST', '/model-versions/transition-stage', { name: 'churn', version: '2', stage: 'Production', archive_existing_versions: true });
        assert.equal((await api('GET', '/model-versions/get?name=churn&version=1')).body.model_version.current_stage, 'Archived');
        r = await api('POST', '/registered-models/get-latest-versions', { name: 'churn', stages: ['Production'] });
        assert.deepEqual(r.body.model_versions.map((v: any) => v.version), ['2']);
        r = await api('GET', '/registered-models/get-latest-versions?name=churn');
        assert.deepEqual(r.body.model_versions.map((v: any) => `${v.current_stage}:${v.version}`).sort(), ['Archived:1', 'None:3', 'Production:2']);
        assert.equal((await api('POST', '/model-versions/transition-stage', { name: 'churn', version: '1', stage: 'Prod', archive_existing_versions: false })).status, 400);

        const history = (await call(ts.url, 'GET', '/api/v1/models/churn/history')).body.events;
        const moves = history.filter((e: any) => e.kind.startsWith('alias_')).map((e: any) => `${e.kind}:${e.alias}:${e.version}:${e.actor}`);
        assert.deepEqual(moves, ['alias_set:champion:2:anonymous', 'alias_set:champion:3:ana', 'alias_deleted:champion:3:anonymous']);
        assert.equal(history.filter((e: any) => e.kind === 'version_created').length, 3);
      });

      it('searches, renames, tags and deletes', async () => {
        for (const n of ['fraud-a', 'fraud-b', 'other']) await api('POST', '/registered-models/create', { name: n, tags: [{ key: 'domain', value: n.startsWith('fraud') ? 'fraud' : 'misc' }] });
        let r = await api('GET', `/registered-models/search?filter=${encodeURIComponent("name LIKE 'fraud%'")}&order_by=${encodeURIComponent('name DESC')}`);
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(r.body.registered_models.map((m: any) => m.name), ['fraud-b', 'fraud-a']);
        r = await api('POST', '/registered-models/search', { filter: "tags.domain = 'misc'" });
        assert.deepEqual(r.body.registered_models.map((m: any) => m.name), ['other']);
        r = await api('GET', '/registered-models/search?max_results=1');
        assert.equal(r.body.registered_models.length, 1);
        const second = await api('GET', `/registered-models/search?max_results=1&page_token=${encodeURIComponent(r.body.next_page_token)}`);
        assert.notEqual(second.body.registered_models[0].name, r.body.registered_models[0].name);
        r = await api('GET', `/registered-models/search?filter=${encodeURIComponent("name = 'x' AND")}`);
        assert.equal(r.status, 400);
        assert.match(r.body.message, /position/);
        r = await api('GET', `/registered-models/search?filter=${encodeURIComponent("metrics.acc > 1")}`);
        assert.equal(r.status, 400);

        const runId = await runWithModel({ 'model.onnx': linearModel() });
        await api('POST', '/model-versions/create', { name: 'fraud-a', source: `runs:/${runId}/model`, run_id: runId });
        await api('POST', '/model-versions/create', { name: 'fraud-b', source: `runs:/${runId}/model`, run_id: runId });
        await ts.server.services.registry.whenSettled();
        r = await api('GET', `/model-versions/search?filter=${encodeURIComponent(`run_id = '${runId}'`)}&order_by=name`);
        assert.deepEqual(r.body.model_versions.map((v: any) => v.name), ['fraud-a', 'fraud-b']);
        r = await api('GET', `/model-versions/search?filter=${encodeURIComponent(`name = 'fraud-a' AND version_number >= 1`)}`);
        assert.equal(r.body.model_versions.length, 1);

        r = await api('POST', '/registered-models/rename', { name: 'fraud-a', new_name: 'fraud-main' });
        assert.equal(r.body.registered_model.name, 'fraud-main');
        assert.equal((await api('GET', '/model-versions/get?name=fraud-main&version=1')).body.model_version.name, 'fraud-main');
        assert.equal((await api('POST', '/registered-models/rename', { name: 'fraud-main', new_name: 'fraud-b' })).status, 400);
        r = await api('PATCH', '/registered-models/update', { name: 'fraud-main', description: 'the main one' });
        assert.equal(r.body.registered_model.description, 'the main one');
        r = await api('PATCH', '/model-versions/update', { name: 'fraud-main', version: '1', description: 'first' });
        assert.equal(r.body.model_version.description, 'first');

        assert.equal((await api('POST', '/registered-models/set-tag', { name: 'fraud-main', key: 'owner', value: 'ana' })).status, 200);
        assert.equal((await api('POST', '/model-versions/set-tag', { name: 'fraud-main', version: '1', key: 'validated', value: 'true' })).status, 200);
        assert.deepEqual((await api('GET', '/model-versions/get?name=fraud-main&version=1')).body.model_version.tags, [{ key: 'validated', value: 'true' }]);
        assert.equal((await api('DELETE', '/model-versions/delete-tag', { name: 'fraud-main', version: '1', key: 'validated' })).status, 200);
        assert.equal((await api('DELETE', '/registered-models/delete-tag?name=fraud-main&key=owner')).status, 200);
        assert.equal((await api('DELETE', '/registered-models/delete-tag?name=fraud-main&key=owner')).status, 404);

        assert.equal((await api('DELETE', '/model-versions/delete', { name: 'fraud-main', version: '1' })).status, 200);
        assert.equal((await api('GET', '/model-versions/get?name=fraud-main&version=1')).status, 404);
        // numbers are not reused
        r = await api('POST', '/model-versions/create', { name: 'fraud-main', source: `runs:/${runId}/model` });
        assert.equal(r.body.model_version.version, '2');
        assert.equal((await api('DELETE', '/registered-models/delete', { name: 'fraud-main' })).status, 200);
        assert.equal((await api('GET', '/registered-models/get?name=fraud-main')).status, 404);
        await ts.server.services.registry.whenSettled();
      });

      it('refuses bad input with clear 4xx answers', async () => {
        await api('POST', '/registered-models/create', { name: 'strict' });
        const anyRun = (await api('POST', '/runs/create', { experiment_id: '0' })).body.run.info.run_id;
        const cases: [string, string, unknown, number][] = [
          ['POST', '/registered-models/create', {}, 400],
          ['POST', '/registered-models/create', { name: 'a/b' }, 400],
          ['POST', '/registered-models/create', { name: 7 }, 400],
          ['POST', '/registered-models/create', { name: 'x'.repeat(300) }, 400],
          ['POST', '/registered-models/create', { name: 'ok', tags: [{ key: '../x', value: 'v' }] }, 400],
          ['GET', '/registered-models/get?name=nope', undefined, 404],
          ['POST', '/model-versions/create', { name: 'strict' }, 400],
          ['POST', '/model-versions/create', { name: 'nope', source: 'runs:/abc/model' }, 404],
          ['POST', '/model-versions/create', { name: 'strict', source: `runs:/${'0'.repeat(32)}/model` }, 404],
          ['POST', '/model-versions/create', { name: 'strict', source: 'mlflow-artifacts:/../../etc/passwd' }, 400],
          ['POST', '/model-versions/create', { name: 'strict', source: `runs:/${anyRun}/../../../etc` }, 400],
          ['POST', '/model-versions/create', { name: 'strict', source: 'models:/m-00000000000000000000000000000000' }, 404],
          ['GET', '/model-versions/get?name=strict&version=abc', undefined, 400],
          ['GET', '/model-versions/get?name=strict&version=0', undefined, 400],
          ['GET', '/model-versions/get?name=strict&version=99', undefined, 404],
          ['POST', '/model-versions/transition-stage', { name: 'strict', version: '1', stage: 'Staging' }, 404],
          ['GET', `/model-versions/search?filter=${encodeURIComponent('version_number = abc')}`, undefined, 400],
          ['GET', `/model-versions/search?order_by=${encodeURIComponent('colour DESC')}`, undefined, 400],
          ['GET', '/registered-models/search?page_token=garbage', undefined, 400],
          ['GET', '/registered-models/search?max_results=5000', undefined, 400],
        ];
        for (const [method, path, body, status] of cases) {
          const r = await api(method, path, body);
          assert.equal(r.status, status, `${method} ${path} ${JSON.stringify(body)}: ${r.text}`);
          assert.equal(typeof r.body.error_code, 'string');
          assert.ok(r.body.message.length > 0);
        }
        // nothing was created by the refused requests
        const all = (await api('GET', '/registered-models/search?max_results=1000')).body.registered_models.map((m: any) => m.name);
        assert.ok(!all.includes('ok') && !all.includes('a/b'));
        assert.equal((await api('GET', '/model-versions/search?filter=name%3D%27strict%27')).body.model_versions.length, 0);
      });
    });
  }
}
