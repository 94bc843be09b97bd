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

    it('stores metrics logged against a model and models used as run inputs', async () => {
      const exp = (await api('POST', '/experiments/create', { name: 'lm-metrics' })).body.experiment_id;
      const runId = (await api('POST', '/runs/create', { experiment_id: exp })).body.run.info.run_id;
      const good = (await api('POST', '/logged-models', { experiment_id: exp, name: 'good' })).body.model.info.model_id;
      const weak = (await api('POST', '/logged-models', { experiment_id: exp, name: 'weak' })).body.model.info.model_id;
      let r = await api('POST', '/runs/log-metric', { run_id: runId, key: 'acc', value: 0.93, timestamp: 5, step: 1, model_id: good, dataset_name: 'val', dataset_digest: 'abc123' });
      assert.equal(r.status, 200, r.text);
      r = await api('POST', '/runs/log-batch', {
        run_id: runId,
        metrics: [
          { key: 'acc', value: 0.41, timestamp: 6, step: 1, model_id: weak },
          { key: 'acc', value: 'NaN', timestamp: 7, step: 2, model_id: weak },
          { key: 'loss', value: 0.2, timestamp: 6, step: 1 },
        ],
      });
      assert.equal(r.status, 200, r.text);
      const model = (await api('GET', `/logged-models/${good}`)).body.model;
      assert.deepEqual(model.data.metrics, [{ key: 'acc', value: 0.93, timestamp: 5, step: 1, run_id: runId, model_id: good, dataset_name: 'val', dataset_digest: 'abc123' }]);
      const weakMetrics = (await api('GET', `/logged-models/${weak}`)).body.model.data.metrics;
      assert.deepEqual(weakMetrics.map((m: any) => m.value), [0.41, 'NaN']);
      // the points are run metrics too
      const run = (await api('GET', `/runs/get?run_id=${runId}`)).body.run;
      assert.deepEqual(run.data.metrics.map((m: any) => m.key).sort(), ['acc', 'loss']);

      const found = await api('POST', '/logged-models/search', { experiment_ids: [exp], filter: 'metrics.acc > 0.9' });
      assert.deepEqual(found.body.models.map((m: any) => m.info.name), ['good']);
      const none = await api('POST', '/logged-models/search', { experiment_ids: [exp], filter: 'metrics.acc IS NULL' });
      assert.equal((none.body.models ?? []).length, 0);

      // an unknown model is refused before anything is written
      const before = (await api('GET', `/metrics/get-history?run_id=${runId}&metric_key=acc`)).body.metrics.length;
      r = await api('POST', '/runs/log-batch', { run_id: runId, metrics: [{ key: 'acc', value: 1, timestamp: 9, step: 9, model_id: 'm-' + '0'.repeat(32) }] });
      assert.equal(r.status, 404);
      assert.equal((await api('GET', `/metrics/get-history?run_id=${runId}&metric_key=acc`)).body.metrics.length, before);
      r = await api('POST', '/runs/log-metric', { run_id: runId, key: 'acc', value: 1, timestamp: 9, model_id: 7 });
      assert.equal(r.status, 400);

      // models as run inputs
      const consumer = (await api('POST', '/runs/create', { experiment_id: exp })).body.run.info.run_id;
      r = await api('POST', '/runs/log-inputs', { run_id: consumer, models: [{ model_id: good }] });
      assert.equal(r.status, 200, r.text);
      const got = (await api('GET', `/runs/get?run_id=${consumer}`)).body.run;
      assert.deepEqual(got.inputs.model_inputs, [{ model_id: good }]);
      const searched = (await api('POST', '/runs/search', { experiment_ids: [exp], filter: `attributes.run_id = '${consumer}'` })).body.runs[0];
      assert.deepEqual(searched.inputs.model_inputs, [{ model_id: good }]);
      assert.equal((await api('POST', '/runs/log-inputs', { run_id: consumer, models: [{ model_id: 'm-' + '1'.repeat(32) }] })).status, 404);
      assert.equal((await api('POST', '/runs/log-inputs', { run_id: consumer, models: [{}] })).status, 400);
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
      const metricFilter = await api('POST', '/logged-models/search', { experiment_ids: ['0'], filter: 'metrics.acc >' });
      assert.equal(metricFilter.status, 400);
      assert.match(metricFilter.body.message, /position|expected/i);
      const badOrder = await api('POST', '/logged-models/search', { experiment_ids: ['0'], order_by: [{ field_name: 'colour' }] });
      assert.equal(badOrder.status, 400);
      assert.equal((await api('POST', '/runs/outputs', { run_id: '0'.repeat(32), models: [{ model_id: id, step: 0 }] })).status, 404);
    });
  });
}
