// Monitoring benchmark. Four measures, run one after the other (never two at once: the machine is small and shared),
// each comparing figures of this one run. Prints one JSON document: the machine, the figures, ratios, targets and
// pass/fail.
//
//   npm run bench:monitoring
//   KILN_BENCH_QUICK=1 npm run bench:monitoring          (small sizes, about a minute)
//
// 1. report: drift reports over 50 numeric features (10 bins) for windows of 10,000, 1,000,000 and 10,000,000 rows,
//    counted in this process straight into the windows (WindowAccumulator → MonitorService.write) of an in-process
//    server on SQLite. Timed: GET /api/v1/monitors/NAME/report (HTTP, body read), MonitorService.report (no HTTP),
//    and the pure computation datasetDrift; medians, sizes interleaved. Also: the same 10M-row window written in
//    1…1000 parts (a window holds one part per upload and per serving replica). Targets: ≤ 20 ms, 10M/10k ≤ 1.5.
// 2. serving: `kiln server` child process, the serving benchmark's MLP (256→1024→1024→1024→10) deployed twice with
//    the same settings (batching up to 64 rows, payload_log sample_rate 0); one deployment has a monitor on its 256
//    inputs. autocannon at concurrency 64, rounds alternating on/off; medians. Target: on/off ≥ 0.95.
// 3. ingestion: a 20-feature numeric CSV (no time column: rows go to the arrival window) of 1M and 5M rows posted as
//    text/csv to POST /api/v1/monitors/NAME/records (SDK logFile, streamed) of a fresh `kiln server` child process per
//    size; rows/s and the server's peak RSS (VmHWM of /proc/PID/status, and VmRSS sampled every 20 ms). Where the
//    time goes: the same file through the pieces in this process. Targets: ≥ 500,000 rows/s, peak RSS flat in size.
// 4. python: the same figures computed on raw rows with NumPy/pandas/SciPy (bench/monitoring/drift.py), against the
//    report's time from counts (measure 1) and this process's time to count the rows.
//
// Knobs (comma-separated lists): KILN_BENCH_MEASURES=report,serving,ingest,python; KILN_BENCH_REPORT_SIZES,
// KILN_BENCH_REPORT_PARTS (parts per window, default 10), KILN_BENCH_PARTS_SENSITIVITY (default 1,100,1000),
// KILN_BENCH_REPORT_CALLS (default 25); KILN_BENCH_SECONDS (per load run, default 5), KILN_BENCH_ROUNDS (default 4);
// KILN_BENCH_INGEST_SIZES (default 1000000,5000000); KILN_BENCH_PY_SIZES (default 10000,1000000,10000000),
// KILN_BENCH_PY_LARGE_FEATURES (features timed at ≥ 5M rows, the rest extrapolated; default 10, 50 = all).
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { KilnClient } from '@kiln-mlops/sdk';
import { tempDir } from '../../test/support/backends.js';
import { registerOnnx } from '../../test/support/models.js';
import { call, startTestServer, type TestServer } from '../../test/support/server.js';
import { mlpModel } from '../../src/serving/runtime/test-models.js';
import { readSource, type RowSink } from '../../src/data/profile/index.js';
import { IngestSink, WindowAccumulator } from '../../src/monitoring/ingest.js';
import { mergeInto, type WindowCounts } from '../../src/monitoring/counts.js';
import type { Monitor } from '../../src/monitoring/monitors.js';
import { datasetDrift } from '../../src/monitoring/report.js';
import { machine, median, round, rssMb, startServer } from '../support.js';
import { fillColumn, normalPool, writeFloatCsv } from './data.js';

const QUICK = process.env.KILN_BENCH_QUICK === '1';
const list = (v: string | undefined, d: string) => (v ?? d).split(',').map((s) => s.trim()).filter(Boolean);
const nums = (v: string | undefined, d: string) => list(v, d).map(Number);
const MEASURES = new Set(list(process.env.KILN_BENCH_MEASURES, 'report,serving,ingest,python'));
const REPORT_SIZES = nums(process.env.KILN_BENCH_REPORT_SIZES, QUICK ? '10000,1000000' : '10000,1000000,10000000');
const REPORT_PARTS = Number(process.env.KILN_BENCH_REPORT_PARTS ?? 10);
const PARTS_SENSITIVITY = nums(process.env.KILN_BENCH_PARTS_SENSITIVITY, QUICK ? '1,100' : '1,100,1000');
const REPORT_CALLS = Number(process.env.KILN_BENCH_REPORT_CALLS ?? 25);
const SECONDS = Number(process.env.KILN_BENCH_SECONDS ?? (QUICK ? 2 : 5));
const ROUNDS = Number(process.env.KILN_BENCH_ROUNDS ?? (QUICK ? 2 : 4));
const BASELINE_ROUNDS = Number(process.env.KILN_BENCH_BASELINE_ROUNDS ?? 2);
const INGEST_SIZES = nums(process.env.KILN_BENCH_INGEST_SIZES, QUICK ? '100000,500000' : '1000000,5000000');
const PY_SIZES = nums(process.env.KILN_BENCH_PY_SIZES, QUICK ? '10000,1000000' : '10000,1000000,10000000');
const PY_LARGE_FEATURES = Number(process.env.KILN_BENCH_PY_LARGE_FEATURES ?? 10);

const REPORT_FEATURES = 50;
const REFERENCE_ROWS = 20_000;
const INGEST_FEATURES = 20;
const MLP = [256, 1024, 1024, 1024, 10];
const WINDOW_START = Date.UTC(2026, 0, 1); // a '1h' window starts here

const TARGETS = {
  report_ms_at_most: 20,
  report_10m_over_10k_at_most: 1.5,
  serving_monitored_over_unmonitored_at_least: 0.95,
  ingest_rows_per_s_at_least: 500_000,
  ingest_peak_rss_largest_over_smallest_at_most: 1.1,
};

const ms = (x: number) => round(x, 3);
const featureNames = (n: number, prefix: string) => Array.from({ length: n }, (_, j) => `${prefix}${j}`);
const label = (rows: number) => (rows >= 1e6 && rows % 1e6 === 0 ? `${rows / 1e6}M` : rows >= 1e3 && rows % 1e3 === 0 ? `${rows / 1e3}k` : String(rows));

function hwmMb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? round(Number(m[1]) / 1024, 1) : NaN;
  } catch {
    return NaN;
  }
}

async function check<T>(what: string, p: Promise<{ status: number; body: T; text: string }>, status = 200): Promise<T> {
  const r = await p;
  if (r.status !== status) throw new Error(`${what}: ${r.status} ${r.text.slice(0, 500)}`);
  return r.body;
}

// ---------------------------------------------------------------------------------------------------- 1. report
interface Written {
  readonly name: string;
  readonly rows: number;
  readonly parts: number;
  /** The window's counts (all its parts added). */
  readonly merged: WindowCounts;
  /** This process's time to count the rows' values into bins (values already in memory), ms. */
  readonly countMs: number;
}

async function reportMeasure(dir: string) {
  const ts: TestServer = await startTestServer({ store: 'sqlite', capabilities: { monitoring: { evaluateMs: 3_600_000, flushMs: 3_600_000 } } });
  try {
    const client = new KilnClient({ trackingUri: ts.url });
    const refCsv = join(dir, 'reference-50.csv');
    await writeFloatCsv(refCsv, REFERENCE_ROWS, featureNames(REPORT_FEATURES, 'f'), { seed: 1 });
    await client.data.add(refCsv, { name: 'ref50' });
    const svc = ts.server.services.monitoring;
    const pool = normalPool();
    const longest = Math.max(...REPORT_SIZES.map((n) => Math.ceil(n / REPORT_PARTS)), ...PARTS_SENSITIVITY.map((p) => Math.ceil(Math.max(...REPORT_SIZES) / p)));
    const column = new Float64Array(Math.min(longest, 2_000_000));

    /** Counts `rows` drifted rows into an accumulator (in pieces of the column buffer), timing the counting alone. */
    const count = (m: Monitor, rows: number, seed: number): { acc: WindowAccumulator; ms: number } => {
      const acc = new WindowAccumulator(m.counted);
      acc.rows = rows;
      let t = 0;
      for (const c of acc.counters) {
        const feature = Number(c.ref.name.slice(1));
        for (let done = 0, piece = 0; done < rows; piece++) {
          const n = Math.min(column.length, rows - done);
          fillColumn(column, n, feature, pool, seed * 1000 + piece, true);
          const t0 = performance.now();
          for (let i = 0; i < n; i++) c.addNumber(column[i]!);
          t += performance.now() - t0;
          done += n;
        }
      }
      return { acc, ms: t };
    };
    const create = async (name: string) => {
      await client.monitors.create({ name, reference: 'ref50@v1', window: '1h' });
      return svc.get(name);
    };

    // Main windows: each size written in REPORT_PARTS parts of rows/REPORT_PARTS rows (like that many uploads).
    const written: Written[] = [];
    for (const rows of REPORT_SIZES) {
      const m = await create(`window-${label(rows)}`);
      const merged: WindowCounts = { rows: 0, cols: {} };
      let countMs = 0;
      for (let p = 0; p < REPORT_PARTS; p++) {
        const partRows = Math.floor(rows / REPORT_PARTS) + (p < rows % REPORT_PARTS ? 1 : 0);
        const { acc, ms: t } = count(m, partRows, p + 1);
        countMs += t;
        await svc.write(m, new Map([[WINDOW_START, acc]]), []);
        mergeInto(merged, structuredClone(acc.toCounts()));
      }
      written.push({ name: m.name, rows, parts: REPORT_PARTS, merged, countMs });
    }
    // The largest window again, in P parts (one part's counts written P times: the report reads P parts either way).
    const big = Math.max(...REPORT_SIZES);
    const sensitivity: Written[] = [];
    for (const parts of PARTS_SENSITIVITY) {
      const m = await create(`parts-${parts}`);
      const { acc } = count(m, Math.floor(big / parts), 99);
      const merged: WindowCounts = { rows: 0, cols: {} };
      const one = structuredClone(acc.toCounts());
      for (let p = 0; p < parts; p++) mergeInto(merged, one);
      // One write per part, as flushes or uploads write them.
      for (let p = 0; p < parts; p++) await svc.write(m, new Map([[WINDOW_START, acc]]), []);
      sensitivity.push({ name: m.name, rows: merged.rows, parts, merged, countMs: NaN });
    }

    const all = [...written, ...sensitivity];
    const http = new Map(all.map((w) => [w.name, [] as number[]]));
    const service = new Map(all.map((w) => [w.name, [] as number[]]));
    const pure = new Map(written.map((w) => [w.name, [] as number[]]));
    const checked = new Map<string, unknown>();
    // Warm-up, and one check that each report covers its rows.
    for (const w of all) {
      for (let i = 0; i < 3; i++) {
        const r = await check(`report ${w.name}`, call(ts.url, 'GET', `/api/v1/monitors/${w.name}/report`));
        const body = r as { rows: number; windows: number; drifted_features: number; features: Record<string, { wasserstein: number; psi: number; ks_pvalue: number }> };
        if (body.rows !== w.rows) throw new Error(`report ${w.name}: ${body.rows} rows, expected ${w.rows}`);
        checked.set(w.name, { rows: body.rows, windows: body.windows, drifted_features: body.drifted_features, f0: { psi: round(body.features.f0!.psi, 4), wasserstein: round(body.features.f0!.wasserstein, 4), ks_pvalue: body.features.f0!.ks_pvalue } });
      }
    }
    const monitors = new Map<string, Monitor>();
    for (const w of written) monitors.set(w.name, await svc.get(w.name));
    for (let i = 0; i < REPORT_CALLS; i++) {
      for (const w of all) {
        const t0 = performance.now();
        const res = await fetch(`${ts.url}/api/v1/monitors/${w.name}/report`);
        await res.text();
        http.get(w.name)!.push(performance.now() - t0);
        const t1 = performance.now();
        await svc.report(w.name);
        service.get(w.name)!.push(performance.now() - t1);
      }
    }
    // The pure computation: many calls (it is fast), sizes interleaved.
    for (let i = 0; i < 10 * REPORT_CALLS; i++) {
      for (const w of written) {
        const m = monitors.get(w.name)!;
        const byName = new Map(m.featureRefs.map((r) => [r.name, r]));
        const t0 = performance.now();
        datasetDrift(m.featureRefs, m.reference.rows, (n) => { const r = byName.get(n)!; return { c: r.counts, m: r.missing, i: r.invalid }; }, w.merged, (n) => m.settings.get(n) ?? {}, m.spec.drift_share, true);
        pure.get(w.name)!.push(performance.now() - t0);
      }
    }
    const windows = written.map((w) => ({
      rows: w.rows,
      parts: w.parts,
      http_report_ms: ms(median(http.get(w.name)!)),
      service_report_ms: ms(median(service.get(w.name)!)),
      dataset_drift_ms: ms(median(pure.get(w.name)!)),
      count_rows_in_process_ms: round(w.countMs, 1),
      count_rows_in_process_values_per_s: round((w.rows * REPORT_FEATURES) / (w.countMs / 1000), 0),
      report: checked.get(w.name),
    }));
    const small = windows.find((w) => w.rows === Math.min(...REPORT_SIZES))!;
    const large = windows.find((w) => w.rows === big)!;
    return {
      features: REPORT_FEATURES,
      bins: 10,
      reference_rows: REFERENCE_ROWS,
      store: 'sqlite (in-process server)',
      calls_per_median: { http_and_service: REPORT_CALLS, dataset_drift: 10 * REPORT_CALLS },
      note: `each window written in ${REPORT_PARTS} parts (one write each); features 0-9 shifted by 0.3 sd, 10-14 scaled by 1.5; HTTP time is fetch until the body is read (not parsed)`,
      windows,
      ratios: {
        [`http_${label(big)}_over_${label(small.rows)}`]: round(large.http_report_ms / small.http_report_ms, 3),
        [`service_${label(big)}_over_${label(small.rows)}`]: round(large.service_report_ms / small.service_report_ms, 3),
        [`dataset_drift_${label(big)}_over_${label(small.rows)}`]: round(large.dataset_drift_ms / small.dataset_drift_ms, 3),
      },
      parts_sensitivity: sensitivity.map((w) => ({ rows: w.rows, parts: w.parts, http_report_ms: ms(median(http.get(w.name)!)), service_report_ms: ms(median(service.get(w.name)!)) })),
    };
  } finally {
    await ts.stop();
  }
}

// ---------------------------------------------------------------------------------------------------- 2. serving
async function load(url: string, deployment: string, payload: string, seconds: number) {
  const r = await autocannon({ url: `${url}/v2/models/${deployment}/infer`, method: 'POST', headers: { 'content-type': 'application/json' }, body: payload, connections: 64, duration: seconds, pipelining: 1 });
  return { requests_per_s: round(r.requests.average, 0), p50_ms: r.latency.p50, p99_ms: r.latency.p99, ok: r['2xx'], errors: r.errors + r.non2xx + r.timeouts };
}

async function servingMeasure(dir: string) {
  const server = await startServer('sqlite://' + join(dir, 'serving.db'), pathToFileURL(join(dir, 'serving-artifacts')).href, [], { KILN_HOME: dir });
  const url = server.url;
  try {
    const client = new KilnClient({ trackingUri: url });
    await registerOnnx(url, 'mlp', mlpModel(MLP));
    const inputs = featureNames(MLP[0]!, 'x');
    const refCsv = join(dir, 'reference-mlp.csv');
    await writeFloatCsv(refCsv, 5000, inputs, { seed: 2 });
    await client.data.add(refCsv, { name: 'mlp-inputs' });
    const settings = { model: 'models:/mlp/1', batching: { max_batch_size: 64 }, payload_log: { sample_rate: 0 } };
    for (const name of ['mlp-plain', 'mlp-monitored']) await check(`deploy ${name}`, call(url, 'POST', '/api/v1/deployments', { name, ...settings }));
    const pool = normalPool(5);
    const payload = JSON.stringify({ inputs: [{ name: 'x', shape: [1, MLP[0]], datatype: 'FP32', data: inputs.map((_, j) => round(pool[j * 97]!, 4)) }] });
    let monitoredOk = 0;
    const runs: Record<string, unknown>[] = [];
    /** Rounds alternating the two deployments (which goes first alternates too): the ratios monitored/plain. */
    const rounds = async (n: number, phase: string) => {
      const on: number[] = [];
      const off: number[] = [];
      const ratios: number[] = [];
      for (let r = 0; r < n; r++) {
        const order = r % 2 === 0 ? ['mlp-plain', 'mlp-monitored'] : ['mlp-monitored', 'mlp-plain'];
        const got: Record<string, number> = {};
        for (const d of order) {
          const x = await load(url, d, payload, SECONDS);
          if (x.errors > 0) throw new Error(`${d}: ${x.errors} errors`);
          got[d] = x.requests_per_s;
          if (d === 'mlp-monitored' && phase === 'monitored') monitoredOk += x.ok;
          runs.push({ phase, round: r + 1, deployment: d, ...x });
        }
        on.push(got['mlp-monitored']!);
        off.push(got['mlp-plain']!);
        ratios.push(got['mlp-monitored']! / got['mlp-plain']!);
      }
      return { on, off, ratios };
    };
    for (const d of ['mlp-plain', 'mlp-monitored']) await load(url, d, payload, 2); // load and warm
    // A/A first: the same two deployments before the monitor exists (what differs between them besides monitoring).
    const before = await rounds(BASELINE_ROUNDS, 'no monitor yet');
    await client.monitors.create({ name: 'mlp-monitor', deployment: 'mlp-monitored', reference: 'mlp-inputs@v1', features: inputs });
    await new Promise((r) => setTimeout(r, 1000)); // the counter reloads its monitors after the change
    monitoredOk += (await load(url, 'mlp-monitored', payload, 1)).ok;
    const { on, off, ratios: perRound } = await rounds(ROUNDS, 'monitored');
    // Counts are written every 5 s (the default flush): wait for one, then the monitor's report says what it counted.
    await new Promise((r) => setTimeout(r, 6500));
    const report = (await client.monitors.report('mlp-monitor')) as { rows: number; features: Record<string, { rows: number }> };
    return {
      model: `MLP ${MLP.join('→')} float32, 1-row requests`,
      deployment_settings: settings,
      monitor: { features: inputs.length, mapped_as: "column i of the input 'x' [N, 256] to feature x{i}", window: '1h', flush_ms: 5000 },
      concurrency: 64,
      seconds_per_run: SECONDS,
      rounds: ROUNDS,
      monitored_requests_per_s: median(on),
      unmonitored_requests_per_s: median(off),
      monitored_over_unmonitored: round(median(on) / median(off), 3),
      baseline_before_monitor: { rounds: BASELINE_ROUNDS, requests_per_s_of_the_deployment_to_be_monitored: median(before.on), requests_per_s_plain: median(before.off), ratio: round(median(before.on) / median(before.off), 3), per_round_ratios: before.ratios.map((x) => round(x, 3)) },
      per_round_ratio_median: round(median(perRound), 3),
      per_round_ratios: perRound.map((x) => round(x, 3)),
      counted: { rows_in_monitor: report.rows, responses_2xx_seen_by_autocannon: monitoredOk, note: 'the server also answers (and counts) requests still in flight when autocannon stops' },
      runs,
    };
  } finally {
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
  }
}

// ---------------------------------------------------------------------------------------------------- 3. ingestion
async function createIngestMonitor(url: string, dir: string): Promise<void> {
  const client = new KilnClient({ trackingUri: url });
  const refCsv = join(dir, 'reference-20.csv');
  await writeFloatCsv(refCsv, REFERENCE_ROWS, featureNames(INGEST_FEATURES, 'f'), { seed: 1 });
  await client.data.add(refCsv, { name: 'ref20' });
  await client.monitors.create({ name: 'ingest', reference: 'ref20@v1', window: '1h' });
}

async function ingestMeasure(dir: string) {
  const files: { rows: number; path: string; bytes: number }[] = [];
  for (const rows of INGEST_SIZES) {
    const path = join(dir, `records-${label(rows)}.csv`);
    const bytes = await writeFloatCsv(path, rows, featureNames(INGEST_FEATURES, 'f'), { seed: 3, drifted: true });
    files.push({ rows, path, bytes });
  }
  const sizes: Record<string, unknown>[] = [];
  for (const f of files) {
    const sub = tempDir('kiln-bench-ingest-');
    const server = await startServer('sqlite://' + join(sub, 'kiln.db'), pathToFileURL(join(sub, 'artifacts')).href, [], { KILN_HOME: sub });
    const pid = server.child.pid!;
    try {
      await createIngestMonitor(server.url, sub);
      const idle = rssMb(pid);
      const hwmBefore = hwmMb(pid);
      let peak = idle;
      const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 20);
      const client = new KilnClient({ trackingUri: server.url });
      const t0 = performance.now();
      const r = await client.monitors.logFile('ingest', f.path, 'csv');
      const seconds = (performance.now() - t0) / 1000;
      clearInterval(sampler);
      if (r.accepted !== f.rows) throw new Error(`ingest ${f.rows}: accepted ${r.accepted}`);
      sizes.push({
        rows: f.rows,
        bytes: f.bytes,
        seconds: round(seconds, 2),
        rows_per_s: round(f.rows / seconds, 0),
        mb_per_s: round(f.bytes / 2 ** 20 / seconds, 1),
        server_idle_rss_mb: round(idle, 1),
        server_vmhwm_before_mb: hwmBefore,
        server_peak_rss_mb_vmhwm: hwmMb(pid),
        server_peak_rss_mb_sampled: round(peak, 1),
        windows: r.windows,
        invalid_values: r.invalid_values,
      });
    } finally {
      server.child.kill('SIGTERM');
      await new Promise((r) => server.child.once('exit', r));
      rmSync(sub, { recursive: true, force: true });
    }
  }
  // Where the time goes, in this process on the smallest file: the route's copy of the body to a temporary file,
  // the CSV reader (papaparse) alone, the reader with the monitor's counting, and MonitorService.logFile (+ the write).
  const f = files[0]!;
  const ts = await startTestServer({ store: 'sqlite', capabilities: { monitoring: { evaluateMs: 3_600_000 } } });
  let breakdown: Record<string, unknown>;
  try {
    await createIngestMonitor(ts.url, dir);
    const svc = ts.server.services.monitoring;
    const m = await svc.get('ingest');
    const src = { name: 'records.csv', format: 'csv' as const, open: () => createReadStream(f.path, { highWaterMark: 1 << 20 }) };
    const noop: RowSink = { setHeader: (names) => names.map((_, i) => i), addTextRow: () => undefined, addValueRow: () => undefined, addObject: () => undefined, markFloat: () => undefined };
    const time = async (fn: () => Promise<unknown>) => {
      const t0 = performance.now();
      await fn();
      return (performance.now() - t0) / 1000;
    };
    const copy: number[] = [];
    const parse: number[] = [];
    const counted: number[] = [];
    const logged: number[] = [];
    const reps = f.rows <= 1_000_000 ? 3 : 1;
    for (let i = 0; i < reps; i++) {
      copy.push(await time(() => pipeline(createReadStream(f.path, { highWaterMark: 1 << 20 }), createWriteStream(join(dir, 'copy.csv')))));
      rmSync(join(dir, 'copy.csv'), { force: true });
      parse.push(await time(() => readSource(src, noop)));
      counted.push(await time(() => readSource(src, new IngestSink(svc.plan(m), Date.now()))));
      logged.push(await time(() => svc.logFile('ingest', src)));
    }
    const per = (s: number[]) => ({ seconds: round(median(s), 2), rows_per_s: round(f.rows / median(s), 0) });
    breakdown = {
      rows: f.rows,
      repetitions: reps,
      copy_body_to_temp_file: per(copy),
      csv_reader_only: per(parse),
      csv_reader_and_counting: per(counted),
      log_file_in_process: per(logged),
      counting_share_of_reader_and_counting: round(1 - median(parse) / median(counted), 3),
    };
  } finally {
    await ts.stop();
  }
  for (const x of files) rmSync(x.path, { force: true });
  const first = sizes[0] as { server_peak_rss_mb_vmhwm: number };
  const last = sizes[sizes.length - 1] as { server_peak_rss_mb_vmhwm: number };
  return {
    features: INGEST_FEATURES,
    time_column: null,
    csv: 'header + 20 float columns, 6 decimals, no time column (rows counted in the arrival window); posted with the SDK (client.monitors.logFile, a file stream with content-length)',
    server: 'kiln server child process, fresh SQLite store per size; RSS from /proc/PID/status',
    sizes,
    peak_rss_largest_over_smallest: round(last.server_peak_rss_mb_vmhwm / first.server_peak_rss_mb_vmhwm, 3),
    breakdown_in_process: breakdown,
  };
}

// ---------------------------------------------------------------------------------------------------- 4. python
interface PySize {
  rows: number;
  median_ms: number;
  measured_ms: number[];
  repeats: number;
  timed_features: number;
}

async function pythonMeasure(): Promise<{ python: string; sizes: PySize[] } & Record<string, unknown>> {
  const args = JSON.stringify({ features: REPORT_FEATURES, ref_rows: 100_000, sizes: PY_SIZES, seed: 42, bins: 10, large_features: PY_LARGE_FEATURES });
  const script = join(process.cwd(), 'bench', 'monitoring', 'drift.py');
  const child = spawn('/usr/bin/python3', [script, args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`drift.py exited ${code}: ${err}`);
  return JSON.parse(out) as { python: string; sizes: PySize[] };
}

// ---------------------------------------------------------------------------------------------------- main
async function main(): Promise<void> {
  const dir = tempDir('kiln-bench-monitoring-');
  const started = performance.now();
  const out: Record<string, unknown> = { benchmark: 'monitoring', machine: machine(), load_average_at_start: loadavg().map((x) => round(x, 2)), quick: QUICK };
  const log = (s: string) => process.stderr.write(`[bench:monitoring ${round((performance.now() - started) / 1000, 1)} s] ${s}\n`);
  try {
    let report: Awaited<ReturnType<typeof reportMeasure>> | undefined;
    let serving: Awaited<ReturnType<typeof servingMeasure>> | undefined;
    let ingestion: Awaited<ReturnType<typeof ingestMeasure>> | undefined;
    let python: Awaited<ReturnType<typeof pythonMeasure>> | undefined;
    if (MEASURES.has('report')) {
      log('report');
      out.report = report = await reportMeasure(dir);
    }
    if (MEASURES.has('serving')) {
      log('serving');
      out.serving = serving = await servingMeasure(dir);
    }
    if (MEASURES.has('ingest')) {
      log('ingestion');
      out.ingestion = ingestion = await ingestMeasure(dir);
    }
    if (MEASURES.has('python')) {
      log('python');
      out.python = python = await pythonMeasure();
    }
    if (report && python) {
      out.comparison = python.sizes.map((p) => {
        const k = report.windows.find((w) => w.rows === p.rows);
        return {
          rows: p.rows,
          python_on_rows_ms: p.median_ms,
          python_timed_features: p.timed_features,
          kiln_report_from_counts_http_ms: k?.http_report_ms ?? null,
          kiln_dataset_drift_ms: k?.dataset_drift_ms ?? null,
          kiln_count_rows_in_process_ms: k?.count_rows_in_process_ms ?? null,
          python_over_kiln_report: k ? round(p.median_ms / k.http_report_ms, 0) : null,
          python_over_kiln_count_plus_report: k ? round(p.median_ms / (k.count_rows_in_process_ms + k.http_report_ms), 1) : null,
        };
      });
    }
    // Targets and pass/fail.
    const pass: Record<string, boolean> = {};
    if (report) {
      const big = Math.max(...REPORT_SIZES);
      const small = Math.min(...REPORT_SIZES);
      for (const w of report.windows.filter((x) => x.rows === big || x.rows === small)) {
        pass[`report_http_${label(w.rows)}_le_20ms`] = w.http_report_ms <= TARGETS.report_ms_at_most;
        pass[`dataset_drift_${label(w.rows)}_le_20ms`] = w.dataset_drift_ms <= TARGETS.report_ms_at_most;
      }
      for (const [k, v] of Object.entries(report.ratios)) if (!k.startsWith('service')) pass[`${k}_le_1_5`] = v <= TARGETS.report_10m_over_10k_at_most;
    }
    if (serving) pass.serving_monitored_over_unmonitored_ge_0_95 = serving.monitored_over_unmonitored >= TARGETS.serving_monitored_over_unmonitored_at_least;
    if (ingestion) {
      for (const s of ingestion.sizes as { rows: number; rows_per_s: number }[]) pass[`ingest_${label(s.rows)}_ge_500k_rows_per_s`] = s.rows_per_s >= TARGETS.ingest_rows_per_s_at_least;
      pass.ingest_peak_rss_flat = ingestion.peak_rss_largest_over_smallest <= TARGETS.ingest_peak_rss_largest_over_smallest_at_most;
    }
    out.targets = TARGETS;
    out.pass = pass;
    out.all_pass = Object.values(pass).every(Boolean);
    out.load_average_at_end = loadavg().map((x) => round(x, 2));
    out.wall_seconds = round((performance.now() - started) / 1000, 1);
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
