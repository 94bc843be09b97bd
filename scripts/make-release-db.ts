/**
 * Makes the release databases the upgrade test opens with today's code (test/fixtures/db/release-*.sqlite and
 * release-*.postgres.sql): representative data written through the HTTP API of a released server, so the
 * database holds exactly what that release wrote.
 *
 *   node dist/scripts/make-release-db.js populate <server url>
 *     writes the data set below into a running server (any release that has these endpoints);
 *   node dist/scripts/make-release-db.js fixtures <release checkout> [out dir]
 *     starts the checkout's own server (bin/kiln.js, built) on a new SQLite file and on a new PostgreSQL database,
 *     populates each, and writes release-<version>.sqlite (WAL checkpointed, compacted) and
 *     release-<version>.postgres.sql (pg_dump --inserts) to the out dir (default test/fixtures/db).
 *
 * The data set, which test/integration/migrations.test.ts reads back: experiments `weather-forecast` (tags) and
 * `churn`; runs `baseline` and `candidate` with params, tags, loss at steps 0-2 and val_accuracy, the first with
 * the dataset weather@v1 as input; a logged model `weather-linear` with a param, a tag and a metric; dataset
 * `weather` v1 and v2 with a validation of v2 against v1's schema; registered model `forecaster` v1 and v2 from
 * the runs' ONNX models (READY), alias `champion` → v1, a policy on `production` requiring approval and a
 * pending promotion request of v2; a webhook `audit` with every delivery of those events SUCCEEDED.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { linearModel } from '../src/registry/packaging/test-models.js';
import { weatherCsv } from '../test/support/fixtures.js';
import { PG_ADMIN_URI } from '../test/support/backends.js';

interface DataVersion {
  version: number;
  mlflow_digest: string;
  rows: number;
  schema: { columns: { name: string; type: string; nullable: boolean }[] };
}
interface ModelVersion {
  version: number;
  status: string;
  status_message: string | null;
}
interface Delivery {
  status: string;
}

/** MLflow's column types for Kiln's, as the SDK logs a data version as a run input. */
const MLFLOW_TYPES: Record<string, string> = { integer: 'long', float: 'double', boolean: 'boolean', datetime: 'datetime', categorical: 'string', string: 'string' };

/** Fixed metric times, so the reader can assert exact values. */
export const T0 = 1_767_225_600_000;

function client(base: string) {
  // The answers are read as the types the caller names: this talks to a server, it does not validate one.
  return async <T = Record<string, unknown>>(method: string, path: string, body?: unknown, expect: number[] = [200, 201, 204], user = 'ana'): Promise<T> => {
    const res = await fetch(base + path, {
      method,
      headers: { 'x-kiln-user': user, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!expect.includes(res.status)) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
    return (text ? JSON.parse(text) : {}) as T;
  };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startReceiver(): Promise<{ url: string; received: () => number; stop: () => Promise<void> }> {
  let n = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      n++;
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/kiln-events`,
    received: () => n,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export async function populate(base: string): Promise<Record<string, unknown>> {
  const api = client(base);
  const v1 = <T>(method: string, path: string, body?: unknown) => api<T>(method, `/api/v1${path}`, body);
  const receiver = await startReceiver();
  try {
    // First, so every registry event below is delivered.
    const hook = (await v1<{ webhook: { id: string } }>('POST', '/webhooks', { name: 'audit', url: receiver.url, events: ['*'], secret: 'fixture-secret', description: 'registry audit trail' })).webhook;

    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    const addVersion = async (content: string, description: string) => {
      const digest = sha(content);
      const { missing } = await v1<{ missing: string[] }>('POST', '/data/blobs/missing', { sha256: [digest] });
      if (missing.length > 0) {
        const r = await fetch(`${base}/api/v1/data/blobs/${digest}`, { method: 'PUT', body: content, headers: { 'content-type': 'application/octet-stream' } });
        if (r.status !== 201) throw new Error(`blob upload answered ${r.status}`);
      }
      return (await v1<{ version: DataVersion }>('POST', '/datasets/weather/versions', { files: [{ path: 'weather.csv', sha256: digest, bytes: Buffer.byteLength(content) }], description, source: 's3://raw/weather.csv' })).version;
    };
    const d1 = await addVersion(weatherCsv(40, 1), 'first pull');
    const d2 = await addVersion(weatherCsv(40, 2, true), 'summer pull');
    const validation = (await v1<{ validation: { ok: boolean } }>('POST', '/datasets/weather/versions/2/validations', { schema_ref: 'weather@v1' })).validation;

    const exp = (await v1<{ experiment: { experiment_id: string } }>('POST', '/experiments', { name: 'weather-forecast', tags: { team: 'forecasting', 'mlflow.note.content': 'release fixture' } })).experiment;
    await v1('POST', '/experiments', { name: 'churn', tags: { team: 'growth' } });

    const runs: Record<string, string> = {};
    for (const [name, lr, accuracy] of [
      ['baseline', '0.01', 0.91],
      ['candidate', '0.02', 0.93],
    ] as const) {
      const run = (await v1<{ run: { run_id: string } }>('POST', '/runs', { experiment_id: exp.experiment_id, run_name: name, start_time: T0, tags: { model: 'linear' } })).run;
      await v1('POST', `/runs/${run.run_id}/log`, {
        params: { lr, epochs: '3' },
        tags: { stage: name },
        metrics: [
          ...[0.9, 0.5, 0.3].map((value, step) => ({ key: 'loss', value: name === 'baseline' ? value : value - 0.05, step, timestamp: T0 + step * 1000 })),
          { key: 'val_accuracy', value: accuracy, step: 2, timestamp: T0 + 2000 },
        ],
      });
      const up = await fetch(`${base}/api/v1/runs/${run.run_id}/artifacts/model/model.onnx`, { method: 'PUT', body: linearModel(), headers: { 'content-type': 'application/octet-stream' } });
      if (up.status !== 204) throw new Error(`model upload answered ${up.status}`);
      await v1('PATCH', `/runs/${run.run_id}`, { status: 'FINISHED', end_time: T0 + 60_000 });
      runs[name] = run.run_id;
    }
    await v1('POST', `/runs/${runs.baseline}/inputs`, {
      datasets: [
        {
          name: 'weather',
          digest: d1.mlflow_digest,
          source_type: 'kiln',
          source: 'kiln://datasets/weather/v1',
          schema: JSON.stringify({ mlflow_colspec: d1.schema.columns.map((c) => ({ type: MLFLOW_TYPES[c.type] ?? 'string', name: c.name, required: !c.nullable })) }),
          profile: JSON.stringify({ num_rows: d1.rows }),
          tags: { 'mlflow.data.context': 'training' },
        },
      ],
    });

    const mlflow = <T>(method: string, path: string, body?: unknown) => api<T>(method, `/api/2.0/mlflow${path}`, body);
    const lm = (
      await mlflow<{ model: { info: { model_id: string } } }>('POST', '/logged-models', {
        experiment_id: exp.experiment_id,
        name: 'weather-linear',
        model_type: 'onnx',
        source_run_id: runs.baseline,
        params: [{ key: 'inputs', value: '4' }],
        tags: [{ key: 'framework', value: 'onnx' }],
      })
    ).model.info;
    await mlflow('PATCH', `/logged-models/${lm.model_id}`, { model_id: lm.model_id, status: 'LOGGED_MODEL_READY' });
    await mlflow('POST', '/runs/log-metric', { run_id: runs.baseline, key: 'holdout_rmse', value: 1.25, timestamp: T0 + 3000, step: 0, model_id: lm.model_id, dataset_name: 'weather', dataset_digest: d1.mlflow_digest });

    await v1('POST', '/models', { name: 'forecaster', description: 'next-day temperature', tags: { owner: 'forecasting' } });
    const versions: number[] = [];
    for (const name of ['baseline', 'candidate']) {
      const v = (await v1<{ version: ModelVersion }>('POST', '/models/forecaster/versions', { source: `runs:/${runs[name]}/model`, run_id: runs[name], description: `from ${name}` })).version;
      versions.push(v.version);
      await until(`forecaster v${v.version} to be inspected`, async () => {
        const got = (await v1<{ version: ModelVersion }>('GET', `/models/forecaster/versions/${v.version}`)).version;
        if (got.status === 'FAILED_REGISTRATION') throw new Error(`forecaster v${v.version} failed: ${got.status_message}`);
        return got.status === 'READY' ? got : undefined;
      });
    }
    await v1('PUT', '/models/forecaster/aliases/champion', { version: versions[0], reason: 'first model' });
    await v1('PUT', '/models/forecaster/policies/production', { rules: ['metrics.val_accuracy >= 0.9'], require_approval: true, description: 'a second pair of eyes' });
    const promotion = await v1<{ status: string; request_id: number }>('POST', `/models/forecaster/versions/${versions[1]}/promote`, { alias: 'production', reason: 'better on the holdout set' });
    if (promotion.status !== 'PENDING_APPROVAL') throw new Error(`promotion answered ${JSON.stringify(promotion)}`);

    // Leave no delivery in flight: a PENDING one would be retried, against a receiver long gone, by whoever opens the copy.
    const deliveries = await until('every webhook delivery to succeed', async () => {
      const all = (await v1<{ deliveries: Delivery[] }>('GET', `/webhooks/${hook.id}/deliveries?max_results=1000`)).deliveries;
      return all.length > 0 && all.every((d) => d.status === 'SUCCEEDED') ? all : undefined;
    });
    return {
      experiment_id: exp.experiment_id,
      runs,
      logged_model: lm.model_id,
      dataset_versions: [d1.version, d2.version],
      validation_ok: validation.ok,
      model_versions: versions,
      promotion_request: promotion.request_id,
      webhook: hook.id,
      deliveries: deliveries.length,
      received: receiver.received(),
    };
  } finally {
    await receiver.stop();
  }
}

/** Starts `bin/kiln.js server` of a checkout and resolves with its URL once it listens. */
async function startRelease(checkout: string, store: string, artifacts: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, [join(checkout, 'bin', 'kiln.js'), 'server', '--port', '0', '--store', store, '--artifacts', artifacts, '--log-level', 'warn'], {
    cwd: checkout,
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = await new Promise<string>((resolveUrl, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (\S+)/.exec(err);
      if (m) resolveUrl(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`release server exited with ${code}: ${err}`)));
  });
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function fixtures(checkout: string, outDir: string): Promise<void> {
  const version = (JSON.parse(readFileSync(join(checkout, 'package.json'), 'utf8')) as { version: string }).version;
  mkdirSync(outDir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'kiln-release-db-'));
  try {
    // SQLite
    const file = join(work, 'kiln.db');
    let server = await startRelease(checkout, `sqlite://${file}`, pathToFileURL(join(work, 'artifacts-sqlite')).href);
    try {
      console.log('sqlite:', JSON.stringify(await populate(server.url)));
    } finally {
      await server.stop();
    }
    const { default: BetterSqlite3 } = await import('better-sqlite3');
    const db = new BetterSqlite3(file);
    // Fold the WAL into the file and leave rollback-journal mode, so the one file is the whole database.
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.pragma('journal_mode = DELETE');
    db.exec('VACUUM');
    db.close();
    copyFileSync(file, join(outDir, `release-${version}.sqlite`));

    // PostgreSQL
    const pg = (await import('pg')).default;
    const name = `kiln_release_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: PG_ADMIN_URI });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const uri = new URL(PG_ADMIN_URI);
    uri.pathname = `/${name}`;
    try {
      server = await startRelease(checkout, uri.toString(), pathToFileURL(join(work, 'artifacts-postgres')).href);
      try {
        console.log('postgres:', JSON.stringify(await populate(server.url)));
      } finally {
        await server.stop();
      }
      execFileSync('pg_dump', ['--inserts', '--no-owner', '--no-privileges', '--file', join(outDir, `release-${version}.postgres.sql`), '--dbname', uri.toString()], { stdio: 'inherit' });
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
    console.log(`wrote ${join(outDir, `release-${version}.sqlite`)} and ${join(outDir, `release-${version}.postgres.sql`)}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(argv: string[]): Promise<void> {
  const [mode, a, b] = argv;
  if (mode === 'populate' && a) {
    console.log(JSON.stringify(await populate(a.replace(/\/+$/, '')), null, 2));
  } else if (mode === 'fixtures' && a) {
    await fixtures(resolve(a), resolve(b ?? join('test', 'fixtures', 'db')));
  } else {
    throw new Error('usage: make-release-db.js populate <server url> | fixtures <release checkout> [out dir]');
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
