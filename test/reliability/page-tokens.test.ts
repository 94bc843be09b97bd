import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { STORE_BACKENDS } from '../support/backends.js';
import { call, startTestServer, type TestServer } from '../support/server.js';

/** Forged page tokens at every paged endpoint, on every metadata backend: always a 400 naming the page token, never a 500. */

const token = (v: unknown) => Buffer.from(JSON.stringify(v), 'utf8').toString('base64url');

/** Tokens no endpoint produces. */
const GARBAGE: Record<string, string> = {
  'not base64 JSON': '!!!not-a-token',
  'base64 of text': Buffer.from('hello').toString('base64url'),
  'a JSON array': token([1, 2]),
  'a JSON string': token('offset'),
  'a JSON number': token(5),
  'an empty object': token({}),
  'another field': token({ x: 1 }),
};

/** Offset tokens ({offset}) of the wrong shape. */
const OFFSET: Record<string, string> = {
  'offset 1e308': token({ offset: 1e308 }),
  'offset 0.5': token({ offset: 0.5 }),
  'offset -1': token({ offset: -1 }),
  'offset as a string': token({ offset: '10' }),
  'offset null': token({ offset: null }),
  'offset beyond 2^53': token({ offset: 2 ** 60 }),
  'offset with an extra field': token({ offset: 1, s: 2 }),
  'a metric-history token': token({ s: 0, t: 0, n: 0 }),
};

/** Metric-history tokens ({s: step, t: timestamp, n: count}) of the wrong shape. */
const HISTORY: Record<string, string> = {
  'step 1e308': token({ s: 1e308, t: 1, n: 0 }),
  'step 0.5': token({ s: 0.5, t: 1, n: 0 }),
  'step -1e308': token({ s: -1e308, t: 1, n: 0 }),
  'step as a string': token({ s: '1', t: 1, n: 0 }),
  'timestamp 1e308': token({ s: 1, t: 1e308, n: 0 }),
  'timestamp 0.5': token({ s: 1, t: 0.5, n: 0 }),
  'negative timestamp': token({ s: 1, t: -1, n: 0 }),
  'count -1': token({ s: 1, t: 1, n: -1 }),
  'count 0.5': token({ s: 1, t: 1, n: 0.5 }),
  'missing count': token({ s: 1, t: 1 }),
  'extra field': token({ s: 1, t: 1, n: 0, offset: 3 }),
  'an offset token': token({ offset: 1 }),
};

interface Endpoint {
  readonly name: string;
  readonly kind: 'offset' | 'history';
  readonly request: (t: string) => { method: string; path: string; body?: unknown };
}

const M = '/api/2.0/mlflow';
const V1 = '/api/v1';
const q = encodeURIComponent;

const ENDPOINTS: Endpoint[] = [
  { name: 'MLflow experiments/search (GET)', kind: 'offset', request: (t) => ({ method: 'GET', path: `${M}/experiments/search?page_token=${q(t)}` }) },
  { name: 'MLflow experiments/search (POST)', kind: 'offset', request: (t) => ({ method: 'POST', path: `${M}/experiments/search`, body: { page_token: t } }) },
  { name: 'MLflow runs/search', kind: 'offset', request: (t) => ({ method: 'POST', path: `${M}/runs/search`, body: { experiment_ids: ['__EXP__'], page_token: t } }) },
  { name: 'MLflow metrics/get-history', kind: 'history', request: (t) => ({ method: 'GET', path: `${M}/metrics/get-history?run_id=__RUN__&metric_key=m&max_results=1&page_token=${q(t)}` }) },
  { name: 'MLflow registered-models/search', kind: 'offset', request: (t) => ({ method: 'GET', path: `${M}/registered-models/search?page_token=${q(t)}` }) },
  { name: 'MLflow model-versions/search', kind: 'offset', request: (t) => ({ method: 'GET', path: `${M}/model-versions/search?page_token=${q(t)}` }) },
  { name: 'MLflow logged-models/search', kind: 'offset', request: (t) => ({ method: 'POST', path: `${M}/logged-models/search`, body: { experiment_ids: ['__EXP__'], page_token: t } }) },
  { name: 'MLflow webhooks list', kind: 'offset', request: (t) => ({ method: 'GET', path: `${M}/webhooks?page_token=${q(t)}` }) },
  { name: 'native experiments', kind: 'offset', request: (t) => ({ method: 'GET', path: `${V1}/experiments?page_token=${q(t)}` }) },
  { name: 'native runs/search', kind: 'offset', request: (t) => ({ method: 'POST', path: `${V1}/runs/search`, body: { experiment_ids: ['__EXP__'], page_token: t } }) },
  { name: 'native metric-history', kind: 'history', request: (t) => ({ method: 'GET', path: `${V1}/runs/__RUN__/metric-history?key=m&max_results=1&page_token=${q(t)}` }) },
  { name: 'native models', kind: 'offset', request: (t) => ({ method: 'GET', path: `${V1}/models?page_token=${q(t)}` }) },
  { name: 'native model-versions', kind: 'offset', request: (t) => ({ method: 'GET', path: `${V1}/model-versions?page_token=${q(t)}` }) },
  { name: "native a model's versions", kind: 'offset', request: (t) => ({ method: 'GET', path: `${V1}/models/paged-model/versions?page_token=${q(t)}` }) },
  { name: 'native datasets', kind: 'offset', request: (t) => ({ method: 'GET', path: `${V1}/datasets?page_token=${q(t)}` }) },
  { name: "native a dataset's versions", kind: 'offset', request: (t) => ({ method: 'GET', path: `${V1}/datasets/paged/versions?page_token=${q(t)}` }) },
  { name: 'native webhooks', kind: 'offset', request: (t) => ({ method: 'GET', path: `${V1}/webhooks?page_token=${q(t)}` }) },
];

for (const backend of STORE_BACKENDS) {
  describe(`page tokens on ${backend}`, () => {
    let ts: TestServer;
    let runId = '';
    let expId = '';

    before(async () => {
      ts = await startTestServer({ store: backend });
      expId = (await call(ts.url, 'POST', `${M}/experiments/create`, { name: 'paged' })).body.experiment_id;
      runId = (await call(ts.url, 'POST', `${M}/runs/create`, { experiment_id: expId })).body.run.info.run_id;
      const metrics = Array.from({ length: 5 }, (_, i) => ({ key: 'm', value: i, timestamp: 1000 + i, step: i }));
      assert.equal((await call(ts.url, 'POST', `${M}/runs/log-batch`, { run_id: runId, metrics })).status, 200);
      assert.equal((await call(ts.url, 'POST', `${M}/registered-models/create`, { name: 'paged-model' })).status, 200);
      const csv = 'a,b\n1,2\n';
      const sha = createHash('sha256').update(csv).digest('hex');
      assert.equal((await fetch(`${ts.url}${V1}/data/blobs/${sha}`, { method: 'PUT', body: csv, headers: { 'content-type': 'application/octet-stream' } })).status, 201);
      const r = await call(ts.url, 'POST', `${V1}/datasets/paged/versions`, { files: [{ path: 'a.csv', sha256: sha, bytes: csv.length }] });
      assert.equal(r.status, 201, r.text);
    });
    after(async () => {
      await ts?.stop();
    });

    for (const e of ENDPOINTS) {
      const bad = { ...GARBAGE, ...(e.kind === 'offset' ? OFFSET : HISTORY) };
      for (const [what, t] of Object.entries(bad)) {
        it(`${e.name}: ${what} → 400`, async () => {
          const req = e.request(t);
          const sub = (s: string) => s.replaceAll('__RUN__', runId).replaceAll('__EXP__', expId);
          const r = await call(ts.url, req.method, sub(req.path), req.body === undefined ? undefined : JSON.parse(sub(JSON.stringify(req.body))));
          assert.equal(r.status, 400, `${e.name} with ${what}: ${r.text.slice(0, 300)}`);
          assert.equal(r.body.error_code, 'INVALID_PARAMETER_VALUE', r.text);
          assert.match(r.body.message, /page token/i, r.text);
        });
      }
    }

    it('a metric history still pages through its own tokens', async () => {
      const steps: number[] = [];
      let t: string | undefined;
      do {
        const r = await call(ts.url, 'GET', `${M}/metrics/get-history?run_id=${runId}&metric_key=m&max_results=2${t ? `&page_token=${q(t)}` : ''}`);
        assert.equal(r.status, 200, r.text);
        steps.push(...r.body.metrics.map((m: { step: number }) => m.step));
        t = r.body.next_page_token;
      } while (t);
      assert.deepEqual(steps, [0, 1, 2, 3, 4]);
    });
  });
}
