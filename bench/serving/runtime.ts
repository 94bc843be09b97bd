// Serving runtime microbenchmark: onnxruntime-node's session.run in the main thread against the same model through
// ModelSession (a worker thread round trip), for a tiny model (logistic regression, 10 features, 1 row); then an MLP
// 256→1024→1024→1024→10 at batch 1, 8, 32 and 64, raw and through the worker, and the dynamic Batcher in front of it
// under concurrent single-row requests. Each figure is the median of 5 rounds. Prints one JSON document.
//
//   npm run build:server && node dist/bench/serving/runtime.js
//   KILN_BENCH_ROUND_MS=1000 KILN_BENCH_THREADS=2 node dist/bench/serving/runtime.js
import * as ort from 'onnxruntime-node';
import { Batcher } from '../../src/serving/runtime/batcher.js';
import { ModelSession } from '../../src/serving/runtime/session.js';
import { logisticModel, mlpModel } from '../../src/serving/runtime/test-models.js';
import { machine, median, round } from '../support.js';

const ROUNDS = 5;
const ROUND_MS = Number(process.env.KILN_BENCH_ROUND_MS ?? 400);
/** onnxruntime's intra-op threads, for the raw session and the worker alike. */
const THREADS = Number(process.env.KILN_BENCH_THREADS ?? 1);
const MLP = [256, 1024, 1024, 1024, 10];
const BATCHES = [1, 8, 32, 64];

/** Calls of `call` in ROUND_MS, `ROUNDS` times after a warm-up round: median calls/s. */
async function rate(call: () => Promise<unknown>): Promise<number> {
  const rates: number[] = [];
  for (let r = 0; r <= ROUNDS; r++) {
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < ROUND_MS) {
      await call();
      n++;
      if ((n & 7) === 0 || n < 8) t = performance.now();
    }
    if (r > 0) rates.push(n / ((performance.now() - t0) / 1000)); // round 0 warms up
  }
  return median(rates);
}

const perCall = (callsPerSecond: number) => ({ calls_per_s: Math.round(callsPerSecond), us_per_call: round(1e6 / callsPerSecond, 1) });

const input = (rows: number, width: number) => {
  const x = new Float32Array(rows * width);
  for (let i = 0; i < x.length; i++) x[i] = ((i * 37) % 101) / 101 - 0.5;
  return x;
};

async function tiny() {
  const bytes = logisticModel(10);
  const raw = await ort.InferenceSession.create(bytes, { intraOpNumThreads: THREADS, logSeverityLevel: 3 });
  const feed = { x: new ort.Tensor('float32', input(1, 10), [1, 10]) };
  const rawRate = await rate(() => raw.run(feed));
  await raw.release();
  const s = await ModelSession.open(bytes, { intraOpThreads: THREADS });
  // A fresh array per call: its buffer is transferred to the worker.
  const workerRate = await rate(() => s.run([{ name: 'x', type: 'float32', dims: [1, 10], data: input(1, 10) }]));
  // 16 calls in flight at once, to see the throughput the worker sustains when the main thread keeps it busy.
  const pipelined = await rate(() => Promise.all(Array.from({ length: 16 }, () => s.run([{ name: 'x', type: 'float32', dims: [1, 10], data: input(1, 10) }]))));
  await s.close();
  const rawUs = 1e6 / rawRate;
  const workerUs = 1e6 / workerRate;
  return {
    model: 'logistic regression, 10 features, 1 row',
    raw_main_thread: perCall(rawRate),
    model_session_worker: perCall(workerRate),
    worker_round_trip_overhead_us: round(workerUs - rawUs, 1),
    model_session_16_in_flight_calls_per_s: Math.round(pipelined * 16),
  };
}

async function mlp() {
  const bytes = mlpModel(MLP);
  const raw = await ort.InferenceSession.create(bytes, { intraOpNumThreads: THREADS, logSeverityLevel: 3 });
  const s = await ModelSession.open(bytes, { intraOpThreads: THREADS });
  const out: Record<string, unknown>[] = [];
  for (const b of BATCHES) {
    const feed = { x: new ort.Tensor('float32', input(b, MLP[0] as number), [b, MLP[0] as number]) };
    const rawRate = await rate(() => raw.run(feed));
    const workerRate = await rate(() => s.run([{ name: 'x', type: 'float32', dims: [b, MLP[0] as number], data: input(b, MLP[0] as number) }]));
    out.push({
      batch: b,
      raw_rows_per_s: Math.round(rawRate * b),
      raw_ms_per_batch: round(1000 / rawRate, 3),
      model_session_rows_per_s: Math.round(workerRate * b),
      model_session_ms_per_batch: round(1000 / workerRate, 3),
    });
  }
  // 64 concurrent single-row callers through the Batcher (maxBatchSize 64, no queue delay) on one worker.
  const batchSizes: number[] = [];
  const batcher = new Batcher((i, o) => s.run(i, o), { maxBatchSize: 64, maxQueueDelayMs: 0, maxQueueSize: 10_000, timeoutMs: 60_000, batchable: true, onBatch: (rows) => batchSizes.push(rows) });
  const callers = 64;
  const batchedRate = await rate(() => Promise.all(Array.from({ length: callers }, () => batcher.submit([{ name: 'x', type: 'float32', dims: [1, MLP[0] as number], data: input(1, MLP[0] as number) }]))));
  await batcher.close();
  await raw.release();
  await s.close();
  return {
    model: `MLP ${MLP.join('→')} float32 (${(bytes.byteLength / 2 ** 20).toFixed(1)} MB)`,
    batches: out,
    batcher_64_concurrent_single_row_callers: { rows_per_s: Math.round(batchedRate * callers), median_batch_rows: median(batchSizes) },
  };
}

const result = { machine: machine(), onnxruntime_node: ort.env.versions.node, intra_op_threads: THREADS, round_ms: ROUND_MS, rounds: ROUNDS, tiny: await tiny(), mlp: await mlp() };
console.log(JSON.stringify(result, null, 2));
