import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freshStore, tempDir } from '../support/backends.js';
import { startKilnProcess } from '../support/kiln-process.js';
import { call } from '../support/server.js';

describe('two server processes on one SQLite file', () => {
  it('serve 16 concurrent writers with no 5xx, and keep every acknowledged write', async () => {
    const store = await freshStore('sqlite');
    const dir = tempDir();
    const artifacts = pathToFileURL(join(dir, 'artifacts')).href;
    // Started one after the other: the second migrates nothing, the first already did.
    const a = await startKilnProcess(store.uri, artifacts);
    const b = await startKilnProcess(store.uri, artifacts);
    try {
      const servers = [a.url, b.url];
      const failures: string[] = [];
      const acked: { runId: string; batches: number[]; tags: string[] }[] = [];
      const ROUNDS = 12;
      const PER = 50;
      const writer = async (w: number) => {
        const url = servers[w % 2]!;
        const r = await call(url, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: '0', run_name: `w${w}` });
        if (r.status !== 200) {
          failures.push(`create ${r.status} ${r.text}`);
          return;
        }
        const runId = r.body.run.info.run_id as string;
        const mine = { runId, batches: [] as number[], tags: [] as string[] };
        acked.push(mine);
        for (let i = 0; i < ROUNDS; i++) {
          // Every round goes to either process, so both write the same runs.
          const target = servers[(w + i) % 2]!;
          const metrics = Array.from({ length: PER }, (_, j) => ({ key: 'loss', value: j, timestamp: 1000 + i, step: i * PER + j }));
          const lb = await call(target, 'POST', '/api/2.0/mlflow/runs/log-batch', { run_id: runId, metrics, params: [{ key: `p${i}`, value: String(i) }] });
          if (lb.status === 200) mine.batches.push(i);
          else failures.push(`log-batch ${lb.status} ${lb.text}`);
          const st = await call(target, 'POST', '/api/2.0/mlflow/runs/set-tag', { run_id: runId, key: `t${i}`, value: String(w) });
          if (st.status === 200) mine.tags.push(`t${i}`);
          else failures.push(`set-tag ${st.status} ${st.text}`);
        }
      };
      await Promise.all(Array.from({ length: 16 }, (_, w) => writer(w)));
      assert.deepEqual(failures.slice(0, 5), [], `${failures.length} requests failed`);

      for (const url of servers) {
        for (const run of acked) {
          const got = (await call(url, 'GET', `/api/2.0/mlflow/runs/get?run_id=${run.runId}`)).body.run;
          const tags = new Set((got.data.tags as { key: string }[]).map((t) => t.key));
          for (const t of run.tags) assert.ok(tags.has(t), `tag ${t} of ${run.runId} is stored`);
          const params = new Set((got.data.params as { key: string }[]).map((p) => p.key));
          for (const i of run.batches) assert.ok(params.has(`p${i}`), `param p${i} of ${run.runId} is stored`);
          const h = await call(url, 'GET', `/api/2.0/mlflow/metrics/get-history?run_id=${run.runId}&metric_key=loss`);
          assert.equal(h.body.metrics.length, run.batches.length * PER, `every acknowledged point of ${run.runId} is stored`);
        }
      }
      assert.equal(acked.length, 16);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await store.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
