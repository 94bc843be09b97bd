import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sql } from 'kysely';
import { openStore } from '../../src/platform/db/index.js';
import { STORE_BACKENDS, freshStore, tempDir } from '../support/backends.js';
import { startKilnProcess } from '../support/kiln-process.js';
import { call } from '../support/server.js';

const POINTS = 1_000_000;

/** Writes POINTS points of metric 'loss' straight into the store (log-batch would take minutes on a loaded machine). */
async function seed(storeUri: string, runId: string): Promise<void> {
  const store = await openStore(storeUri);
  try {
    const row = await sql<{ run_pk: number }>`SELECT run_pk FROM runs WHERE run_id = ${runId}`.execute(store.db);
    const runPk = Number(row.rows[0]!.run_pk);
    if (store.adapter.engine === 'sqlite') {
      await sql`INSERT INTO metrics (run_pk, key, value, timestamp, step, is_nan)
        WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ${POINTS - 1})
        SELECT ${runPk}, 'loss', i * 0.001, 1000 + i, i, 0 FROM s`.execute(store.db);
    } else {
      await sql`INSERT INTO metrics (run_pk, key, value, timestamp, step, is_nan)
        SELECT ${runPk}, 'loss', i * 0.001, 1000 + i, i, 0 FROM generate_series(0, ${POINTS - 1}::int) AS i`.execute(store.db);
      // What autovacuum does within a minute of a bulk load: without statistics the planner sorts the whole history
      // for every page (0.2-1 s of PostgreSQL's CPU each) instead of reading the index in order.
      await sql`ANALYZE metrics`.execute(store.db);
    }
  } finally {
    await store.close();
  }
}

/**
 * Probes /health every 20 ms until stopped; resolves with every latency seen. The probe runs on a thread of its own:
 * this thread parses 1-2 MB pages meanwhile, and its pauses are not the server's.
 */
function probeHealth(url: string): { stop(): Promise<{ latencies: number[]; failures: string[] }> } {
  const worker = new Worker(
    `const { parentPort, workerData: url } = require('node:worker_threads');
    let running = true;
    const latencies = [];
    const failures = [];
    parentPort.once('message', () => { running = false; });
    (async () => {
      while (running) {
        const t0 = performance.now();
        try {
          const r = await fetch(url + '/health');
          const text = await r.text();
          if (r.status !== 200) failures.push(r.status + ' ' + text);
        } catch (e) {
          failures.push(String(e));
        }
        latencies.push(performance.now() - t0);
        await new Promise((res) => setTimeout(res, 20));
      }
      parentPort.postMessage({ latencies, failures });
    })();`,
    { eval: true, workerData: url },
  );
  let result: Promise<{ latencies: number[]; failures: string[] }> | undefined;
  return {
    stop() {
      result ??= new Promise<{ latencies: number[]; failures: string[] }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.postMessage('stop');
      }).finally(() => worker.terminate());
      return result;
    },
  };
}

for (const backend of STORE_BACKENDS) {
  describe(`a 1,000,000-point metric history on ${backend}`, () => {
    it('is answered in bounded pages that MLflow clients follow and eight readers at once, while /health keeps answering within 100 ms', async () => {
      const store = await freshStore(backend);
      const dir = tempDir();
      const server = await startKilnProcess(store.uri, pathToFileURL(join(dir, 'artifacts')).href);
      let probe: ReturnType<typeof probeHealth> | undefined;
      try {
        const runId = (await call(server.url, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: '0' })).body.run.info.run_id as string;
        await seed(store.uri, runId);

        probe = probeHealth(server.url);
        await new Promise((r) => setTimeout(r, 200));
        // MLflow's clients: no max_results, then follow next_page_token to the end.
        let token: string | undefined;
        let total = 0;
        let pages = 0;
        let lastStep = -1;
        const started = performance.now();
        do {
          const q = `/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=loss${token ? `&page_token=${encodeURIComponent(token)}` : ''}`;
          const r = await call(server.url, 'GET', q);
          assert.equal(r.status, 200, r.text.slice(0, 200));
          const metrics = r.body.metrics as { step: number }[];
          assert.ok(metrics.length <= 25_000, `a page holds at most 25,000 points (got ${metrics.length})`);
          assert.equal(metrics[0]!.step, lastStep + 1, 'pages follow each other without gaps');
          lastStep = metrics[metrics.length - 1]!.step;
          total += metrics.length;
          pages++;
          token = r.body.next_page_token;
        } while (token);
        const mlflowMs = performance.now() - started;
        // The native API pages the same way; eight readers at once each get a bounded page.
        const native = await Promise.all(Array.from({ length: 8 }, () => call(server.url, 'GET', `/api/v1/runs/${runId}/metric-history?key=loss`)));
        const { latencies, failures } = await probe.stop();
        latencies.sort((a, b) => a - b);
        assert.deepEqual(failures, []);

        assert.equal(total, POINTS, 'every point was read once');
        for (const r of native) {
          assert.equal(r.status, 200);
          assert.equal(r.body.steps.length, 25_000);
          assert.ok(r.body.next_page_token);
        }
        const max = latencies[latencies.length - 1]!;
        const p50 = latencies[Math.floor(latencies.length / 2)]!;
        const p90 = latencies[Math.floor(latencies.length * 0.9)]!;
        process.stderr.write(`# ${backend}: ${pages} pages in ${Math.round(mlflowMs)} ms; /health over ${latencies.length} probes: p50 ${p50.toFixed(1)} ms, p90 ${p90.toFixed(1)} ms, max ${max.toFixed(1)} ms\n`);
        // Nothing holds the server's event loop for long: SQLite reads run on a worker thread, PostgreSQL rows are
        // fetched 1,000 at a time, and pages are written in 5 ms slices, one per turn of the loop. On a 2-core machine
        // busy with other work (load 3-5) this measured p90 12-33 ms, max 50-126 ms; there an idle server's /health
        // alone reached a max of 75-145 ms (the scheduler, not the server). So max < 100 ms is not asserted: the p90
        // is, and that no probe waited a second.
        assert.ok(p90 < 100, `/health answered within 100 ms while the history was read (p90 ${p90.toFixed(1)} ms, max ${max.toFixed(1)} ms)`);
        assert.ok(max < 1000, `/health never waited a second (max ${max.toFixed(1)} ms)`);
      } finally {
        await probe?.stop().catch(() => undefined);
        await server.stop();
        await store.drop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
