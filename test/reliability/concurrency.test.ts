import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STORE_BACKENDS } from '../support/backends.js';
import { call, startTestServer, type TestServer } from '../support/server.js';

const WRITERS = 8;
const BATCHES = 25;
const POINTS = 200;

for (const backend of STORE_BACKENDS) {
  describe(`concurrent writers on ${backend}`, () => {
    let ts: TestServer;
    before(async () => {
      ts = await startTestServer({ store: backend });
    });
    after(async () => {
      await ts?.stop();
    });

    it(`${WRITERS} writers to one run and to different runs lose no metric and see no "database is locked"`, async () => {
      const shared = (await call(ts.url, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: '0' })).body.run.info.run_id as string;
      const own: string[] = [];
      for (let w = 0; w < WRITERS; w++) own.push((await call(ts.url, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: '0' })).body.run.info.run_id);
      const failures: string[] = [];
      await Promise.all(
        Array.from({ length: WRITERS }, async (_, w) => {
          for (let b = 0; b < BATCHES; b++) {
            const metrics = Array.from({ length: POINTS }, (_, i) => ({ key: `w${w}`, value: b * POINTS + i, timestamp: 1_700_000_000_000 + b, step: b * POINTS + i }));
            for (const runId of [shared, own[w]!]) {
              const r = await call(ts.url, 'POST', '/api/2.0/mlflow/runs/log-batch', { run_id: runId, metrics, params: [{ key: `p${w}`, value: 'same' }], tags: [{ key: `t${w}`, value: String(b) }] });
              if (r.status !== 200) failures.push(`${r.status} ${r.text}`);
            }
          }
        }),
      );
      assert.deepEqual(failures, []);
      for (let w = 0; w < WRITERS; w++) {
        for (const runId of [shared, own[w]!]) {
          const h = await call(ts.url, 'GET', `/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=w${w}`);
          assert.equal(h.body.metrics.length, BATCHES * POINTS, `run ${runId} writer ${w}`);
        }
      }
      const run = (await call(ts.url, 'GET', `/api/2.0/mlflow/runs/get?run_id=${shared}`)).body.run;
      assert.equal(run.data.metrics.length, WRITERS);
      for (const m of run.data.metrics) assert.equal(m.value, BATCHES * POINTS - 1, `latest of ${m.key}`);
      assert.equal(run.data.params.length, WRITERS);
    });
  });
}
