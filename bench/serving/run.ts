// Serving benchmark: `kiln server` in a child process serving two models it is given here (a logistic regression
// with 10 features, and an MLP 256→1024→1024→1024→10), loaded by autocannon (REST) and a closed-loop gRPC client
// from this process, on loopback. Every figure comes from one run; ratios compare figures of that run. Prints one
// JSON document.
//
//   npm run bench:serving
//   KILN_BENCH_SECONDS=10 npm run bench:serving
//
// Targets (serving issue): tiny model, OIP REST, concurrency 64 ≥ 8,000 requests/s; added latency at concurrency 1
// ≤ 1 ms p50 over the raw session call; MLP, 1-row requests at concurrency 64: batching ≥ 2× no batching and ≥ 70 %
// of raw onnxruntime's rows/s at the batch size the batcher formed; payload logging at 100 % ≤ 10 % throughput cost;
// a hot swap under load: 0 errors.
import autocannon from 'autocannon';
import { createServer as createNetServer } from 'node:net';
import { Agent, request as httpRequest } from 'node:http';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-node';
import { tempDir } from '../../test/support/backends.js';
import { call } from '../../test/support/server.js';
import { registerOnnx } from '../../test/support/models.js';
import { oipGrpcClient } from '../../test/support/grpc.js';
import { logisticModel, mlpModel } from '../../src/serving/runtime/test-models.js';
import { machine, median, round, startServer } from '../support.js';

const SECONDS = Number(process.env.KILN_BENCH_SECONDS ?? 5);
const CONCURRENCY = [1, 8, 64];
const MLP = [256, 1024, 1024, 1024, 10];

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createNetServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

const body = (features: number) => JSON.stringify({ inputs: [{ name: 'x', shape: [1, features], datatype: 'FP32', data: Array.from({ length: features }, (_, i) => (i % 7) / 7) }] });

interface LoadResult {
  requests_per_s: number;
  rows_per_s: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
  mean_batch_rows?: number;
}

/** Mean rows per batch of a deployment since the last call (from /metrics). */
async function batchMeter(url: string, deployment: string): Promise<() => Promise<number>> {
  const read = async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const sum = [...text.matchAll(new RegExp(`kiln_serving_batch_size_sum\\{deployment="${deployment}",version="\\d+"\\} ([0-9.e+]+)`, 'g'))].reduce((a, m) => a + Number(m[1]), 0);
    const count = [...text.matchAll(new RegExp(`kiln_serving_batch_size_count\\{deployment="${deployment}",version="\\d+"\\} ([0-9.e+]+)`, 'g'))].reduce((a, m) => a + Number(m[1]), 0);
    return { sum, count };
  };
  let last = await read();
  return async () => {
    const now = await read();
    const mean = now.count > last.count ? (now.sum - last.sum) / (now.count - last.count) : NaN;
    last = now;
    return round(mean, 1);
  };
}

async function rest(url: string, deployment: string, features: number, connections: number, seconds = SECONDS): Promise<LoadResult> {
  const meter = await batchMeter(url, deployment);
  const r = await autocannon({ url: `${url}/v2/models/${deployment}/infer`, method: 'POST', headers: { 'content-type': 'application/json' }, body: body(features), connections, duration: seconds, pipelining: 1 });
  return {
    requests_per_s: round(r.requests.average, 0),
    rows_per_s: round(r.requests.average, 0),
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    errors: r.errors + r.non2xx + r.timeouts,
    mean_batch_rows: await meter(),
  };
}

async function grpcLoad(url: string, port: number, deployment: string, features: number, concurrency: number, seconds = SECONDS): Promise<LoadResult> {
  const client = oipGrpcClient(port);
  const meter = await batchMeter(url, deployment);
  const raw = Buffer.from(Float32Array.from({ length: features }, (_, i) => (i % 7) / 7).buffer);
  const req = { model_name: deployment, inputs: [{ name: 'x', datatype: 'FP32', shape: [1, features] }], raw_input_contents: [raw] };
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          await client.call('ModelInfer', req);
          latencies.push(performance.now() - t0);
        } catch {
          errors++;
        }
      }
    }),
  );
  client.close();
  latencies.sort((a, b) => a - b);
  const rps = latencies.length / seconds;
  return { requests_per_s: round(rps, 0), rows_per_s: round(rps, 0), p50_ms: round(latencies[Math.floor(latencies.length / 2)] ?? NaN, 3), p99_ms: round(latencies[Math.floor(latencies.length * 0.99)] ?? NaN, 3), errors, mean_batch_rows: await meter() };
}

/** Sequential requests on one kept-alive connection: the median time of one (ms), measured here (finer than autocannon's). */
async function sequentialP50(url: string, deployment: string, features: number, n = 3000): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const payload = body(features);
  const u = new URL(`${url}/v2/models/${deployment}/infer`);
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(payload);
    });
  for (let i = 0; i < 200; i++) await one();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await one();
    times.push(performance.now() - t0);
  }
  agent.destroy();
  return median(times);
}

/** Raw onnxruntime in this process: the median time of one call (ms) at `rows`, and rows/s. */
async function raw(model: Uint8Array, features: number, rows: number, n: number): Promise<{ call_ms: number; rows_per_s: number }> {
  const s = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, executionProviders: ['cpu'] });
  const x = new ort.Tensor('float32', Float32Array.from({ length: rows * features }, (_, i) => (i % 7) / 7), [rows, features]);
  for (let i = 0; i < 50; i++) await s.run({ x });
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await s.run({ x });
    times.push(performance.now() - t0);
  }
  await s.release();
  const ms = median(times);
  return { call_ms: round(ms, 4), rows_per_s: round((rows * 1000) / ms, 0) };
}

async function main(): Promise<void> {
  const dir = tempDir('kiln-bench-serving-');
  const grpcPort = await freePort();
  const server = await startServer(pathToFileURL(join(dir, 'kiln.db')).href.replace('file:', 'sqlite:'), pathToFileURL(join(dir, 'artifacts')).href, ['--grpc-port', String(grpcPort)], { KILN_HOME: dir });
  const url = server.url;
  try {
    const tiny = logisticModel(10);
    const mlp = mlpModel(MLP);
    await registerOnnx(url, 'tiny', tiny, { aliases: ['production'] });
    await registerOnnx(url, 'tiny', logisticModel(10));
    await registerOnnx(url, 'mlp', mlp);
    const deploy = async (name: string, config: Record<string, unknown>) => {
      const r = await call(url, 'POST', '/api/v1/deployments', { name, ...config });
      if (r.status !== 200) throw new Error(`${name}: ${r.text}`);
      await rest(url, name, name.startsWith('mlp') ? MLP[0]! : 10, 4, 1); // load and warm
    };
    // The protocol and batching matrix runs without the payload log (its cost is measured on its own below).
    const quiet = { payload_log: { sample_rate: 0 } };
    await deploy('tiny', { model: 'models:/tiny/1', ...quiet });
    await deploy('tiny-nobatch', { model: 'models:/tiny/1', batching: { enabled: false }, ...quiet });
    await deploy('tiny-logged', { model: 'models:/tiny/1', payload_log: { sample_rate: 1 } });
    await deploy('mlp', { model: 'models:/mlp/1', batching: { max_batch_size: 64 }, ...quiet });
    await deploy('mlp-nobatch', { model: 'models:/mlp/1', batching: { enabled: false }, ...quiet });
    await deploy('swap', { model: 'models:/tiny@production' });

    const matrix: Record<string, LoadResult> = {};
    for (const [name, features] of [
      ['tiny', 10],
      ['tiny-nobatch', 10],
      ['mlp', MLP[0]!],
      ['mlp-nobatch', MLP[0]!],
    ] as const) {
      for (const c of CONCURRENCY) {
        matrix[`rest ${name} c${c}`] = await rest(url, name, features, c);
        matrix[`grpc ${name} c${c}`] = await grpcLoad(url, grpcPort, name, features, c);
      }
    }
    // Payload logging: the same deployment settings with 100 % and 0 % sampling, alternated, medians of 3.
    const logged: number[] = [];
    const unlogged: number[] = [];
    for (let i = 0; i < 3; i++) {
      logged.push((await rest(url, 'tiny-logged', 10, 64)).requests_per_s);
      unlogged.push((await rest(url, 'tiny', 10, 64)).requests_per_s);
    }
    // Added latency at concurrency 1: sequential requests against raw session calls in this process.
    const restP50 = await sequentialP50(url, 'tiny', 10);
    const rawTiny = await raw(tiny, 10, 1, 3000);
    // The MLP's raw rows/s at the batch size the batcher formed at concurrency 64.
    const formed = Math.max(1, Math.round(matrix['rest mlp c64']!.mean_batch_rows ?? 1));
    const rawMlp = await raw(mlp, MLP[0]!, formed, 200);
    const rawMlp1 = await raw(mlp, MLP[0]!, 1, 500);
    // A hot swap under load: the alias moves while autocannon runs.
    const swapLoad = rest(url, 'swap', 10, 64, Math.max(4, SECONDS));
    await new Promise((r) => setTimeout(r, 1500));
    const moved = await call(url, 'POST', '/api/2.0/mlflow/registered-models/alias', { name: 'tiny', alias: 'production', version: '2' });
    const swap = await swapLoad;
    const swapped = (await call(url, 'GET', '/api/v1/deployments/swap')).body.deployment.resolved.targets[0].version;

    const mlpOn = matrix['rest mlp c64']!.rows_per_s;
    const mlpOff = matrix['rest mlp-nobatch c64']!.rows_per_s;
    const out = {
      benchmark: 'serving',
      machine: machine(),
      seconds_per_run: SECONDS,
      matrix,
      tiny: {
        rest_c64_requests_per_s: matrix['rest tiny c64']!.requests_per_s,
        target_requests_per_s: 8000,
        raw_session_call_ms: rawTiny.call_ms,
        rest_c1_p50_ms: round(restP50, 3),
        added_latency_c1_p50_ms: round(restP50 - rawTiny.call_ms, 3),
        target_added_ms: 1,
      },
      mlp: {
        batching_rows_per_s: mlpOn,
        no_batching_rows_per_s: mlpOff,
        batching_over_no_batching: round(mlpOn / mlpOff, 2),
        target_ratio: 2,
        formed_batch_rows: matrix['rest mlp c64']!.mean_batch_rows,
        raw_rows_per_s_at_formed_batch: rawMlp.rows_per_s,
        raw_rows_per_s_at_batch_1: rawMlp1.rows_per_s,
        batching_over_raw_at_formed_batch: round(mlpOn / rawMlp.rows_per_s, 2),
        target_of_raw: 0.7,
      },
      payload_log: {
        logged_requests_per_s: median(logged),
        unlogged_requests_per_s: median(unlogged),
        logged_over_unlogged: round(median(logged) / median(unlogged), 3),
        target_at_least: 0.9,
      },
      hot_swap: { alias_moved: moved.status === 200, now_serving_version: swapped, requests_per_s: swap.requests_per_s, errors: swap.errors, target_errors: 0 },
    };
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  } finally {
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
