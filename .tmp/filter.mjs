import { startTestServer, call } from '/work/wt-sqlite/dist/test/support/server.js';
const ts = await startTestServer({ store: process.argv[2] ?? 'sqlite' });
const exp = (await call(ts.url, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'f' })).body.experiment_id;
for (let i = 0; i < 200; i++) {
  const run = (await call(ts.url, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: exp })).body.run.info.run_id;
  await call(ts.url, 'POST', '/api/2.0/mlflow/runs/log-batch', { run_id: run, metrics: Array.from({ length: 5 }, (_, k) => ({ key: `m${k}`, value: i + k, timestamp: 1, step: 0 })), params: [{ key: 'p0', value: String(i % 3) }], tags: [{ key: 't0', value: 'x' }] });
}
for (const n of [10, 100, 200, 500, 3000]) {
  const parts = Array.from({ length: n }, (_, k) => [`metrics.m${k % 5} >= 0`, `params.p0 != 'zz'`, `tags.t0 = 'x'`, `attributes.status = 'RUNNING'`][k % 4]);
  const filter = parts.join(' AND ');
  const t0 = performance.now();
  const r = await call(ts.url, 'POST', '/api/2.0/mlflow/runs/search', { experiment_ids: [exp], filter, max_results: 100 });
  console.log(JSON.stringify({ clauses: n, chars: filter.length, status: r.status, runs: r.body?.runs?.length, ms: Math.round(performance.now() - t0), msg: r.body?.message?.slice(0, 100) }));
}
await ts.stop();
