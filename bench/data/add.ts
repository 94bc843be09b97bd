// Dataset versioning benchmark: `kiln data add` of a generated 1,000,000 × 20 CSV (~165 MB) through the SDK against
// a `kiln server` child process on a fresh SQLite store, then the identical re-add. Prints one JSON document.
//
//   npm run bench:data
//   KILN_BENCH_ROWS=200000 npm run bench:data
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tempDir } from '../../test/support/backends.js';
import { KilnClient } from '@kiln-mlops/sdk';
import { writeBenchCsv } from './generate.js';
import { machine, round, rssMb, startServer, timed } from '../support.js';

const ROWS = Number(process.env.KILN_BENCH_ROWS ?? 1_000_000);

function countFiles(dir: string): number {
  let n = 0;
  try {
    for (const e of readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? countFiles(join(dir, e.name)) : 1;
  } catch {
    // absent: no files
  }
  return n;
}

const dir = tempDir('kiln-data-bench-');
try {
  const csv = join(dir, 'table.csv');
  await writeBenchCsv(csv, ROWS);
  const bytes = statSync(csv).size;
  const artifactsDir = join(dir, 'artifacts');
  const { child, url } = await startServer('sqlite://' + pathToFileURL(join(dir, 'kiln.db')).pathname, pathToFileURL(artifactsDir).href);
  let peak = rssMb(child.pid!);
  const idle = peak;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(child.pid!))), 50);
  try {
    const client = new KilnClient({ trackingUri: url });
    const [first, r1] = await timed(() => client.data.add(csv, { name: 'bench' }));
    if (!r1.created || r1.version.rows !== ROWS) throw new Error(`first add: ${JSON.stringify({ created: r1.created, rows: r1.version.rows })}`);
    const blobsBefore = countFiles(join(artifactsDir, 'datasets'));
    const [readd, r2] = await timed(() => client.data.add(csv, { name: 'bench' }));
    if (r2.created || r2.version.version !== 1) throw new Error('re-add created a version');
    const blobsAfter = countFiles(join(artifactsDir, 'datasets'));
    clearInterval(sampler);
    peak = Math.max(peak, rssMb(child.pid!));
    process.stdout.write(
      JSON.stringify(
        {
          bench: 'data-add',
          machine: machine(),
          targets: { first_add_seconds: 10, readd_seconds: 3, server_peak_rss_mb: 400 },
          rows: ROWS,
          columns: r1.version.profile.columns.length,
          bytes,
          first_add_seconds: round(first / 1000),
          readd_seconds: round(readd / 1000),
          server_idle_rss_mb: round(idle, 1),
          server_peak_rss_mb: round(peak, 1),
          uploaded_bytes_first: r1.uploadedBytes,
          uploaded_bytes_readd: r2.uploadedBytes,
          blobs_written_on_readd: blobsAfter - blobsBefore,
          digest: r1.version.digest,
        },
        null,
        2,
      ) + '\n',
    );
  } finally {
    clearInterval(sampler);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
