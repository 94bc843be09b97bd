import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { STORE_BACKENDS } from '../support/backends.js';
import { call, startTestServer, type TestServer } from '../support/server.js';

const require = createRequire(import.meta.url);
// The npm `mlflow` client: a real MLflow REST client that Kiln did not write.
const MLflow = require('mlflow') as new (a: { endpoint: string }) => any;

/** The npm client prints every POST body; keep test output readable. */
async function quiet(fn: () => Promise<any>): Promise<any> {
  const log = console.log;
  console.log = () => {};
  try {
    return await fn();
  } finally {
    console.log = log;
  }
}

for (const backend of STORE_BACKENDS) {
  describe(`MLflow tracking API on ${backend}`, () => {
    let ts: TestServer;
    let api: (method: string, path: string, body?: unknown) => ReturnType<typeof call>;
    let mlflow: any;

    before(async () => {
      ts = await startTestServer({ store: backend });
      api = (method, path, body) => call(ts.url, method, `/api/2.0/mlflow${path}`, body);
      mlflow = new MLflow({ endpoint: ts.url });
    });
    after(async () => {
      await ts?.stop();
    });

    it('has the Default experiment 0 and answers /health', async () => {
      const r = await api('GET', '/experiments/get?experiment_id=0');
      assert.equal(r.status, 200);
      assert.equal(r.body.experiment.name, 'Default');
      assert.equal(r.body.experiment.artifact_location, 'mlflow-artifacts:/0');
      const h = await call(ts.url, 'GET', '/health');
      assert.equal(h.status, 200);
      assert.equal(h.text, 'OK');
    });

    it('creates, renames, tags, deletes and restores experiments through the npm mlflow client', async () => {
      const created = await quiet(() => mlflow.Experiments.create({ name: 'npm-client-exp' }));
      const id = created.experiment_id as string;
      assert.match(id, /^\d+$/);
      const got = await mlflow.Experiments.get({ experiment_id: id });
      assert.equal(got.experiment.name, 'npm-client-exp');
      assert.equal(got.experiment.artifact_location, `mlflow-artifacts:/${id}`);
      assert.equal(got.experiment.lifecycle_stage, 'active');
      await quiet(() => mlflow.Experiments.update({ experiment_id: id, new_name: 'npm-client-exp-2' }));
      const list = await mlflow.Experiments.list({});
      assert.ok(list.experiments.some((e: any) => e.name === 'npm-client-exp-2'));
      await quiet(() => mlflow.Experiments.delete({ experiment_id: id }));
      assert.equal((await mlflow.Experiments.get({ experiment_id: id })).experiment.lifecycle_stage, 'deleted');
      const deletedOnly = await mlflow.Experiments.list({ view_type: 'DELETED_ONLY' });
      assert.deepEqual(deletedOnly.experiments.map((e: any) => e.experiment_id), [id]);
      await quiet(() => mlflow.Experiments.restore({ experiment_id: id }));
      assert.equal((await mlflow.Experiments.get({ experiment_id: id })).experiment.lifecycle_stage, 'active');
    });

    it('rejects a duplicate experiment name with RESOURCE_ALREADY_EXISTS (400)', async () => {
      assert.equal((await api('POST', '/experiments/create', { name: 'dup' })).status, 200);
      const r = await api('POST', '/experiments/create', { name: 'dup' });
      assert.equal(r.status, 400);
      assert.equal(r.body.error_code, 'RESOURCE_ALREADY_EXISTS');
    });

    it('gets experiments by name and sets/deletes experiment tags', async () => {
      const { body } = await api('POST', '/experiments/create', { name: 'by-name', tags: [{ key: 'team', value: 'vision' }] });
      const r = await api('GET', '/experiments/get-by-name?experiment_name=by-name');
      assert.equal(r.body.experiment.experiment_id, body.experiment_id);
      assert.deepEqual(r.body.experiment.tags, [{ key: 'team', value: 'vision' }]);
      await api('POST', '/experiments/set-experiment-tag', { experiment_id: body.experiment_id, key: 'owner', value: 'ana' });
      await api('POST', '/experiments/delete-experiment-tag', { experiment_id: body.experiment_id, key: 'team' });
      const r2 = await api('GET', `/experiments/get?experiment_id=${body.experiment_id}`);
      assert.deepEqual(r2.body.experiment.tags, [{ key: 'owner', value: 'ana' }]);
      const missing = await api('GET', '/experiments/get-by-name?experiment_name=nope');
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error_code, 'RESOURCE_DOES_NOT_EXIST');
    });

    it('searches experiments by name and tags with ordering and pagination', async () => {
      for (const n of ['search-a', 'search-b', 'search-c']) {
        await api('POST', '/experiments/create', { name: n, tags: [{ key: 'group', value: n === 'search-b' ? 'odd' : 'even' }] });
      }
      const r = await api('POST', '/experiments/search', { filter: "name LIKE 'search-%'", order_by: ['name DESC'], max_results: 2 });
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.experiments.map((e: any) => e.name), ['search-c', 'search-b']);
      assert.ok(r.body.next_page_token);
      const r2 = await api('POST', '/experiments/search', { filter: "name LIKE 'search-%'", order_by: ['name DESC'], max_results: 2, page_token: r.body.next_page_token });
      assert.deepEqual(r2.body.experiments.map((e: any) => e.name), ['search-a']);
      assert.equal(r2.body.next_page_token, undefined);
      const byTag = await api('GET', `/experiments/search?filter=${encodeURIComponent("tags.group = 'odd'")}`);
      assert.deepEqual(byTag.body.experiments.map((e: any) => e.name), ['search-b']);
    });

    it('runs: create, log through the npm client, get, update, latest metric semantics', async () => {
      const exp = (await api('POST', '/experiments/create', { name: 'runs-exp' })).body.experiment_id;
      const created = await quiet(() => mlflow.Runs.create({ experiment_id: exp, start_time: 1000, tags: [{ key: 'mlflow.user', value: 'ana' }] }));
      const run = created.run;
      const runId = run.info.run_id as string;
      assert.match(runId, /^[0-9a-f]{32}$/);
      assert.equal(run.info.status, 'RUNNING');
      assert.equal(run.info.user_id, 'ana');
      assert.equal(run.info.artifact_uri, `mlflow-artifacts:/${exp}/${runId}/artifacts`);
      assert.ok(run.info.run_name.length > 0, 'an unnamed run gets a generated name');
      assert.ok(run.data.tags.some((t: any) => t.key === 'mlflow.runName' && t.value === run.info.run_name));

      await quiet(() => mlflow.Runs.logParameter({ run_id: runId, key: 'lr', value: '0.01' }));
      await quiet(() => mlflow.Runs.logParameter({ run_id: runId, key: 'lr', value: '0.01' })); // same value: idempotent
      await quiet(() => mlflow.Runs.logMetric({ run_id: runId, key: 'loss', value: 0.5, timestamp: 10, step: 1 }));
      await quiet(() => mlflow.Runs.logMetric({ run_id: runId, key: 'loss', value: 0.4, timestamp: 5, step: 2 }));
      await quiet(() => mlflow.Runs.logMetric({ run_id: runId, key: 'loss', value: 0.9, timestamp: 50, step: 0 }));
      await quiet(() => mlflow.Runs.logBatch({
        run_id: runId,
        metrics: [
          { key: 'acc', value: 0.7, timestamp: 1, step: 3 },
          { key: 'acc', value: 0.8, timestamp: 2, step: 3 },
          { key: 'weird', value: 'NaN', timestamp: 1, step: 0 },
          { key: 'inf', value: 'Infinity', timestamp: 1, step: 0 },
          { key: 'ninf', value: '-Infinity', timestamp: 1, step: 0 },
        ],
        params: [{ key: 'epochs', value: '3' }],
        tags: [{ key: 'stage', value: 'dev' }],
      }));
      await quiet(() => mlflow.Runs.setTag({ run_id: runId, key: 'mlflow.runName', value: 'renamed-by-tag' }));
      const got = (await mlflow.Runs.get({ run_id: runId })).run;
      const metrics = Object.fromEntries(got.data.metrics.map((m: any) => [m.key, m]));
      assert.equal(metrics.loss.value, 0.4, 'latest = highest step');
      assert.equal(metrics.loss.step, 2);
      assert.equal(metrics.acc.value, 0.8, 'same step: latest timestamp');
      assert.equal(metrics.weird.value, 'NaN');
      assert.equal(metrics.inf.value, 'Infinity');
      assert.equal(metrics.ninf.value, '-Infinity');
      assert.deepEqual(got.data.params.map((p: any) => [p.key, p.value]), [['epochs', '3'], ['lr', '0.01']]);
      assert.equal(got.info.run_name, 'renamed-by-tag', 'mlflow.runName tag renames the run');

      const changed = await api('POST', '/runs/log-parameter', { run_id: runId, key: 'lr', value: '0.02' });
      assert.equal(changed.status, 400);
      assert.equal(changed.body.error_code, 'INVALID_PARAMETER_VALUE');
      assert.match(changed.body.message, /Changing param values is not allowed/);

      const upd = await quiet(() => mlflow.Runs.update({ run_id: runId, status: 'FINISHED', end_time: 5000 }));
      assert.equal(upd.run_info.status, 'FINISHED');
      assert.equal(upd.run_info.end_time, 5000);
      const renamed = await api('POST', '/runs/update', { run_id: runId, run_name: 'final-name' });
      assert.equal(renamed.body.run_info.run_name, 'final-name');
      const tags = (await api('GET', `/runs/get?run_id=${runId}`)).body.run.data.tags;
      assert.ok(tags.some((t: any) => t.key === 'mlflow.runName' && t.value === 'final-name'));

      const hist = await mlflow.Metrics.getHistory({ run_id: runId, metric_key: 'loss' });
      assert.deepEqual(hist.metrics.map((m: any) => [m.step, m.value]), [[0, 0.9], [1, 0.5], [2, 0.4]]);
    });

    it('deletes and restores runs; a deleted run takes no more data', async () => {
      const exp = (await api('POST', '/experiments/create', { name: 'del-exp' })).body.experiment_id;
      const runId = (await api('POST', '/runs/create', { experiment_id: exp, run_name: 'r' })).body.run.info.run_id;
      await quiet(() => mlflow.Runs.delete({ run_id: runId }));
      assert.equal((await api('GET', `/runs/get?run_id=${runId}`)).body.run.info.lifecycle_stage, 'deleted');
      const log = await api('POST', '/runs/log-batch', { run_id: runId, metrics: [{ key: 'm', value: 1, timestamp: 1 }] });
      assert.equal(log.status, 400);
      const active = await api('POST', '/runs/search', { experiment_ids: [exp] });
      assert.deepEqual(active.body.runs ?? [], []);
      const deleted = await api('POST', '/runs/search', { experiment_ids: [exp], run_view_type: 'DELETED_ONLY' });
      assert.deepEqual(deleted.body.runs.map((r: any) => r.info.run_id), [runId]);
      await quiet(() => mlflow.Runs.restore({ run_id: runId }));
      assert.equal((await api('GET', `/runs/get?run_id=${runId}`)).body.run.info.lifecycle_stage, 'active');
    });

    it('deleting an experiment deletes its runs, restoring brings them back', async () => {
      const exp = (await api('POST', '/experiments/create', { name: 'cascade' })).body.experiment_id;
      const runId = (await api('POST', '/runs/create', { experiment_id: exp })).body.run.info.run_id;
      await api('POST', '/experiments/delete', { experiment_id: exp });
      assert.equal((await api('GET', `/runs/get?run_id=${runId}`)).body.run.info.lifecycle_stage, 'deleted');
      const create = await api('POST', '/runs/create', { experiment_id: exp });
      assert.equal(create.status, 400, 'no new runs in a deleted experiment');
      await api('POST', '/experiments/restore', { experiment_id: exp });
      assert.equal((await api('GET', `/runs/get?run_id=${runId}`)).body.run.info.lifecycle_stage, 'active');
    });

    it('records dataset inputs and finds runs by dataset', async () => {
      const exp = (await api('POST', '/experiments/create', { name: 'inputs-exp' })).body.experiment_id;
      const runId = (await api('POST', '/runs/create', { experiment_id: exp })).body.run.info.run_id;
      const other = (await api('POST', '/runs/create', { experiment_id: exp })).body.run.info.run_id;
      const r = await api('POST', '/runs/log-inputs', {
        run_id: runId,
        datasets: [
          {
            tags: [{ key: 'mlflow.data.context', value: 'training' }],
            dataset: { name: 'weather', digest: 'abc123', source_type: 'local', source: '{"uri": "weather.csv"}', schema: '{"mlflow_colspec": []}', profile: '{"num_rows": 10}' },
          },
        ],
      });
      assert.equal(r.status, 200);
      const run = (await api('GET', `/runs/get?run_id=${runId}`)).body.run;
      assert.equal(run.inputs.dataset_inputs.length, 1);
      assert.equal(run.inputs.dataset_inputs[0].dataset.digest, 'abc123');
      assert.deepEqual(run.inputs.dataset_inputs[0].tags, [{ key: 'mlflow.data.context', value: 'training' }]);
      const found = await api('POST', '/runs/search', { experiment_ids: [exp], filter: "datasets.name = 'weather' AND datasets.context = 'training'" });
      assert.deepEqual(found.body.runs.map((x: any) => x.info.run_id), [runId]);
      assert.notEqual(other, runId);
      const summaries = await call(ts.url, 'POST', '/ajax-api/2.0/mlflow/experiments/search-datasets', { experiment_ids: [exp] });
      assert.deepEqual(summaries.body.dataset_summaries, [{ experiment_id: exp, name: 'weather', digest: 'abc123', context: 'training' }]);
    });

    it('searches runs with filters, OR, parentheses, IS NULL, ordering and pages', async () => {
      const exp = (await api('POST', '/experiments/create', { name: 'search-runs' })).body.experiment_id;
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        const id = (await api('POST', '/runs/create', { experiment_id: exp, run_name: `run-${i}`, start_time: 1000 + i })).body.run.info.run_id;
        ids.push(id);
        const metrics = i === 5 ? [] : [{ key: 'acc', value: i === 4 ? 'NaN' : i / 10, timestamp: 1, step: 0 }];
        await api('POST', '/runs/log-batch', { run_id: id, metrics, params: [{ key: 'lr', value: i % 2 ? '0.1' : '0.01' }], tags: [{ key: 'team', value: i < 3 ? 'Vision' : 'nlp' }] });
      }
      const q = async (body: Record<string, unknown>) => {
        const r = await api('POST', '/runs/search', { experiment_ids: [exp], ...body });
        assert.equal(r.status, 200, JSON.stringify(r.body));
        return (r.body.runs ?? []).map((x: any) => x.info.run_name);
      };
      assert.deepEqual(await q({ filter: 'metrics.acc > 0.15', order_by: ['metrics.acc DESC'] }), ['run-3', 'run-2']);
      assert.deepEqual(await q({ filter: "params.lr = '0.01' and metrics.acc >= 0", order_by: ['attributes.run_name'] }), ['run-0', 'run-2']);
      assert.deepEqual(await q({ filter: "tags.team LIKE 'vis%'" }), []);
      assert.deepEqual(await q({ filter: "tags.team ILIKE 'vis%'", order_by: ['start_time ASC'] }), ['run-0', 'run-1', 'run-2']);
      assert.deepEqual(await q({ filter: "metrics.acc < 0.1 OR (params.lr = '0.1' AND tags.team = 'nlp')", order_by: ['run_name'] }), ['run-0', 'run-3', 'run-5']);
      assert.deepEqual(await q({ filter: 'metrics.acc IS NULL', order_by: ['run_name'] }), ['run-4', 'run-5']);
      const asc = await q({ order_by: ['metrics.acc ASC'] });
      assert.deepEqual(asc.slice(0, 4), ['run-0', 'run-1', 'run-2', 'run-3']);
      assert.deepEqual(new Set(asc.slice(4)), new Set(['run-4', 'run-5']), 'NaN and missing sort last');
      const desc = await q({ order_by: ['metrics.acc DESC'] });
      assert.deepEqual(desc.slice(0, 4), ['run-3', 'run-2', 'run-1', 'run-0']);
      assert.deepEqual(new Set(desc.slice(4)), new Set(['run-4', 'run-5']), 'NaN and missing sort last in DESC too');
      assert.deepEqual(await q({ filter: `attributes.run_id IN ('${ids[1]}', '${ids[2]}')`, order_by: ['run_name'] }), ['run-1', 'run-2']);
      assert.deepEqual(await q({ filter: "attributes.status = 'RUNNING' AND attributes.start_time >= 1004", order_by: ['start_time'] }), ['run-4', 'run-5']);

      const p1 = await api('POST', '/runs/search', { experiment_ids: [exp], max_results: 4, order_by: ['start_time ASC'] });
      assert.equal(p1.body.runs.length, 4);
      const p2 = await api('POST', '/runs/search', { experiment_ids: [exp], max_results: 4, order_by: ['start_time ASC'], page_token: p1.body.next_page_token });
      assert.deepEqual(p2.body.runs.map((x: any) => x.info.run_name), ['run-4', 'run-5']);
      assert.equal(p2.body.next_page_token, undefined);

      const viaClient = await quiet(() => mlflow.Runs.search({ experiment_ids: [exp], filter: "params.lr = '0.1'", order_by: ['run_name DESC'] }));
      assert.deepEqual(viaClient.runs.map((x: any) => x.info.run_name), ['run-5', 'run-3', 'run-1']);

      const bad = await api('POST', '/runs/search', { experiment_ids: [exp], filter: 'metrics.acc >> 1' });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error_code, 'INVALID_PARAMETER_VALUE');
      assert.match(bad.body.message, /position \d+/);
    });

    it('finds nested runs through mlflow.parentRunId', async () => {
      const exp = (await api('POST', '/experiments/create', { name: 'nested' })).body.experiment_id;
      const parent = (await api('POST', '/runs/create', { experiment_id: exp, run_name: 'parent' })).body.run.info.run_id;
      for (const n of ['child-1', 'child-2']) {
        await api('POST', '/runs/create', { experiment_id: exp, run_name: n, tags: [{ key: 'mlflow.parentRunId', value: parent }] });
      }
      const r = await api('POST', '/runs/search', { experiment_ids: [exp], filter: `tags.mlflow.parentRunId = '${parent}'`, order_by: ['run_name'] });
      assert.deepEqual(r.body.runs.map((x: any) => x.info.run_name), ['child-1', 'child-2']);
    });

    it('pages metric history and serves the bulk and interval variants', async () => {
      const exp = (await api('POST', '/experiments/create', { name: 'history' })).body.experiment_id;
      const runId = (await api('POST', '/runs/create', { experiment_id: exp })).body.run.info.run_id;
      const metrics = Array.from({ length: 1000 }, (_, i) => ({ key: 'loss', value: i === 500 ? 100 : 1 / (i + 1), timestamp: 1000 + i, step: i }));
      assert.equal((await api('POST', '/runs/log-batch', { run_id: runId, metrics })).status, 200);
      const all = await api('GET', `/metrics/get-history?run_id=${runId}&metric_key=loss`);
      assert.equal(all.body.metrics.length, 1000);
      const page1 = await api('GET', `/metrics/get-history?run_id=${runId}&metric_key=loss&max_results=300`);
      assert.equal(page1.body.metrics.length, 300);
      let steps = page1.body.metrics.map((m: any) => m.step);
      let token = page1.body.next_page_token;
      while (token) {
        const p = await api('GET', `/metrics/get-history?run_id=${runId}&metric_key=loss&max_results=300&page_token=${encodeURIComponent(token)}`);
        steps = steps.concat(p.body.metrics.map((m: any) => m.step));
        token = p.body.next_page_token;
      }
      assert.deepEqual(steps, Array.from({ length: 1000 }, (_, i) => i));
      const bulk = await call(ts.url, 'GET', `/ajax-api/2.0/mlflow/metrics/get-history-bulk?run_id=${runId}&metric_key=loss&max_results=10`);
      assert.equal(bulk.body.metrics.length, 10);
      assert.equal(bulk.body.metrics[0].run_id, runId);
      const interval = await call(ts.url, 'GET', `/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids=${runId}&metric_key=loss&max_results=100`);
      assert.ok(interval.body.metrics.length <= 100 && interval.body.metrics.length >= 50, `got ${interval.body.metrics.length}`);
      assert.ok(interval.body.metrics.some((m: any) => m.value === 100), 'the spike survives downsampling');
      const windowed = await call(ts.url, 'GET', `/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids=${runId}&metric_key=loss&start_step=10&end_step=19&max_results=100`);
      assert.deepEqual(windowed.body.metrics.map((m: any) => m.step), Array.from({ length: 10 }, (_, i) => 10 + i));
    });

    it('pages through points that share a step and timestamp without loss or repeats', async () => {
      const runId = (await api('POST', '/runs/create', { experiment_id: '0' })).body.run.info.run_id;
      const metrics = [3, 1, 'NaN', 2, 5, 4].map((v) => ({ key: 'tie', value: v, timestamp: 7, step: 1 })).concat([{ key: 'tie', value: 9, timestamp: 8, step: 1 }]);
      await api('POST', '/runs/log-batch', { run_id: runId, metrics });
      let token: string | undefined;
      const seen: unknown[] = [];
      do {
        const p = await api('GET', `/metrics/get-history?run_id=${runId}&metric_key=tie&max_results=2${token ? `&page_token=${encodeURIComponent(token)}` : ''}`);
        assert.equal(p.status, 200);
        assert.ok(p.body.metrics.length <= 2);
        seen.push(...p.body.metrics.map((m: any) => m.value));
        token = p.body.next_page_token;
      } while (token);
      assert.equal(seen.length, 7);
      assert.deepEqual([...seen].map(String).sort(), ['1', '2', '3', '4', '5', '9', 'NaN']);
      assert.equal(seen[6], 9, 'the later timestamp comes last');
    });

    it('records log-model history in the mlflow.log-model.history tag', async () => {
      const runId = (await api('POST', '/runs/create', { experiment_id: '0' })).body.run.info.run_id;
      const model = { artifact_path: 'model', flavors: { onnx: {} }, run_id: runId, utc_time_created: '2026-01-01 00:00:00.000000' };
      assert.equal((await api('POST', '/runs/log-model', { run_id: runId, model_json: JSON.stringify(model) })).status, 200);
      const tags = (await api('GET', `/runs/get?run_id=${runId}`)).body.run.data.tags;
      const hist = JSON.parse(tags.find((t: any) => t.key === 'mlflow.log-model.history').value);
      assert.deepEqual(hist, [model]);
    });

    it('proxies artifacts: PUT, list, GET, DELETE and run artifact listing', async () => {
      const exp = (await api('POST', '/experiments/create', { name: 'artifacts' })).body.experiment_id;
      const runId = (await api('POST', '/runs/create', { experiment_id: exp })).body.run.info.run_id;
      const base = `${ts.url}/api/2.0/mlflow-artifacts/artifacts/${exp}/${runId}/artifacts`;
      const put = async (p: string, data: string) => (await fetch(`${base}/${p}`, { method: 'PUT', body: data, headers: { 'content-type': 'text/plain' } })).status;
      assert.equal(await put('model/MLmodel', 'flavors: {}\n'), 200);
      assert.equal(await put('model/model.onnx', 'x'.repeat(1234)), 200);
      assert.equal(await put('metrics.json', '{"a": 1}'), 200);
      assert.equal(await put('unicode/r%C3%A9sum%C3%A9%20%F0%9F%93%88.txt', 'hé'), 200);
      const list = await call(ts.url, 'GET', `/api/2.0/mlflow-artifacts/artifacts?path=${exp}/${runId}/artifacts/model`);
      assert.deepEqual(list.body.files, [
        { path: 'MLmodel', is_dir: false, file_size: 12 },
        { path: 'model.onnx', is_dir: false, file_size: 1234 },
      ]);
      const runList = await api('GET', `/artifacts/list?run_id=${runId}`);
      assert.equal(runList.body.root_uri, `mlflow-artifacts:/${exp}/${runId}/artifacts`);
      assert.deepEqual(runList.body.files.map((f: any) => [f.path, f.is_dir]), [['metrics.json', false], ['model', true], ['unicode', true]]);
      const sub = await api('GET', `/artifacts/list?run_id=${runId}&path=model`);
      assert.deepEqual(sub.body.files.map((f: any) => f.path), ['model/MLmodel', 'model/model.onnx']);
      const dl = await fetch(`${base}/metrics.json`);
      assert.equal(dl.status, 200);
      assert.equal(await dl.text(), '{"a": 1}');
      const uni = await fetch(`${base}/unicode/r%C3%A9sum%C3%A9%20%F0%9F%93%88.txt`);
      assert.equal(await uni.text(), 'hé');
      assert.equal((await fetch(`${base}/metrics.json`, { method: 'DELETE' })).status, 200);
      assert.equal((await fetch(`${base}/metrics.json`)).status, 404);
      const trick = await fetch(`${ts.url}/api/2.0/mlflow-artifacts/artifacts/${exp}/..%2F..%2Fetc/passwd`);
      assert.equal(trick.status, 400);
      const mpu = await call(ts.url, 'POST', `/api/2.0/mlflow-artifacts/mpu/create/${exp}/x.bin`, { path: 'x.bin', num_parts: 2 });
      assert.equal(mpu.status, 501);
      assert.equal(mpu.body.error_code, 'NOT_IMPLEMENTED');
    });

    it('answers unknown endpoints and unknown ids in MLflow error shape', async () => {
      const r = await api('GET', '/runs/get?run_id=0123456789abcdef0123456789abcdef');
      assert.equal(r.status, 404);
      assert.equal(r.body.error_code, 'RESOURCE_DOES_NOT_EXIST');
      const e = await api('POST', '/no/such/endpoint', {});
      assert.equal(e.status, 404);
      assert.equal(e.body.error_code, 'ENDPOINT_NOT_FOUND');
    });
  });
}
