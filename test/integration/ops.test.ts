import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { loadConfig } from '../../src/platform/config.js';
import { openStore, migrateToLatest } from '../../src/platform/db/index.js';
import { MIGRATIONS } from '../../src/migrations.js';
import { STORE_BACKENDS, freshStore } from '../support/backends.js';
import { call, startTestServer } from '../support/server.js';

describe('operations', () => {
  it('exposes Prometheus metrics with request counts, latency by route and database time', async () => {
    const ts = await startTestServer({ store: 'sqlite' });
    try {
      await call(ts.url, 'GET', '/api/2.0/mlflow/experiments/get?experiment_id=0');
      await call(ts.url, 'GET', '/api/2.0/mlflow/experiments/get?experiment_id=999');
      const r = await call(ts.url, 'GET', '/metrics');
      assert.equal(r.status, 200);
      assert.match(r.text, /kiln_http_requests_total\{method="GET",route="\/api\/2\.0\/mlflow\/experiments\/get",status="200"\} 1/);
      assert.match(r.text, /kiln_http_requests_total\{method="GET",route="\/api\/2\.0\/mlflow\/experiments\/get",status="404"\} 1/);
      assert.match(r.text, /kiln_http_request_duration_seconds_bucket/);
      assert.match(r.text, /kiln_db_query_duration_seconds_count\{kind="select",outcome="ok"\} \d+/);
    } finally {
      await ts.stop();
    }
  });

  it('returns request ids and honours a caller-supplied one', async () => {
    const ts = await startTestServer({ store: 'sqlite' });
    try {
      const a = await call(ts.url, 'GET', '/health');
      assert.match(a.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
      const b = await call(ts.url, 'GET', '/health', undefined, { 'x-request-id': 'trace-123' });
      assert.equal(b.headers.get('x-request-id'), 'trace-123');
    } finally {
      await ts.stop();
    }
  });

  it('finishes in-flight requests on shutdown', async () => {
    const ts = await startTestServer({ store: 'sqlite' });
    const runId = (await call(ts.url, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: '0' })).body.run.info.run_id;
    const { port } = new URL(ts.url);
    // Fresh connections (no keep-alive reuse), each fully written before shutdown starts.
    const send = (b: number) =>
      new Promise<{ sent: Promise<void>; done: Promise<number> }>((resolveOuter) => {
        const body = JSON.stringify({ run_id: runId, metrics: Array.from({ length: 1000 }, (_, i) => ({ key: 'm', value: i, timestamp: 1, step: b * 1000 + i })) });
        let markSent!: () => void;
        const sent = new Promise<void>((r) => (markSent = r));
        const done = new Promise<number>((resolve, reject) => {
          const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/api/2.0/mlflow/runs/log-batch', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', reject);
          req.on('finish', () => markSent());
          req.end(body);
        });
        resolveOuter({ sent, done });
      });
    const reqs = await Promise.all([0, 1, 2, 3, 4].map(send));
    await Promise.all(reqs.map((r) => r.sent));
    await new Promise((r) => setTimeout(r, 20));
    const closing = ts.server.close();
    const statuses = await Promise.all(reqs.map((r) => r.done));
    await closing;
    assert.deepEqual(statuses, [200, 200, 200, 200, 200], 'every request that reached the server before shutdown is answered');
    const h = await ts.server.services.tracking.getMetricHistory({ runId, key: 'm' }).catch(() => undefined);
    assert.equal(h, undefined, 'the store is closed after shutdown');
    await ts.stop();
  });

  it('resolves configuration: flag > env > default', () => {
    const c = loadConfig({ port: 7000 }, { KILN_PORT: '6000', KILN_HOST: '0.0.0.0', KILN_STORE_URI: 'postgresql://u@h/db' }, '/tmp/kiln-cwd');
    assert.equal(c.port, 7000);
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.storeUri, 'postgresql://u@h/db');
    assert.equal(c.artifactsUri, 'file:///tmp/kiln-cwd/.kiln/artifacts');
    const d = loadConfig({}, {}, '/tmp/kiln-cwd');
    assert.equal(d.host, '127.0.0.1');
    assert.equal(d.port, 5000);
    assert.equal(d.storeUri, 'sqlite:///tmp/kiln-cwd/.kiln/kiln.db');
    assert.throws(() => loadConfig({}, { KILN_PORT: 'eighty' }), /port/);
  });

  for (const backend of STORE_BACKENDS) {
    it(`migrates from several processes at once without racing (${backend})`, async () => {
      const store = await freshStore(backend);
      try {
        const stores = await Promise.all([0, 1, 2, 3].map(() => openStore(store.uri)));
        const reports = await Promise.all(stores.map((s) => migrateToLatest(s, MIGRATIONS)));
        assert.equal(reports.filter((r) => r.applied.length > 0).length, 1, 'exactly one process applied the migrations');
        const all = MIGRATIONS.map((m) => m.name).sort();
        assert.deepEqual(all.slice(0, 3), ['0001_tracking', '0002_logged_models', '0003_logged_model_metrics_and_inputs']);
        for (const r of reports) assert.deepEqual(r.current, all);
        await Promise.all(stores.map((s) => s.close()));
      } finally {
        await store.drop();
      }
    });
  }
});
