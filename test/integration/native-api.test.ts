import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ARTIFACT_BACKENDS, STORE_BACKENDS } from '../support/backends.js';
import { call, startTestServer, type TestServer } from '../support/server.js';

for (const backend of STORE_BACKENDS) {
  describe(`native /api/v1 on ${backend}`, () => {
    let ts: TestServer;
    const v1 = (method: string, path: string, body?: unknown) => call(ts.url, method, `/api/v1${path}`, body);
    before(async () => {
      ts = await startTestServer({ store: backend });
    });
    after(async () => {
      await ts?.stop();
    });

    it('serves an OpenAPI 3 document generated from the route schemas', async () => {
      const r = await call(ts.url, 'GET', '/api/v1/openapi.json');
      assert.equal(r.status, 200);
      assert.match(r.body.openapi, /^3\./);
      for (const p of ['/api/v1/experiments', '/api/v1/runs/search', '/api/v1/runs/{run_id}/metric-history', '/api/v1/runs/{run_id}/log']) assert.ok(r.body.paths[p], p);
      assert.ok(!Object.keys(r.body.paths).some((p) => p.startsWith('/api/2.0')), 'the MLflow adapter is documented separately');
    });

    it('covers the experiment and run lifecycle in one naming style', async () => {
      let r = await v1('POST', '/experiments', { name: 'native', tags: { team: 'ml' } });
      assert.equal(r.status, 201);
      const exp = r.body.experiment;
      assert.deepEqual(exp.tags, { team: 'ml' });
      assert.equal((await v1('GET', `/experiments/by-name/native`)).body.experiment.experiment_id, exp.experiment_id);
      assert.equal((await v1('POST', '/experiments', { name: 'native' })).status, 409);
      r = await v1('PATCH', `/experiments/${exp.experiment_id}`, { name: 'native-2' });
      assert.equal(r.body.experiment.name, 'native-2');
      assert.equal((await v1('POST', `/experiments/${exp.experiment_id}/tags`, { key: 'k', value: 'v' })).status, 204);
      assert.equal((await v1('DELETE', `/experiments/${exp.experiment_id}/tags?key=team`)).status, 204);
      assert.deepEqual((await v1('GET', `/experiments/${exp.experiment_id}`)).body.experiment.tags, { k: 'v' });

      r = await v1('POST', '/runs', { experiment_id: exp.experiment_id, run_name: 'n1', tags: { a: 'b' } });
      assert.equal(r.status, 201);
      const runId = r.body.run.run_id;
      r = await v1('POST', `/runs/${runId}/log`, {
        metrics: [
          { key: 'train/loss', value: 0.5, step: 1 },
          { key: 'train/loss', value: 'NaN', step: 2 },
        ],
        params: { lr: '0.1' },
        tags: { phase: 'train' },
      });
      assert.equal(r.status, 204);
      r = await v1('GET', `/runs/${runId}`);
      assert.deepEqual(r.body.run.params, { lr: '0.1' });
      assert.equal(r.body.run.metrics['train/loss'].value, 'NaN');
      assert.equal(r.body.run.tags.phase, 'train');
      r = await v1('GET', `/runs/${runId}/metric-history?key=${encodeURIComponent('train/loss')}`);
      assert.deepEqual(r.body.steps, [1, 2]);
      assert.deepEqual(r.body.values, [0.5, 'NaN']);
      r = await v1('PATCH', `/runs/${runId}`, { status: 'FINISHED', end_time: Date.now() });
      assert.equal(r.body.run.status, 'FINISHED');
      r = await v1('POST', '/runs/search', { experiment_ids: [exp.experiment_id], filter: "params.lr = '0.1'" });
      assert.deepEqual(r.body.runs.map((x: { run_id: string }) => x.run_id), [runId]);
      assert.equal((await v1('DELETE', `/runs/${runId}`)).status, 204);
      assert.equal((await v1('POST', `/runs/${runId}/restore`)).body.run.lifecycle_stage, 'active');
      assert.equal((await v1('DELETE', `/experiments/${exp.experiment_id}`)).status, 204);
      assert.equal((await v1('GET', `/experiments?view_type=DELETED_ONLY`)).body.experiments.length, 1);
    });

    it('downsamples a long history with min/max per bucket', async () => {
      const runId = (await v1('POST', '/runs', { experiment_id: '0' })).body.run.run_id;
      for (let b = 0; b < 10; b++) {
        const metrics = Array.from({ length: 1000 }, (_, i) => {
          const step = b * 1000 + i;
          return { key: 'm', value: step === 7777 ? -50 : step === 3333 ? 99 : Math.cos(step / 500), step, timestamp: 1 };
        });
        assert.equal((await v1('POST', `/runs/${runId}/log`, { metrics })).status, 204);
      }
      const r = await v1('GET', `/runs/${runId}/metric-history?key=m&max_points=200`);
      assert.equal(r.body.downsampled, true);
      assert.equal(r.body.total_points, 10_000);
      assert.ok(r.body.steps.length <= 200);
      assert.ok(r.body.values.includes(99) && r.body.values.includes(-50), 'spikes survive');
      const small = await v1('GET', `/runs/${runId}/metric-history?key=m&max_points=20000`);
      assert.equal(small.body.downsampled, false);
      assert.equal(small.body.steps.length, 10_000);
    });
  });
}

for (const artifacts of ARTIFACT_BACKENDS) {
  describe(`run artifacts on the ${artifacts} store`, () => {
    let ts: TestServer;
    before(async () => {
      ts = await startTestServer({ store: 'sqlite', artifacts });
    });
    after(async () => {
      await ts?.stop();
    });

    it('uploads, lists, downloads and deletes through both APIs', async () => {
      const runId = (await call(ts.url, 'POST', '/api/v1/runs', { experiment_id: '0' })).body.run.run_id;
      const payload = Buffer.alloc(3 * 1024 * 1024, 7);
      let r = await fetch(`${ts.url}/api/v1/runs/${runId}/artifacts/model/model.onnx`, { method: 'PUT', body: payload });
      assert.equal(r.status, 204);
      r = await fetch(`${ts.url}/api/v1/runs/${runId}/artifacts/data%20set/%C3%A9t%C3%A9.csv`, { method: 'PUT', body: 'a,b\n1,2\n' });
      assert.equal(r.status, 204);
      const list = await call(ts.url, 'GET', `/api/v1/runs/${runId}/artifacts`);
      assert.deepEqual(list.body.files.map((f: { path: string }) => f.path), ['data set', 'model']);
      const model = await call(ts.url, 'GET', `/api/v1/runs/${runId}/artifacts?path=model`);
      assert.deepEqual(model.body.files, [{ path: 'model/model.onnx', is_dir: false, size: payload.length }]);
      const dl = await fetch(`${ts.url}/api/v1/runs/${runId}/artifacts/model/model.onnx`);
      assert.equal(dl.status, 200);
      assert.ok(Buffer.from(await dl.arrayBuffer()).equals(payload));
      const csv = await fetch(`${ts.url}/api/2.0/mlflow-artifacts/artifacts/0/${runId}/artifacts/data%20set/%C3%A9t%C3%A9.csv`);
      assert.equal(await csv.text(), 'a,b\n1,2\n');
      assert.match(csv.headers.get('content-type') ?? '', /text\/csv/);
      const mlflowList = await call(ts.url, 'GET', `/api/2.0/mlflow/artifacts/list?run_id=${runId}&path=model`);
      assert.deepEqual(mlflowList.body.files, [{ path: 'model/model.onnx', is_dir: false, file_size: payload.length }]);
      assert.equal((await fetch(`${ts.url}/api/v1/runs/${runId}/artifacts/model`, { method: 'DELETE' })).status, 204);
      assert.deepEqual((await call(ts.url, 'GET', `/api/v1/runs/${runId}/artifacts`)).body.files.map((f: { path: string }) => f.path), ['data set']);
      assert.equal((await fetch(`${ts.url}/api/v1/runs/${runId}/artifacts/nothing/here`, { method: 'DELETE' })).status, 404);
      assert.equal((await fetch(`${ts.url}/api/v1/runs/${runId}/artifacts/..%2F..%2Fx`, { method: 'PUT', body: 'x' })).status, 400);
    });
  });
}
