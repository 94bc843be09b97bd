// Audit log verification benchmark: fills a fresh store's audit log with KILN_BENCH_ENTRIES (default 1,000,000)
// hash-chained entries (linked here, inserted in bulk, the head row set to match), then times a full verification:
// AuditLog.verify in this process, and `kiln audit verify --store URI` as a process of its own (what an operator
// runs). SQLite always; PostgreSQL when it is reachable. Target: 1,000,000 entries in at most 10 s. Prints one JSON
// document.
//
//   npm run bench:audit
//   KILN_BENCH_ENTRIES=100000 KILN_BENCH_BACKENDS=sqlite npm run bench:audit
//   KILN_TEST_PG_URI=postgresql://user@host:5432/db npm run bench:audit   # the PostgreSQL server (default the tests')
//   KILN_BENCH_KEEP=1 npm run bench:audit   # keeps the filled stores (their URIs are in the output) for profiling
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS } from '../../src/migrations.js';
import { migrateToLatest, openStore, sqliteFileFromUri } from '../../src/platform/db/index.js';
import { AuditLog } from '../../src/platform/audit/log.js';
import { EMPTY_HEAD, linkEntries, type AuditEntry, type ChainHead, type HashedAuditEntry } from '../../src/platform/audit/chain.js';
import { freshStore, type TestStore } from '../../test/support/backends.js';
import { machine, median, round } from '../support.js';

const ENTRIES = Number(process.env.KILN_BENCH_ENTRIES ?? 1_000_000);
const REPEAT = Number(process.env.KILN_BENCH_REPEAT ?? 3);
const BACKENDS = (process.env.KILN_BENCH_BACKENDS ?? 'sqlite,postgres').split(',').map((s) => s.trim()) as ('sqlite' | 'postgres')[];
const KEEP = process.env.KILN_BENCH_KEEP === '1';
const TARGET_S = 10;
const CHUNK = 10_000;
const BIN = join(process.cwd(), 'bin', 'kiln.js');

const ACTIONS = ['tracking.run_created', 'registry.alias_set', 'registry.version_created', 'data.version_created', 'auth.token_created', 'auth.login'];
const USERS = ['ana', 'bo', 'ci-bot', 'dmitri', 'eve'];

/** Realistic entries, `n` of them from `from` (1-based), linked after `head`. */
function chunk(head: ChainHead, from: number, n: number, t0: number): { entries: HashedAuditEntry[]; head: ChainHead } {
  const raw: Omit<AuditEntry, 'seq' | 'prev_hash'>[] = [];
  for (let i = from; i < from + n; i++) {
    const action = ACTIONS[i % ACTIONS.length]!;
    raw.push({
      time: t0 + i * 10,
      actor: USERS[i % USERS.length]!,
      actor_kind: i % 5 === 2 ? 'service' : 'user',
      auth_method: i % 3 === 0 ? 'password' : 'token',
      source: `10.0.${(i >> 8) & 255}.${i & 255}`,
      request_id: `req-${(i * 2654435761) % 4294967296}-${i}`,
      action,
      resource_type: action.startsWith('auth.') ? 'token' : action.startsWith('data.') ? 'dataset' : 'registered-model',
      resource_id: `resource-${i % 997}`,
      project_id: i % 7,
      outcome: 'ok',
      details: JSON.stringify({ event_id: i, data: { name: `resource-${i % 997}`, version: i % 41, alias: 'champion', note: 'bench' } }),
    });
  }
  return linkEntries(head, raw);
}

const COLUMNS = ['seq', 'time', 'actor', 'actor_kind', 'auth_method', 'source', 'request_id', 'action', 'resource_type', 'resource_id', 'project_id', 'outcome', 'details', 'prev_hash', 'hash'] as const;

/** Fills the audit log of a migrated SQLite file with one prepared statement, a transaction per chunk. */
async function fillSqlite(file: string): Promise<ChainHead> {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    const insert = db.prepare(`insert into audit_log (${COLUMNS.join(', ')}) values (${COLUMNS.map((c) => '@' + c).join(', ')})`);
    const many = db.transaction((rows: HashedAuditEntry[]) => {
      for (const r of rows) insert.run(r);
    });
    let head = EMPTY_HEAD;
    const t0 = Date.now() - ENTRIES * 10;
    for (let from = 1; from <= ENTRIES; from += CHUNK) {
      const c = chunk(head, from, Math.min(CHUNK, ENTRIES - from + 1), t0);
      many(c.entries);
      head = c.head;
    }
    db.prepare('update audit_head set seq = ?, hash = ?').run(head.seq, head.hash);
    db.pragma('wal_checkpoint(TRUNCATE)');
    return head;
  } finally {
    db.close();
  }
}

/** Fills the audit log of a migrated PostgreSQL database: one insert from arrays (unnest) per chunk. */
async function fillPostgres(uri: string): Promise<ChainHead> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: uri });
  await client.connect();
  try {
    const types = ['bigint', 'bigint', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'bigint', 'text', 'text', 'text', 'text'];
    const text = `insert into audit_log (${COLUMNS.join(', ')}) select * from unnest(${types.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})`;
    let head = EMPTY_HEAD;
    const t0 = Date.now() - ENTRIES * 10;
    for (let from = 1; from <= ENTRIES; from += CHUNK) {
      const c = chunk(head, from, Math.min(CHUNK, ENTRIES - from + 1), t0);
      await client.query(
        text,
        COLUMNS.map((col) => c.entries.map((e) => e[col])),
      );
      head = c.head;
    }
    await client.query('update audit_head set seq = $1, hash = $2', [head.seq, head.hash]);
    await client.query('vacuum analyze audit_log');
    return head;
  } finally {
    await client.end();
  }
}

async function measure(backend: 'sqlite' | 'postgres') {
  let fresh: TestStore;
  try {
    fresh = await freshStore(backend);
  } catch (e) {
    return { skipped: `not reachable: ${(e as Error).message}` };
  }
  try {
    const store = await openStore(fresh.uri);
    try {
      await migrateToLatest(store, MIGRATIONS);
    } finally {
      await store.close();
    }
    const f0 = performance.now();
    const head = backend === 'sqlite' ? await fillSqlite(sqliteFileFromUri(fresh.uri)) : await fillPostgres(fresh.uri);
    const fillS = (performance.now() - f0) / 1000;

    // In this process, as the CLI does it: a store opened for the purpose, AuditLog.verify.
    const times: number[] = [];
    let ok = true;
    for (let i = 0; i < REPEAT; i++) {
      const s = await openStore(fresh.uri, { poolSize: 2 });
      try {
        const t0 = performance.now();
        const r = await new AuditLog(s).verify();
        times.push((performance.now() - t0) / 1000);
        ok &&= r.ok && r.entries === ENTRIES && r.head.hash === head.hash;
      } finally {
        await s.close();
      }
    }
    // The acceptance command, start to exit.
    const c0 = performance.now();
    const cli = spawnSync(process.execPath, [BIN, 'audit', 'verify', '--store', fresh.uri], { encoding: 'utf8' });
    const cliS = (performance.now() - c0) / 1000;
    const verifyS = median(times);
    return {
      entries: ENTRIES,
      fill_s: round(fillS, 1),
      verify_s: times.map((t) => round(t)),
      median_verify_s: round(verifyS),
      entries_per_s: Math.round(ENTRIES / verifyS),
      cli_verify_s: round(cliS),
      cli_exit_code: cli.status,
      cli_output: cli.stdout.trim().slice(0, 120),
      ok: ok && cli.status === 0,
      ...(KEEP ? { store: fresh.uri } : {}),
      meets_target: ok && cli.status === 0 && cliS <= TARGET_S * (ENTRIES / 1_000_000),
    };
  } finally {
    if (!KEEP) await fresh.drop();
  }
}

const results: Record<string, unknown> = {};
for (const b of BACKENDS) results[b] = await measure(b);
process.stdout.write(JSON.stringify({ bench: 'audit-verify', machine: { ...machine(), load_avg_1m: round(loadavg()[0]!) }, target: { entries: 1_000_000, verify_s: TARGET_S }, results }, null, 2) + '\n');
