// Registration latency through MLflow's REST API: how long create_model_version takes for an ONNX model logged to
// a run, and which status it answers (READY when the inspection ends within the server's bound). The first
// registration starts the inspection worker (cold); the rest are warm. Prints one JSON document.
//
//   npm run build && node dist/bench/registry/register.js
//   KILN_BENCH_BACKENDS=sqlite KILN_BENCH_REGISTRATIONS=50 node dist/bench/registry/register.js
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freshStore, tempDir } from '../../test/support/backends.js';
import { linearModel } from '../../src/registry/packaging/test-models.js';
import { buildOnnxModelPackage } from '../../src/registry/packaging/write-package.js';
import { inspectOnnx } from '../../src/registry/packaging/onnx-inspect.js';
import { machine, median, p95, round, startServer, timed } from '../support.js';

const BACKENDS = (process.env.KILN_BENCH_BACKENDS ?? 'sqlite,postgres').split(',') as ('sqlite' | 'postgres')[];
const N = Number(process.env.KILN_BENCH_REGISTRATIONS ?? 30);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers of several shapes
async function post(url: string, body: unknown): Promise<any> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await r.text();
  if (r.status !== 200) throw new Error(`${url}: ${r.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

async function benchBackend(kind: 'sqlite' | 'postgres') {
  const store = await freshStore(kind);
  const dir = tempDir('kiln-bench-');
  const { child, url } = await startServer(store.uri, pathToFileURL(join(dir, 'artifacts')).href);
  const api = `${url}/api/2.0/mlflow`;
  try {
    const files = await buildOnnxModelPackage({ inspect: inspectOnnx, onnx: linearModel({ inputs: 4, outputs: 1 }), inputExample: [[1, 2, 3, 4]] });
    const run = (await post(`${api}/runs/create`, { experiment_id: '0' })).run.info;
    for (const f of files) {
      const r = await fetch(`${url}/api/2.0/mlflow-artifacts/artifacts/${run.artifact_uri.replace('mlflow-artifacts:/', '')}/model/${f.path}`, { method: 'PUT', body: f.bytes });
      if (r.status !== 200) throw new Error(`upload ${f.path}: ${r.status}`);
    }
    await post(`${api}/registered-models/create`, { name: 'bench' });
    const register = () => post(`${api}/model-versions/create`, { name: 'bench', source: `runs:/${run.run_id}/model`, run_id: run.run_id });
    const [coldMs, cold] = await timed(register);
    const warm: number[] = [];
    const statuses: Record<string, number> = {};
    for (let i = 0; i < N; i++) {
      const [ms, r] = await timed(register);
      warm.push(ms);
      statuses[r.model_version.status] = (statuses[r.model_version.status] ?? 0) + 1;
    }
    return {
      backend: kind,
      cold: { ms: round(coldMs), status: cold.model_version.status },
      warm: { n: N, median_ms: round(median(warm)), p95_ms: round(p95(warm)), statuses },
    };
  } finally {
    child.kill();
    await new Promise((r) => child.once('exit', r));
    await store.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const results = [];
for (const b of BACKENDS) results.push(await benchBackend(b));
process.stdout.write(JSON.stringify({ machine: machine(), create_model_version: results }, null, 2) + '\n');
