// Profiling benchmark: a 1,000,000 × 20 CSV (seeded, mixed types, some missing values) profiled in one
// streaming pass. Prints one JSON document. KILN_BENCH_ROWS changes the row count; KILN_BENCH_PARSERS=1
// also times the raw csv-parse and papaparse parsers on the same file.
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { profileSources } from '../../src/data/profile/index.js';
import { writeBenchCsv } from './generate.js';
import { timeCsvParse, timePapaparse } from './parsers.js';

const ROWS = Number(process.env.KILN_BENCH_ROWS ?? 1_000_000);
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

const dir = mkdtempSync(join(tmpdir(), 'kiln-profile-bench-'));
try {
  const path = join(dir, 'table.csv');
  await writeBenchCsv(path, ROWS);
  const bytes = statSync(path).size;
  if (typeof global.gc === 'function') global.gc();
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 100);
  const t0 = performance.now();
  const profile = await profileSources([{ name: 'table.csv', format: 'csv', open: () => createReadStream(path), size: bytes }]);
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage.rss());
  const out: Record<string, unknown> = {
    machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model, node: process.version },
    rows: profile.rows,
    columns: profile.columns.length,
    bytes,
    seconds: round(seconds),
    peak_rss_mb: round(peak / 2 ** 20, 1),
    mb_per_second: round(bytes / 2 ** 20 / seconds, 1),
    types: Object.fromEntries(profile.columns.map((c) => [c.name, c.type])),
  };
  if (process.env.KILN_BENCH_PARSERS === '1') {
    out.parsers = [await timePapaparse(path), await timeCsvParse(path)].map((t) => ({ ...t, seconds: round(t.seconds) }));
  }
  console.log(JSON.stringify(out, null, 2));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
