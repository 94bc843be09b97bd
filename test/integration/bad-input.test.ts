import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STORE_BACKENDS } from '../support/backends.js';
import { call, startTestServer, type TestServer } from '../support/server.js';

interface Case {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  readonly raw?: string;
  readonly headers?: Record<string, string>;
  readonly status: number;
  readonly code: string;
  /** A piece of the message that tells the user what is wrong. */
  readonly message: RegExp;
}

const RUN = '__RUN__';
const EXP = '__EXP__';
const big = 'x'.repeat(1_100_000);

const cases: Case[] = [
  // malformed bodies
  { name: 'malformed JSON', method: 'POST', path: '/api/2.0/mlflow/runs/log-batch', raw: '{"run_id": ', status: 400, code: 'BAD_REQUEST', message: /Malformed JSON/ },
  { name: 'JSON array body', method: 'POST', path: '/api/2.0/mlflow/runs/create', body: [1, 2], status: 400, code: 'BAD_REQUEST', message: /JSON object/ },
  { name: 'JSON string body', method: 'POST', path: '/api/2.0/mlflow/experiments/create', body: '"hello"', status: 400, code: 'BAD_REQUEST', message: /JSON object/ },
  { name: 'body over 1 MB', method: 'POST', path: '/api/2.0/mlflow/runs/log-batch', body: { run_id: RUN, tags: [{ key: 'k', value: big }] }, status: 413, code: 'INVALID_PARAMETER_VALUE', message: /too large/ },
  { name: 'wrong content type', method: 'POST', path: '/api/2.0/mlflow/experiments/create', raw: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 400, code: 'BAD_REQUEST', message: /Content-Type/ },
  // experiments
  { name: 'experiment without name', method: 'POST', path: '/api/2.0/mlflow/experiments/create', body: {}, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /'name'/ },
  { name: 'experiment name is a number', method: 'POST', path: '/api/2.0/mlflow/experiments/create', body: { name: 42 }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /'name'.*string/ },
  { name: 'experiment name too long', method: 'POST', path: '/api/2.0/mlflow/experiments/create', body: { name: 'e'.repeat(501) }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /length limit of 500/ },
  { name: 'experiment name with control chars', method: 'POST', path: '/api/2.0/mlflow/experiments/create', body: { name: 'bad\u0007name' }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /control characters/ },
  { name: 'experiment name with NUL', method: 'POST', path: '/api/2.0/mlflow/experiments/create', body: { name: 'bad\u0000name' }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /'name'.*NUL/ },
  { name: 'experiment tags not a list', method: 'POST', path: '/api/2.0/mlflow/experiments/create', body: { name: 'tags-bad', tags: { a: 'b' } }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /'tags'.*list/ },
  { name: 'unknown experiment id', method: 'GET', path: '/api/2.0/mlflow/experiments/get?experiment_id=987654', status: 404, code: 'RESOURCE_DOES_NOT_EXIST', message: /987654/ },
  { name: 'non-numeric experiment id', method: 'GET', path: '/api/2.0/mlflow/experiments/get?experiment_id=abc', status: 404, code: 'RESOURCE_DOES_NOT_EXIST', message: /abc/ },
  { name: 'missing experiment id', method: 'GET', path: '/api/2.0/mlflow/experiments/get', status: 400, code: 'INVALID_PARAMETER_VALUE', message: /experiment_id/ },
  { name: 'rename to taken name', method: 'POST', path: '/api/2.0/mlflow/experiments/update', body: { experiment_id: EXP, new_name: 'Default' }, status: 400, code: 'RESOURCE_ALREADY_EXISTS', message: /already exists/ },
  { name: 'delete default experiment', method: 'POST', path: '/api/2.0/mlflow/experiments/delete', body: { experiment_id: '0' }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /default experiment/ },
  { name: 'bad experiment filter', method: 'POST', path: '/api/2.0/mlflow/experiments/search', body: { filter: "name = 'x' AND" }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /position \d+/ },
  { name: 'experiment view type', method: 'GET', path: '/api/2.0/mlflow/experiments/search?view_type=SOME', status: 400, code: 'INVALID_PARAMETER_VALUE', message: /ACTIVE_ONLY/ },
  // runs
  { name: 'run in unknown experiment', method: 'POST', path: '/api/2.0/mlflow/runs/create', body: { experiment_id: '424242' }, status: 404, code: 'RESOURCE_DOES_NOT_EXIST', message: /424242/ },
  { name: 'run start_time not a number', method: 'POST', path: '/api/2.0/mlflow/runs/create', body: { experiment_id: EXP, start_time: 'yesterday' }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /start_time/ },
  { name: 'run name and tag disagree', method: 'POST', path: '/api/2.0/mlflow/runs/create', body: { experiment_id: EXP, run_name: 'a', tags: [{ key: 'mlflow.runName', value: 'b' }] }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /different values/ },
  { name: 'unknown run id', method: 'GET', path: '/api/2.0/mlflow/runs/get?run_id=ffffffffffffffffffffffffffffffff', status: 404, code: 'RESOURCE_DOES_NOT_EXIST', message: /not found/ },
  { name: 'run id with path tricks', method: 'GET', path: '/api/2.0/mlflow/runs/get?run_id=..%2F..%2Fetc', status: 400, code: 'INVALID_PARAMETER_VALUE', message: /Invalid run ID/ },
  { name: 'bad run status', method: 'POST', path: '/api/2.0/mlflow/runs/update', body: { run_id: RUN, status: 'DONE' }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /RUNNING/ },
  { name: 'negative end time', method: 'POST', path: '/api/2.0/mlflow/runs/update', body: { run_id: RUN, end_time: -5 }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /end_time/ },
  // log-batch
  { name: 'too many metrics', method: 'POST', path: '/api/2.0/mlflow/runs/log-batch', body: { run_id: RUN, metrics: Array.from({ length: 1001 }, (_, i) => ({ key: 'm', value: 1, timestamp: 1, step: i })) }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /at most 1000 metrics/ },
  { name: 'too many params', method: 'POST', path: '/api/2.0/mlflow/runs/log-batch', body: { run_id: RUN, params: Array.from({ length: 101 }, (_, i) => ({ key: `p${i}`, value: '1' })) }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /at most 100 params/ },
  { name: 'too many tags', method: 'POST', path: '/api/2.0/mlflow/runs/log-batch', body: { run_id: RUN, tags: Array.from({ length: 101 }, (_, i) => ({ key: `t${i}`, value: '1' })) }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /at most 100 tags/ },
  { name: 'metric value is a string', method: 'POST', path: '/api/2.0/mlflow/runs/log-batch', body: { run_id: RUN, metrics: [{ key: 'm', value: 'high', timestamp: 1 }] }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /metrics\[0\]\.value/ },
  { name: 'metric value is a bool', method: 'POST', path: '/api/2.0/mlflow/runs/log-batch', body: { run_id: RUN, metrics: [{ key: 'm', value: true, timestamp: 1 }] }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /double/ },
  { name: 'metric without timestamp', method: 'POST', path: '/api/2.0/mlflow/runs/log-batch', body: { run_id: RUN, metrics: [{ key: 'm', value: 1 }] }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /timestamp/ },
  { name: 'metric step fractional', method: 'POST', path: '/api/2.0/mlflow/runs/log-batch', body: { run_id: RUN, metrics: [{ key: 'm', value: 1, timestamp: 1, step: 1.5 }] }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /step/ },
  { name: 'NaN as a timestamp', method: 'POST', path: '/api/2.0/mlflow/runs/log-batch', body: { run_id: RUN, metrics: [{ key: 'm', value: 1, timestamp: 'NaN' }] }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /timestamp/ },
  { name: 'metric key with ..', method: 'POST', path: '/api/2.0/mlflow/runs/log-batch', body: { run_id: RUN, metrics: [{ key: '../etc', value: 1, timestamp: 1 }] }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /Invalid metric name/ },
  { name: 'metric key absolute', method: 'POST', path: '/api/2.0/mlflow/runs/log-batch', body: { run_id: RUN, metrics: [{ key: '/abs', value: 1, timestamp: 1 }] }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /Invalid metric name/ },
  { name: 'param key bad characters', method: 'POST', path: '/api/2.0/mlflow/runs/log-batch', body: { run_id: RUN, params: [{ key: 'a*b', value: '1' }] }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /Invalid param name/ },
  { name: 'param key too long', method: 'POST', path: '/api/2.0/mlflow/runs/log-batch', body: { run_id: RUN, params: [{ key: 'k'.repeat(251), value: '1' }] }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /length limit of 250/ },
  { name: 'param value too long', method: 'POST', path: '/api/2.0/mlflow/runs/log-batch', body: { run_id: RUN, params: [{ key: 'k', value: 'v'.repeat(6001) }] }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /length limit of 6000/ },
  { name: 'param value not a string', method: 'POST', path: '/api/2.0/mlflow/runs/log-batch', body: { run_id: RUN, params: [{ key: 'k', value: 3 }] }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /params\[0\]\.value/ },
  { name: 'duplicate param keys with different values', method: 'POST', path: '/api/2.0/mlflow/runs/log-batch', body: { run_id: RUN, params: [{ key: 'k', value: '1' }, { key: 'k', value: '2' }] }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /Duplicate parameter keys/ },
  { name: 'changed param inside a batch with good metrics', method: 'POST', path: '/api/2.0/mlflow/runs/log-batch', body: { run_id: RUN, metrics: [{ key: 'should_not_exist', value: 1, timestamp: 1 }], params: [{ key: 'fixed', value: 'other' }] }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /Changing param values/ },
  { name: 'tag value too long', method: 'POST', path: '/api/2.0/mlflow/runs/set-tag', body: { run_id: RUN, key: 'k', value: 'v'.repeat(8001) }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /length limit of 8000/ },
  { name: 'metrics not a list', method: 'POST', path: '/api/2.0/mlflow/runs/log-batch', body: { run_id: RUN, metrics: { key: 'm' } }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /'metrics'.*list/ },
  { name: 'log-batch without run id', method: 'POST', path: '/api/2.0/mlflow/runs/log-batch', body: { metrics: [] }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /run_id/ },
  { name: 'delete missing tag', method: 'POST', path: '/api/2.0/mlflow/runs/delete-tag', body: { run_id: RUN, key: 'never-set' }, status: 404, code: 'RESOURCE_DOES_NOT_EXIST', message: /never-set/ },
  { name: 'dataset digest too long', method: 'POST', path: '/api/2.0/mlflow/runs/log-inputs', body: { run_id: RUN, datasets: [{ dataset: { name: 'd', digest: 'x'.repeat(37), source_type: 'local', source: 's' } }] }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /digest/ },
  { name: 'dataset without dataset', method: 'POST', path: '/api/2.0/mlflow/runs/log-inputs', body: { run_id: RUN, datasets: [{ tags: [] }] }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /dataset/ },
  { name: 'log-model with bad JSON', method: 'POST', path: '/api/2.0/mlflow/runs/log-model', body: { run_id: RUN, model_json: '{not json' }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /model_json/ },
  // search
  { name: 'filter syntax error', method: 'POST', path: '/api/2.0/mlflow/runs/search', body: { experiment_ids: [EXP], filter: 'metrics.acc > ' }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /position \d+/ },
  { name: 'filter with unknown entity', method: 'POST', path: '/api/2.0/mlflow/runs/search', body: { experiment_ids: [EXP], filter: "foo.bar = 'x'" }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /position \d+/ },
  { name: 'metric compared to string', method: 'POST', path: '/api/2.0/mlflow/runs/search', body: { experiment_ids: [EXP], filter: "metrics.acc > 'high'" }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /position \d+/ },
  { name: 'unbalanced parentheses', method: 'POST', path: '/api/2.0/mlflow/runs/search', body: { experiment_ids: [EXP], filter: "(params.a = 'x'" }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /position \d+/ },
  { name: 'unterminated string', method: 'POST', path: '/api/2.0/mlflow/runs/search', body: { experiment_ids: [EXP], filter: "params.a = 'x" }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /position \d+/ },
  { name: 'bad order_by', method: 'POST', path: '/api/2.0/mlflow/runs/search', body: { experiment_ids: [EXP], order_by: ['metrics.acc SIDEWAYS'] }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /order/i },
  { name: 'bad page token', method: 'POST', path: '/api/2.0/mlflow/runs/search', body: { experiment_ids: [EXP], page_token: '%%%not-a-token' }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /page token/ },
  { name: 'max_results too big', method: 'POST', path: '/api/2.0/mlflow/runs/search', body: { experiment_ids: [EXP], max_results: 50001 }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /at most 50000/ },
  { name: 'max_results zero', method: 'POST', path: '/api/2.0/mlflow/runs/search', body: { experiment_ids: [EXP], max_results: 0 }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /positive integer/ },
  { name: 'experiment ids not strings', method: 'POST', path: '/api/2.0/mlflow/runs/search', body: { experiment_ids: [{}] }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /experiment_ids\[0\]/ },
  { name: 'history of unknown run', method: 'GET', path: '/api/2.0/mlflow/metrics/get-history?run_id=eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee&metric_key=m', status: 404, code: 'RESOURCE_DOES_NOT_EXIST', message: /not found/ },
  { name: 'history without key', method: 'GET', path: `/api/2.0/mlflow/metrics/get-history?run_id=${RUN}`, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /metric_key/ },
  { name: 'history bad page token', method: 'GET', path: `/api/2.0/mlflow/metrics/get-history?run_id=${RUN}&metric_key=m&page_token=eyJ4IjoxfQ`, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /page token/ },
  // artifacts
  { name: 'artifact path with ..', method: 'GET', path: '/api/2.0/mlflow-artifacts/artifacts/0/..%2F..%2F..%2Fetc%2Fpasswd', status: 400, code: 'INVALID_PARAMETER_VALUE', message: /\.\./ },
  { name: 'artifact list with absolute path', method: 'GET', path: '/api/2.0/mlflow-artifacts/artifacts?path=%2Fetc', status: 400, code: 'INVALID_PARAMETER_VALUE', message: /absolute/ },
  { name: 'artifact upload with backslash path', method: 'PUT', path: '/api/2.0/mlflow-artifacts/artifacts/0/a%5C..%5Cb.txt', raw: 'x', headers: { 'content-type': 'text/plain' }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /backslash|\\\\/ },
  { name: 'missing artifact', method: 'GET', path: '/api/2.0/mlflow-artifacts/artifacts/0/nope/missing.txt', status: 404, code: 'RESOURCE_DOES_NOT_EXIST', message: /missing\.txt|not found|No artifact/i },
  { name: 'run artifact list with ..', method: 'GET', path: `/api/2.0/mlflow/artifacts/list?run_id=${RUN}&path=../../`, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /\.\./ },
  // native API
  { name: 'native: wrong body type', method: 'POST', path: '/api/v1/experiments', body: { name: 5 }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /name/ },
  { name: 'native: unknown field', method: 'POST', path: '/api/v1/experiments', body: { name: 'x', colour: 'red' }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /colour/ },
  { name: 'native: bool for integer', method: 'POST', path: '/api/v1/runs', body: { experiment_id: EXP, start_time: true }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /start_time/ },
  { name: 'native: bad max_points', method: 'GET', path: `/api/v1/runs/${RUN}/metric-history?key=m&max_points=1`, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /max_points/ },
  { name: 'native: unknown run', method: 'GET', path: '/api/v1/runs/abcdefabcdefabcdefabcdefabcdefab', status: 404, code: 'RESOURCE_DOES_NOT_EXIST', message: /not found/ },
  { name: 'native: metric value null', method: 'POST', path: `/api/v1/runs/${RUN}/log`, body: { metrics: [{ key: 'm', value: null }] }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /value/ },
  { name: 'native: unicode garbage key', method: 'POST', path: `/api/v1/runs/${RUN}/log`, body: { params: { 'a\u202Eb': '1' } }, status: 400, code: 'INVALID_PARAMETER_VALUE', message: /Invalid param name/ },
];

for (const backend of STORE_BACKENDS) {
  describe(`bad input on ${backend}`, () => {
    let ts: TestServer;
    let runId = '';
    let expId = '';

    /** Everything a client can see of the store, to check a rejected request changed nothing. */
    const snapshot = async () => {
      const exps = await call(ts.url, 'POST', '/api/2.0/mlflow/experiments/search', { view_type: 'ALL', max_results: 1000 });
      const ids = exps.body.experiments.map((e: any) => e.experiment_id);
      const runs = await call(ts.url, 'POST', '/api/2.0/mlflow/runs/search', { experiment_ids: ids, run_view_type: 'ALL', max_results: 1000 });
      const arts = await call(ts.url, 'GET', `/api/2.0/mlflow/artifacts/list?run_id=${runId}`);
      const hist = await call(ts.url, 'GET', `/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=m`);
      return JSON.stringify({ exps: exps.body, runs: runs.body, arts: arts.body, hist: hist.body });
    };

    before(async () => {
      ts = await startTestServer({ store: backend });
      expId = (await call(ts.url, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'bad-input' })).body.experiment_id;
      runId = (await call(ts.url, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: expId })).body.run.info.run_id;
      await call(ts.url, 'POST', '/api/2.0/mlflow/runs/log-batch', {
        run_id: runId,
        metrics: [{ key: 'm', value: 1, timestamp: 1, step: 0 }],
        params: [{ key: 'fixed', value: 'one' }],
      });
      await fetch(`${ts.url}/api/2.0/mlflow-artifacts/artifacts/${expId}/${runId}/artifacts/a.txt`, { method: 'PUT', body: 'a' });
    });
    after(async () => {
      await ts?.stop();
    });

    it(`has at least 40 cases (${cases.length})`, () => {
      assert.ok(cases.length >= 40);
    });

    for (const c of cases) {
      it(`${c.name} → ${c.status} ${c.code}`, async () => {
        const before = await snapshot();
        const sub = (s: string) => s.replaceAll(RUN, runId).replaceAll(EXP, expId);
        const body = c.raw !== undefined ? c.raw : c.body === undefined ? undefined : typeof c.body === 'string' ? c.body : sub(JSON.stringify(c.body));
        const res = await fetch(ts.url + sub(c.path), {
          method: c.method,
          headers: c.headers ?? (body !== undefined ? { 'content-type': 'application/json' } : {}),
          body,
        });
        const text = await res.text();
        assert.equal(res.status, c.status, `status for ${c.name}: ${text.slice(0, 300)}`);
        const parsed = JSON.parse(text) as { error_code: string; message: string };
        assert.equal(parsed.error_code, c.code, text.slice(0, 300));
        assert.match(parsed.message, c.message);
        assert.equal(await snapshot(), before, 'the store is unchanged');
      });
    }
  });
}
