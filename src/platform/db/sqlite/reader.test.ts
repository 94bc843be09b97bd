import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { openSqlite } from './connect.js';
import { SqliteReadWorker } from './reader.js';
import { toColumns } from '../columns.js';
import { isKilnError } from '../../errors.js';

async function withFile(fn: (file: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-reader-'));
  try {
    await fn(join(dir, 'kiln.db'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const rebuild = (e: { name: string; message: string; code?: string }) => Object.assign(new Error(e.message), { code: e.code });

/** Columns back to rows, to compare with what better-sqlite3 returns on this thread. */
function rows(r: { rowCount: number; columns: readonly ArrayLike<unknown>[] }): unknown[][] {
  return Array.from({ length: r.rowCount }, (_, i) => r.columns.map((c) => c[i]));
}

/** A read that keeps the worker busy for a few hundred milliseconds (a worker ends only between statements). */
const LONG_READ = `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < 2000000) SELECT count(*) FROM s`;

const POINTS = `SELECT value, timestamp, step, is_nan FROM points WHERE run = ? ORDER BY step`;

async function seedPoints(store: Awaited<ReturnType<typeof openSqlite>>, n: number): Promise<void> {
  await sql`CREATE TABLE points (run INTEGER, step INTEGER, timestamp INTEGER, value REAL, is_nan INTEGER, note TEXT)`.execute(store.db);
  await sql`INSERT INTO points WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ${n - 1})
    SELECT 1, i, 1700000000000 + i, i * 0.001 - 3.5, i % 97 = 0, CASE WHEN i % 3 = 0 THEN NULL ELSE 'n' || i END FROM s`.execute(store.db);
}

describe('SQLite reads on the worker thread', () => {
  it('answer exactly what the main thread reads: numbers as Float64Arrays, NULLs and text as arrays', async () => {
    await withFile(async (file) => {
      const store = await openSqlite(file);
      const direct = new BetterSqlite3(file, { readonly: true });
      try {
        await seedPoints(store, 30_000);
        const cases: [string, unknown[]][] = [
          [POINTS, [1]],
          [`SELECT step, note, value FROM points WHERE run = ? AND step < ? ORDER BY step`, [1, 1000]],
          [`SELECT step FROM points WHERE run = ?`, [2]],
          [`SELECT -0.0 AS z, 9007199254740993 AS big, 1e308 * 10 AS inf, x'00ff' AS blob`, []],
        ];
        for (const [text, params] of cases) {
          const got = await store.selectColumns(text, params);
          const want = direct.prepare(text).raw(true).all(params) as unknown[][];
          assert.deepEqual(rows(got), want, text);
          assert.deepEqual(got, toColumns(want, got.columns.length), text);
        }
        const points = await store.selectColumns(POINTS, [1]);
        assert.equal(points.rowCount, 30_000);
        assert.ok(points.columns.every((c) => c instanceof Float64Array));
        const notes = await store.selectColumns(`SELECT step, note FROM points ORDER BY step LIMIT 4`, []);
        assert.ok(notes.columns[0] instanceof Float64Array);
        assert.deepEqual(notes.columns[1], [null, 'n1', 'n2', null]);
      } finally {
        direct.close();
        await store.close();
      }
    });
  });

  it('see every write committed before them (read after write), and nothing uncommitted', async () => {
    await withFile(async (file) => {
      const store = await openSqlite(file);
      try {
        await sql`CREATE TABLE t (a INTEGER)`.execute(store.db);
        for (let i = 1; i <= 50; i++) {
          await sql`INSERT INTO t VALUES (${i})`.execute(store.db);
          const r = await store.selectColumns(`SELECT count(*), max(a) FROM t`, []);
          assert.deepEqual(rows(r), [[i, i]], `the read right after insert ${i} saw it`);
        }
        await store.db.transaction().execute(async (trx) => {
          await sql`INSERT INTO t VALUES (1000)`.execute(trx);
          assert.deepEqual(rows(await store.selectColumns(`SELECT max(a) FROM t`, [])), [[50]], 'an open transaction is not seen');
        });
        assert.deepEqual(rows(await store.selectColumns(`SELECT max(a) FROM t`, [])), [[1000]], 'once committed it is');
      } finally {
        await store.close();
      }
    });
  });

  it('keep the event loop free during a long read', async () => {
    await withFile(async (file) => {
      const store = await openSqlite(file);
      try {
        let ticks = 0;
        let longest = 0;
        let last = performance.now();
        const timer = setInterval(() => {
          const now = performance.now();
          longest = Math.max(longest, now - last);
          last = now;
          ticks++;
        }, 5);
        const started = performance.now();
        const r = await store.selectColumns(`WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < 3000000) SELECT count(*), sum(i) FROM s`, []);
        const took = performance.now() - started;
        clearInterval(timer);
        assert.deepEqual(rows(r), [[3_000_001, 4_500_001_500_000]]);
        assert.ok(took > 100, `the read was long enough to tell (${took.toFixed(0)} ms)`);
        assert.ok(ticks > 5 && longest < took / 2, `a 5 ms timer kept running during a ${took.toFixed(0)} ms read (longest gap ${longest.toFixed(0)} ms)`);
      } finally {
        await store.close();
      }
    });
  });

  it('fail with the driver error for bad SQL, and go on answering', async () => {
    await withFile(async (file) => {
      const store = await openSqlite(file);
      try {
        await assert.rejects(store.selectColumns(`SELECT nope FROM nowhere`, []), (e: Error & { code?: string }) => {
          assert.equal(e.code, 'SQLITE_ERROR');
          assert.match(e.message, /no such table: nowhere/);
          assert.equal(e.name, 'SqliteError');
          return true;
        });
        await assert.rejects(store.selectColumns(`SELECT ?`, []), /Too few parameter values/);
        await assert.rejects(store.selectColumns(`CREATE TABLE x (a)`, []), (e: Error & { code?: string }) => e.code === 'SQLITE_READONLY' || /only for statements that return data/.test(e.message));
        assert.deepEqual(rows(await store.selectColumns(`SELECT 1 + ?`, [1])), [[2]]);
      } finally {
        await store.close();
      }
    });
  });

  it('turn a worker that died into a clear error for the reads it held, and start another for the next read', async () => {
    await withFile(async (file) => {
      const store = await openSqlite(file);
      const reader = new SqliteReadWorker(file, rebuild);
      try {
        await sql`CREATE TABLE t (a INTEGER)`.execute(store.db);
        await sql`INSERT INTO t VALUES (7)`.execute(store.db);
        assert.equal(reader.threadId, undefined, 'no worker before the first read');
        assert.deepEqual(rows(await reader.read(`SELECT a FROM t`, [])), [[7]]);
        const first = reader.threadId;
        assert.ok(first !== undefined);

        const long = assert.rejects(reader.read(LONG_READ, []), (e) => {
          assert.ok(isKilnError(e));
          assert.equal(e.code, 'TEMPORARILY_UNAVAILABLE');
          assert.match(e.message, /read worker stopped/);
          return true;
        });
        await new Promise((r) => setTimeout(r, 50));
        await reader.stopWorker();
        await long;

        assert.deepEqual(rows(await reader.read(`SELECT a + 1 FROM t`, [])), [[8]], 'the next read is answered');
        assert.notEqual(reader.threadId, first, 'by a new worker');
      } finally {
        await reader.close();
        await store.close();
      }
    });
  });

  it('close: safe twice, reads after it fail at once', async () => {
    await withFile(async (file) => {
      const store = await openSqlite(file);
      await store.selectColumns(`SELECT 1`, []);
      await store.close();
      await store.close();
      await assert.rejects(store.selectColumns(`SELECT 1`, []), (e) => isKilnError(e) && e.code === 'TEMPORARILY_UNAVAILABLE');

      const reader = new SqliteReadWorker(file, rebuild);
      const pending = assert.rejects(reader.read(LONG_READ, []), /closed/);
      await new Promise((r) => setTimeout(r, 50));
      await Promise.all([reader.close(), reader.close()]);
      await pending;
      assert.equal(reader.threadId, undefined);
    });
  });

  it('an in-memory database reads on its own connection', async () => {
    const store = await openSqlite(':memory:');
    try {
      await sql`CREATE TABLE t (a INTEGER, b TEXT)`.execute(store.db);
      await sql`INSERT INTO t VALUES (1, 'x'), (2, NULL)`.execute(store.db);
      const r = await store.selectColumns(`SELECT a, b FROM t ORDER BY a`, []);
      assert.deepEqual(rows(r), [
        [1, 'x'],
        [2, null],
      ]);
      assert.ok(r.columns[0] instanceof Float64Array);
    } finally {
      await store.close();
    }
  });
});
