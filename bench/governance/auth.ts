// What authentication costs: tracking ingestion and the run lifecycle through the MLflow API on a server with
// `--auth on` (an API token, bearer; and basic auth with a password, which MLflow clients send on every request)
// against the same server build with `--auth none`, in one run, rounds alternated. Prints one JSON document.
//
//   npm run bench:auth
//   KILN_BENCH_BACKENDS=sqlite KILN_BENCH_ROUNDS=5 npm run bench:auth
// Targets (governance issue): ingestion with a token ≥ 95 % of auth off; run lifecycle ≤ 1.1×.
import { rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freshStore, tempDir } from '../../test/support/backends.js';
import { machine, median, round, startServer, timed } from '../support.js';

const BACKENDS = (process.env.KILN_BENCH_BACKENDS ?? 'sqlite,postgres').split(',') as ('sqlite' | 'postgres')[];
const ROUNDS = Number(process.env.KILN_BENCH_ROUNDS ?? 3);
const BATCHES = Number(process.env.KILN_BENCH_BATCHES ?? 60);
const CYCLES = Number(process.env.KILN_BENCH_CYCLES ?? 100);
const agent = new Agent({ keepAlive: true, maxSockets: 16 });

/** POST, sent again once when a kept-alive socket turns out to be closed by the server (its keep-alive timeout). */
async function post(url: string, body: string, headers: Record<string, string>): Promise<unknown> {
  try {
    return await postOnce(url, body, headers);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ECONNRESET') throw e;
    return postOnce(url, body, headers);
  }
}

function postOnce(url: string, body: string, headers: Record<string, string>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = httpRequest(
      { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          if (res.statusCode === 200 || res.statusCode === 201) resolve(text ? JSON.parse(text) : {});
          else reject(new Error(`${url}: ${res.statusCode} ${text.slice(0, 200)}`));
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

type Mode = { name: string; url: string; headers: Record<string, string> };

async function ingestion(m: Mode): Promise<number> {
  const api = `${m.url}/api/2.0/mlflow`;
  const runIds: string[] = [];
  for (let c = 0; c < 4; c++) runIds.push(((await post(`${api}/runs/create`, JSON.stringify({ experiment_id: '0' }), m.headers)) as { run: { info: { run_id: string } } }).run.info.run_id);
  const bodies = runIds.map((runId) =>
    Array.from({ length: BATCHES }, (_, b) => JSON.stringify({ run_id: runId, metrics: Array.from({ length: 1000 }, (_, i) => ({ key: `m${i % 10}`, value: Math.random(), timestamp: 1_700_000_000_000 + b, step: b * 100 + Math.floor(i / 10) })) })),
  );
  const [ms] = await timed(() => Promise.all(bodies.map(async (list) => { for (const body of list) await post(`${api}/runs/log-batch`, body, m.headers); })));
  return Math.round((4 * BATCHES * 1000) / (ms / 1000));
}

async function lifecycle(m: Mode): Promise<number> {
  const api = `${m.url}/api/2.0/mlflow`;
  const times: number[] = [];
  for (let i = 0; i < CYCLES + 5; i++) {
    const [ms] = await timed(async () => {
      const r = (await post(`${api}/runs/create`, JSON.stringify({ experiment_id: '0', start_time: Date.now() }), m.headers)) as { run: { info: { run_id: string } } };
      const id = r.run.info.run_id;
      await post(`${api}/runs/log-batch`, JSON.stringify({ run_id: id, params: Array.from({ length: 10 }, (_, k) => ({ key: `p${k}`, value: String(k) })) }), m.headers);
      await post(`${api}/runs/update`, JSON.stringify({ run_id: id, status: 'FINISHED', end_time: Date.now() }), m.headers);
    });
    if (i >= 5) times.push(ms);
  }
  return median(times);
}

async function benchBackend(kind: 'sqlite' | 'postgres') {
  const stores = [await freshStore(kind), await freshStore(kind)];
  const dir = tempDir('kiln-bench-auth-');
  const artifacts = pathToFileURL(join(dir, 'artifacts')).href;
  const off = await startServer(stores[0]!.uri, artifacts, ['--auth', 'none']);
  const on = await startServer(stores[1]!.uri, artifacts, ['--auth', 'on'], { KILN_ADMIN_USER: 'bench', KILN_ADMIN_PASSWORD: 'bench password' });
  try {
    const basic = { authorization: `Basic ${Buffer.from('bench:bench password').toString('base64')}` };
    // A user who is no admin: each request is checked against the projects (the default one, where every user edits).
    await post(`${on.url}/api/v1/users`, JSON.stringify({ name: 'ana', password: 'ana password 1' }), basic);
    const anaBasic = { authorization: `Basic ${Buffer.from('ana:ana password 1').toString('base64')}` };
    const made = (await post(`${on.url}/api/v1/tokens`, JSON.stringify({ name: 'bench' }), anaBasic)) as { token: string };
    const modes: Mode[] = [
      { name: 'off', url: off.url, headers: {} },
      { name: 'token', url: on.url, headers: { authorization: `Bearer ${made.token}` } },
      { name: 'basic', url: on.url, headers: anaBasic },
    ];
    const ingest: Record<string, number[]> = { off: [], token: [], basic: [] };
    const life: Record<string, number[]> = { off: [], token: [], basic: [] };
    // Warm-up: the first basic-auth request pays scrypt once (then it is cached), the JIT warms.
    for (const m of modes) await post(`${m.url}/api/2.0/mlflow/runs/create`, JSON.stringify({ experiment_id: '0' }), m.headers);
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? modes : [...modes].reverse();
      for (const m of order) ingest[m.name]!.push(await ingestion(m));
      for (const m of order) life[m.name]!.push(await lifecycle(m));
    }
    const med = (x: number[]) => median(x);
    return {
      backend: kind,
      ingestion_points_per_second: { off: med(ingest.off!), token: med(ingest.token!), basic: med(ingest.basic!), all_rounds: ingest },
      run_lifecycle_median_ms: { off: round(med(life.off!)), token: round(med(life.token!)), basic: round(med(life.basic!)), all_rounds: Object.fromEntries(Object.entries(life).map(([k, v]) => [k, v.map((x) => round(x))])) },
      ratios: {
        ingestion_token_vs_off: round(med(ingest.token!) / med(ingest.off!), 3),
        ingestion_basic_vs_off: round(med(ingest.basic!) / med(ingest.off!), 3),
        lifecycle_token_vs_off: round(med(life.token!) / med(life.off!), 3),
        lifecycle_basic_vs_off: round(med(life.basic!) / med(life.off!), 3),
      },
    };
  } finally {
    for (const s of [off, on]) {
      s.child.kill('SIGTERM');
      await new Promise((r) => s.child.once('exit', r));
    }
    for (const s of stores) await s.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: Record<string, unknown>[] = [];
for (const b of BACKENDS) results.push(await benchBackend(b));
console.log(JSON.stringify({ bench: 'auth', machine: machine(), rounds: ROUNDS, batches_per_client: BATCHES, lifecycle_cycles: CYCLES, targets: { ingestion_token_vs_off_min: 0.95, lifecycle_token_vs_off_max: 1.1 }, results }, null, 2));
