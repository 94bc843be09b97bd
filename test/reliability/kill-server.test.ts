import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { STORE_BACKENDS, freshStore, tempDir } from '../support/backends.js';
import { call } from '../support/server.js';

const BIN = join(process.cwd(), 'bin', 'kiln.js');

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

/** Starts `kiln server` as a separate process and resolves with its URL. */
function startProcess(store: string, artifacts: string): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'server', '--port', '0', '--store', store, '--artifacts', artifacts, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${err}`)), 90_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]! });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${err}`));
    });
  });
}

for (const backend of STORE_BACKENDS) {
  describe(`kill -9 during a log-batch stream on ${backend}`, () => {
    it('keeps every acknowledged batch whole and no batch half-stored', async () => {
      const store = await freshStore(backend);
      const dir = tempDir();
      const artifacts = pathToFileURL(join(dir, 'artifacts')).href;
      try {
        const first = await startProcess(store.uri, artifacts);
        const runId = (await call(first.url, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: '0' })).body.run.info.run_id as string;
        const acked = new Set<number>();
        const sent = new Set<number>();
        let stop = false;
        const PER = 250;
        const writer = async (lane: number) => {
          for (let b = lane; !stop; b += 4) {
            sent.add(b);
            const metrics = Array.from({ length: PER }, (_, i) => ({ key: 'loss', value: b + i / PER, timestamp: 1000 + b, step: b * PER + i }));
            try {
              const r = await call(first.url, 'POST', '/api/2.0/mlflow/runs/log-batch', { run_id: runId, metrics, tags: [{ key: `batch-${b}`, value: 'x' }] });
              if (r.status === 200) acked.add(b);
            } catch {
              return; // connection died with the server
            }
          }
        };
        const lanes = [0, 1, 2, 3].map(writer);
        await new Promise((r) => setTimeout(r, 1500));
        first.child.kill('SIGKILL');
        stop = true;
        await Promise.all(lanes);
        await exited(first.child);
        assert.ok(acked.size > 5, `the stream was running (${acked.size} batches acknowledged)`);

        const second = await startProcess(store.uri, artifacts);
        try {
          // Every page of the history (a page holds at most 25,000 points).
          const points: { step: number }[] = [];
          let token: string | undefined;
          do {
            const h = await call(second.url, 'GET', `/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=loss${token ? `&page_token=${encodeURIComponent(token)}` : ''}`);
            points.push(...(h.body.metrics as { step: number }[]));
            token = h.body.next_page_token;
          } while (token);
          const perBatch = new Map<number, number>();
          for (const m of points) {
            const b = Math.floor(m.step / PER);
            perBatch.set(b, (perBatch.get(b) ?? 0) + 1);
          }
          for (const b of acked) assert.equal(perBatch.get(b), PER, `acknowledged batch ${b} is stored whole`);
          for (const [b, n] of perBatch) assert.equal(n, PER, `batch ${b} is whole or absent`);
          const tags = (await call(second.url, 'GET', `/api/2.0/mlflow/runs/get?run_id=${runId}`)).body.run.data.tags.map((t: { key: string }) => t.key);
          for (const b of perBatch.keys()) assert.ok(tags.includes(`batch-${b}`), `the tag of stored batch ${b} is there too`);
        } finally {
          second.child.kill('SIGTERM');
          await exited(second.child);
        }
      } finally {
        await store.drop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
