import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { openSqlite } from './connect.js';
import { isKilnError } from '../../errors.js';

/** Another process's connection, played by a second connection in this one. */
async function withFile(fn: (file: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-busy-'));
  try {
    await fn(join(dir, 'kiln.db'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('SQLite with another writer on the same file', () => {
  it('a read-then-write transaction waits for the other write lock, without blocking the event loop, then commits', async () => {
    await withFile(async (file) => {
      const store = await openSqlite(file, undefined, 5000);
      const other = new BetterSqlite3(file);
      try {
        await sql`CREATE TABLE t (a INTEGER)`.execute(store.db);
        other.exec('BEGIN IMMEDIATE; INSERT INTO t VALUES (1)');
        const started = Date.now();
        let timerLate = 0;
        // The other writer commits from a timer of this process: it only can if the wait is asynchronous.
        setTimeout(() => {
          timerLate = Date.now() - started - 200;
          other.exec('COMMIT');
        }, 200);
        const seen = await store.db.transaction().execute(async (trx) => {
          const n = Number((await sql<{ n: number }>`SELECT count(*) AS n FROM t`.execute(trx)).rows[0]!.n);
          await sql`INSERT INTO t VALUES (${n + 1})`.execute(trx);
          return n;
        });
        assert.equal(seen, 1, 'the transaction started after the other one committed, and saw its row');
        assert.ok(timerLate < 100, `the event loop stayed free while waiting (timer ${timerLate} ms late)`);
        const rows = (await sql<{ a: number }>`SELECT a FROM t ORDER BY a`.execute(store.db)).rows.map((r) => r.a);
        assert.deepEqual(rows, [1, 2]);
      } finally {
        other.close();
        await store.close();
      }
    });
  });

  it('a statement outside a transaction waits too', async () => {
    await withFile(async (file) => {
      const store = await openSqlite(file, undefined, 5000);
      const other = new BetterSqlite3(file);
      try {
        await sql`CREATE TABLE t (a INTEGER)`.execute(store.db);
        other.exec('BEGIN IMMEDIATE; INSERT INTO t VALUES (1)');
        setTimeout(() => other.exec('COMMIT'), 150);
        await sql`INSERT INTO t VALUES (2)`.execute(store.db);
        assert.equal(Number((await sql<{ n: number }>`SELECT count(*) AS n FROM t`.execute(store.db)).rows[0]!.n), 2);
      } finally {
        other.close();
        await store.close();
      }
    });
  });

  it('past the busy timeout the write fails as TEMPORARILY_UNAVAILABLE (503), not as an internal error', async () => {
    await withFile(async (file) => {
      const store = await openSqlite(file, undefined, 300);
      const other = new BetterSqlite3(file);
      try {
        await sql`CREATE TABLE t (a INTEGER)`.execute(store.db);
        other.exec('BEGIN IMMEDIATE; INSERT INTO t VALUES (1)');
        const started = Date.now();
        await assert.rejects(
          store.db.transaction().execute(async (trx) => {
            await sql`INSERT INTO t VALUES (2)`.execute(trx);
          }),
          (e: unknown) => isKilnError(e) && e.code === 'TEMPORARILY_UNAVAILABLE' && e.status === 503 && /busy/.test(e.message),
        );
        const waited = Date.now() - started;
        assert.ok(waited >= 250 && waited < 3000, `gave up after about the busy timeout (${waited} ms)`);
        other.exec('COMMIT');
        // The lock is free again: the next write passes.
        await sql`INSERT INTO t VALUES (3)`.execute(store.db);
      } finally {
        other.close();
        await store.close();
      }
    });
  });
});
