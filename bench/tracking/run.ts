// Tracking benchmark: ingestion, search over 100,000 runs, metric history, run lifecycle, server RSS,
// on SQLite and PostgreSQL side by side. Prints one JSON document.
//
//   npm run bench:tracking                  # both backends
//   KILN_BENCH_BACKENDS=sqlite npm run bench:tracking
//   KILN_BENCH_RUNS=20000 npm run bench:tracking   # a smaller search corpus
//   KILN_BENCH_PARTS=ingestion,lifecycle npm run bench:tracking   # only some measures (ingestion, search, history, lifecycle)
import { rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freshStore, tempDir } from '../../test/support/backends.js';
import { openStore, migrateToLatest } from '../../src/platform/db/index.js';
import { MIGRATIONS } from '../../src/migrations.js';
import { seedSearchCorpus } from './seed.js';
import { machine, median, p95, round, rssMb, startServer, timed } from '../support.js';

const BACKENDS = (process.env.KILN_BENCH_BACKENDS ?? 'sqlite,postgres').split(',') as ('sqlite' | 'postgres')[];
const SEARCH_RUNS = Number(process.env.KILN_BENCH_RUNS ?? 100_000);
const PARTS = new Set((process.env.KILN_BENCH_PARTS ?? 'ingestion,search,history,lifecycle').split(',').map((p) => p.trim()));

const agent = new Agent({ keepAlive: true, maxSockets: 16 });

/** POST through node:http with keep-alive: the lightest client, so the machine's two cores go to the server. */
function postFast(url: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = httpRequest(
      { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${url}: ${res.statusCode} ${Buffer.concat(chunks).toString().slice(0, 200)}`))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function post(url: string, body: string): Promise<unknown> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const text = await r.text();
  if (r.status !== 200) throw new Error(`${url}: ${r.status} ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : {};
}

async function benchBackend(kind: 'sqlite' | 'postgres') {
  const store = await freshStore(kind);
  const dir = tempDir('kiln-bench-');
  const artifacts = pathToFileURL(join(dir, 'artifacts')).href;
  const out: Record<string, unknown> = { backend: kind };
  try {
    // Seed the search corpus straight into the store (100,000 runs through HTTP would take minutes).
    const meta = await openStore(store.uri);
    await migrateToLatest(meta, MIGRATIONS);
    const [seedMs, corpus] = PARTS.has('search') ? await timed(() => seedSearchCorpus(meta, SEARCH_RUNS)) : [0, undefined];
    await meta.close();
    if (corpus) out.seed = { runs: SEARCH_RUNS, seconds: round(seedMs / 1000) };

    const { child, url } = await startServer(store.uri, artifacts);
    let maxRss = rssMb(child.pid!);
    const sampler = setInterval(() => (maxRss = Math.max(maxRss, rssMb(child.pid!))), 100);
    const api = `${url}/api/2.0/mlflow`;
    try {
      // ---- ingestion: 4 concurrent clients, log-batch of 1000 metrics
      if (PARTS.has('ingestion')) {
        const runIds: string[] = [];
        for (let c = 0; c < 4; c++) runIds.push(((await post(`${api}/runs/create`, JSON.stringify({ experiment_id: '0' }))) as { run: { info: { run_id: string } } }).run.info.run_id);
        const BATCHES_PER_CLIENT = Number(process.env.KILN_BENCH_BATCHES ?? 150);
        const bodies = runIds.map((runId) =>
          Array.from({ length: BATCHES_PER_CLIENT }, (_, b) =>
            JSON.stringify({ run_id: runId, metrics: Array.from({ length: 1000 }, (_, i) => ({ key: `m${i % 10}`, value: Math.random(), timestamp: 1_700_000_000_000 + b, step: b * 100 + Math.floor(i / 10) })) }),
          ),
        );
        // warm-up
        await post(`${api}/runs/log-batch`, JSON.stringify({ run_id: runIds[0], metrics: [{ key: 'warm', value: 1, timestamp: 1, step: 0 }] }));
        const [ingestMs] = await timed(() => Promise.all(bodies.map(async (list) => {
          for (const body of list) await postFast(`${api}/runs/log-batch`, body);
        })));
        const points = 4 * BATCHES_PER_CLIENT * 1000;
        out.ingestion = { clients: 4, batch: 1000, points, seconds: round(ingestMs / 1000, 3), points_per_second: Math.round(points / (ingestMs / 1000)) };
      }

      // ---- search over the corpus
      if (corpus) {
        const searchBody = JSON.stringify({ experiment_ids: [corpus.experimentId], filter: "metrics.m0 > 0.5 and params.lr = '0.01'", order_by: ['metrics.m1 DESC'], max_results: 100 });
        const searchTimes: number[] = [];
        let returned = 0;
        for (let i = 0; i < 25; i++) {
          const [ms, res] = await timed(() => post(`${api}/runs/search`, searchBody));
          if (i >= 3) searchTimes.push(ms);
          returned = ((res as { runs?: unknown[] }).runs ?? []).length;
      }
      out.search = { runs: SEARCH_RUNS, filter: "metrics.m0 > 0.5 and params.lr = '0.01'", order_by: 'metrics.m1 DESC', max_results: 100, returned, median_ms: round(median(searchTimes)), p95_ms: round(p95(searchTimes)) };
      }

      // ---- metric history: 10,000 points, and 1,000,000 points downsampled to 1,000
      if (PARTS.has('history')) {
        const histRun = ((await post(`${api}/runs/create`, JSON.stringify({ experiment_id: '0' }))) as { run: { info: { run_id: string } } }).run.info.run_id;
        for (let b = 0; b < 10; b++) {
          await post(`${api}/runs/log-batch`, JSON.stringify({ run_id: histRun, metrics: Array.from({ length: 1000 }, (_, i) => ({ key: 'loss', value: Math.random(), timestamp: 1, step: b * 1000 + i })) }));
      }
      const histTimes: number[] = [];
      for (let i = 0; i < 25; i++) {
        const [ms, res] = await timed(async () => (await fetch(`${api}/metrics/get-history?run_id=${histRun}&metric_key=loss`)).json());
        if ((res as { metrics: unknown[] }).metrics.length !== 10_000) throw new Error('history length');
        if (i >= 3) histTimes.push(ms);
      }
      const nativeTimes: number[] = [];
      for (let i = 0; i < 25; i++) {
        const [ms, res] = await timed(async () => (await fetch(`${url}/api/v1/runs/${histRun}/metric-history?key=loss`)).json());
        if ((res as { steps: unknown[] }).steps.length !== 10_000) throw new Error('native history length');
        if (i >= 3) nativeTimes.push(ms);
      }
      const bigRun = ((await post(`${api}/runs/create`, JSON.stringify({ experiment_id: '0' }))) as { run: { info: { run_id: string } } }).run.info.run_id;
      const BIG = Number(process.env.KILN_BENCH_BIG_HISTORY ?? 1_000_000);
      const [bigLoadMs] = await timed(async () => {
        const lanes = 4;
        await Promise.all(Array.from({ length: lanes }, async (_, lane) => {
          for (let b = lane; b < BIG / 1000; b += lanes) {
            await post(`${api}/runs/log-batch`, JSON.stringify({ run_id: bigRun, metrics: Array.from({ length: 1000 }, (_, i) => ({ key: 'loss', value: Math.sin((b * 1000 + i) / 5000) + (b * 1000 + i === 654_321 ? 10 : 0), timestamp: 1, step: b * 1000 + i })) }));
          }
        }));
      });
      const dsTimes: number[] = [];
      let dsPoints = 0;
      for (let i = 0; i < 15; i++) {
        const [ms, res] = await timed(async () => (await fetch(`${url}/api/v1/runs/${bigRun}/metric-history?key=loss&max_points=1000`)).json());
        dsPoints = (res as { steps: number[] }).steps.length;
        if (i >= 2) dsTimes.push(ms);
      }
      out.history = {
        points_10k_median_ms: round(median(histTimes)),
        points_10k_native_median_ms: round(median(nativeTimes)),
        points_1m_load_seconds: round(bigLoadMs / 1000),
        points_1m_downsampled_to: dsPoints,
        points_1m_downsampled_median_ms: round(median(dsTimes)),
      };
      }

      // ---- create run + 10 params + end run
      if (PARTS.has('lifecycle')) {
        const lifeTimes: number[] = [];
        for (let i = 0; i < 200; i++) {
          const [ms] = await timed(async () => {
            const r = (await post(`${api}/runs/create`, JSON.stringify({ experiment_id: '0', start_time: Date.now() }))) as { run: { info: { run_id: string } } };
            const id = r.run.info.run_id;
            await post(`${api}/runs/log-batch`, JSON.stringify({ run_id: id, params: Array.from({ length: 10 }, (_, k) => ({ key: `p${k}`, value: String(k) })) }));
            await post(`${api}/runs/update`, JSON.stringify({ run_id: id, status: 'FINISHED', end_time: Date.now() }));
          });
          if (i >= 10) lifeTimes.push(ms);
      }
      out.run_lifecycle = { median_ms: round(median(lifeTimes)), p95_ms: round(p95(lifeTimes)) };
      }
    } finally {
      clearInterval(sampler);
      out.server_max_rss_mb = round(maxRss, 1);
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  } finally {
    await store.drop();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

const results: Record<string, unknown>[] = [];
for (const b of BACKENDS) results.push(await benchBackend(b));

const mlflowReference = { log_batch_points_per_second: 10_300, search_200_runs_ms: 18, history_10k_ms: 435, run_lifecycle_ms: 25 };
const targets = { ingestion_points_per_second: 250_000, search_median_ms: 30, history_10k_ms: 15, history_1m_downsampled_ms: 50, run_lifecycle_median_ms: 3, server_rss_mb: 300 };
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? null : round(a / b, 1));
type R = { ingestion?: { points_per_second: number }; history?: { points_10k_median_ms: number }; run_lifecycle?: { median_ms: number } };
process.stdout.write(
  JSON.stringify(
    {
      bench: 'tracking',
      machine: machine(),
      targets,
      mlflow_2_17_reference: mlflowReference,
      results,
      ratios_vs_mlflow: results.map((r) => ({
        backend: r.backend,
        ingestion_x: ratio((r as unknown as R).ingestion?.points_per_second, mlflowReference.log_batch_points_per_second),
        history_10k_x: ratio(mlflowReference.history_10k_ms, (r as unknown as R).history?.points_10k_median_ms),
        run_lifecycle_x: ratio(mlflowReference.run_lifecycle_ms, (r as unknown as R).run_lifecycle?.median_ms),
      })),
    },
    null,
    2,
  ) + '\n',
);
