import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STORE_BACKENDS } from '../support/backends.js';
import { call, startTestServer, type TestServer } from '../support/server.js';

/** The calls MLflow 3's `log_model` makes: create a logged model, upload to its artifact URI, finalize, link the run. */
for (const backend of STORE_BACKENDS) {
  describe(`MLflow 3 logged models on ${backend}`, () => {
    let ts: TestServer;
    const api = (method: string, path: string, body?: unknown) => call(ts.url, method, `/api/2.0/mlflow${path}`, body);
    before(async () => {
      ts = await startTestServer({ store: backend });
    });
    after(async () => {
      await ts?.stop();
    });

    it('follows the log_model flow end to end', async () => {
      const exp = (await api('POST', '/experiments/create', { name: 'lm' })).body.experiment_id;
      const runId = (await api('POST', '/runs/create', { experiment_id: exp })).body.run.info.run_id;
      let r = await api('POST', '/logged-models', {
        experiment_id: exp,
        name: 'model',
        model_type: 'Classifier',
        source_run_id: runId,
        params: [{ key: 'alpha', value: '0.5' }],
        tags: [{ key: 'mlflow.user', value: 'ana' }],
      });
      assert.equal(r.status, 200, r.text);
      const info = r.body.model.info;
      assert.match(info.model_id, /^m-[0-9a-f]{32}$/);
      assert.equal(info.status, 'LOGGED_MODEL_PENDING');
      assert.equal(info.artifact_uri, `mlflow-artifacts:/${exp}/models/${info.model_id}/artifacts`);
      assert.equal(info.source_run_id, runId);
      assert.deepEqual(r.body.model.data.params, [{ key: 'alpha', value: '0.5' }]);

      const base = `${ts.url}/api/2.0/mlflow-artifacts/artifacts/${exp}/models/${info.model_id}/artifacts`;
      assert.equal((await fetch(`${base}/MLmodel`, { method: 'PUT', body: 'artifact_path: model\nflavors: {}\n' })).status, 200);
      assert.equal((await fetch(`${base}/model.pkl`, { method: 'PUT', body: Buffer.from([1, 2, 3]) })).status, 200);

      r = await api('PATCH', `/logged-models/${info.model_id}`, { model_id: info.model_id, status: 'LOGGED_MODEL_READY' });
      assert.equal(r.body.model.info.status, 'LOGGED_MODEL_READY');
      assert.equal((await api('POST', '/runs/outputs', { run_id: runId, models: [{ model_id: info.model_id, step: 0 }] })).status, 200);
      const run = (await api('GET', `/runs/get?run_id=${runId}`)).body.run;
      assert.deepEqual(run.outputs, { model_outputs: [{ model_id: info.model_id, step: 0 }] });

      const dirs = await api('GET', `/logged-models/${info.model_id}/artifacts/directories`);
      assert.equal(dirs.body.root_uri, info.artifact_uri);
      assert.deepEqual(dirs.body.files, [
        { path: 'MLmodel', is_dir: false, file_size: 33 },
        { path: 'model.pkl', is_dir: false, file_size: 3 },
      ]);
      const file = await fetch(`${ts.url}/ajax-api/2.0/mlflow/logged-models/${info.model_id}/artifacts/files?artifact_file_path=MLmodel`);
      assert.match(await file.text(), /flavors/);

      r = await api('PATCH', `/logged-models/${info.model_id}/tags`, { tags: [{ key: 'stage', value: 'candidate' }] });
      assert.deepEqual(r.body.model.info.tags.map((t: any) => t.key), ['mlflow.user', 'stage']);
      assert.equal((await api('DELETE', `/logged-models/${info.model_id}/tags/stage`)).status, 200);
      assert.equal((await api('POST', `/logged-models/${info.model_id}/params`, { params: [{ key: 'beta', value: '1' }] })).status, 200);
      const changed = await api('POST', `/logged-models/${info.model_id}/params`, { params: [{ key: 'alpha', value: '0.9' }] });
      assert.equal(changed.status, 400);
      assert.match(changed.body.message, /Changing param values/);

      const other = (await api('POST', '/logged-models', { experiment_id: exp, name: 'other' })).body.model.info.model_id;
      let s = await api('POST', '/logged-models/search', { experiment_ids: [exp], filter: "params.alpha = '0.5'" });
      assert.deepEqual(s.body.models.map((m: any) => m.info.model_id), [info.model_id]);
      s = await api('POST', '/logged-models/search', { experiment_ids: [exp], order_by: [{ field_name: 'name', ascending: true }], max_results: 1 });
      assert.deepEqual(s.body.models.map((m: any) => m.info.name), ['model']);
      assert.ok(s.body.next_page_token);
      s = await api('POST', '/logged-models/search', { experiment_ids: [exp], order_by: [{ field_name: 'name', ascending: true }], max_results: 1, page_token: s.body.next_page_token });
      assert.deepEqual(s.body.models.map((m: any) => m.info.model_id), [other]);

      assert.equal((await api('DELETE', `/logged-models/${other}`)).status, 200);
      assert.equal((await api('GET', `/logged-models/${other}`)).status, 404);
    });

    it('rejects bad logged model requests', async () => {
      const unknown = await api('GET', '/logged-models/m-00000000000000000000000000000000');
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error_code, 'RESOURCE_DOES_NOT_EXIST');
      assert.equal((await api('GET', '/logged-models/..%2F..%2Fetc')).status, 404);
      assert.equal((await api('POST', '/logged-models', { name: 'x' })).status, 400);
      assert.equal((await api('POST', '/logged-models', { experiment_id: '9999' })).status, 404);
      const id = (await api('POST', '/logged-models', { experiment_id: '0' })).body.model.info.model_id;
      const bad = await api('PATCH', `/logged-models/${id}`, { status: 'DONE' });
      assert.equal(bad.status, 400);
      assert.match(bad.body.message, /LOGGED_MODEL_READY/);
      const metricFilter = await api('POST', '/logged-models/search', { experiment_ids: ['0'], filter: 'metrics.acc > 1' });
      assert.equal(metricFilter.status, 400);
      const badOrder = await api('POST', '/logged-models/search', { experiment_ids: ['0'], order_by: [{ field_name: 'colour' }] });
      assert.equal(badOrder.status, 400);
      assert.equal((await api('POST', '/runs/outputs', { run_id: '0'.repeat(32), models: [{ model_id: id, step: 0 }] })).status, 404);
    });
  });
}
