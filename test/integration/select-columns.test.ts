import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { openStore, type MetadataStore } from '../../src/platform/db/index.js';
import { toKilnError } from '../../src/platform/http/error-handler.js';
import { STORE_BACKENDS, freshStore } from '../support/backends.js';

/** Columns back to rows. */
function rows(r: { rowCount: number; columns: readonly ArrayLike<unknown>[] }): unknown[][] {
  return Array.from({ length: r.rowCount }, (_, i) => r.columns.map((c) => c[i]));
}

async function withStore(backend: 'sqlite' | 'postgres', fn: (store: MetadataStore) => Promise<void>, opts: { statementTimeoutMs?: number } = {}): Promise<void> {
  const ts = await freshStore(backend);
  const store = await openStore(ts.uri, opts);
  try {
    await fn(store);
  } finally {
    await store.close();
    await ts.drop();
  }
}

for (const backend of STORE_BACKENDS) {
  describe(`selectColumns on ${backend}`, () => {
    const p = (i: number) => (backend === 'sqlite' ? '?' : `$${i}`);

    it('answers the rows a plain query answers, column by column, at every batch boundary', async () => {
      await withStore(backend, async (store) => {
        await sql`CREATE TABLE pts (n BIGINT NOT NULL, v DOUBLE PRECISION NOT NULL, note TEXT)`.execute(store.db);
        const n = 4500;
        if (backend === 'sqlite') {
          await sql`INSERT INTO pts WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ${n - 1})
            SELECT i, i * 0.25 - 7, CASE WHEN i % 5 = 0 THEN NULL ELSE 'x' || i END FROM s`.execute(store.db);
        } else {
          await sql`INSERT INTO pts SELECT i, i * 0.25 - 7, CASE WHEN i % 5 = 0 THEN NULL ELSE 'x' || i END FROM generate_series(0, ${n - 1}) AS i`.execute(store.db);
        }
        for (const limit of [0, 1, 1999, 2000, 2001, 4000, n]) {
          const got = await store.selectColumns(`SELECT n, v, note FROM pts ORDER BY n LIMIT ${p(1)}`, [limit]);
          const want = (await sql<{ n: number; v: number; note: string | null }>`SELECT n, v, note FROM pts ORDER BY n LIMIT ${limit}`.execute(store.db)).rows;
          assert.equal(got.rowCount, want.length, `LIMIT ${limit}`);
          assert.deepEqual(
            rows(got),
            want.map((r) => [Number(r.n), Number(r.v), r.note]),
            `LIMIT ${limit}`,
          );
          assert.ok(got.columns[0] instanceof Float64Array && got.columns[1] instanceof Float64Array, 'numbers come as Float64Arrays');
          if (limit > 1) assert.ok(Array.isArray(got.columns[2]), 'a column with NULLs and text as an array');
        }
      });
    });

    it('answers many reads at once, each its own rows', async () => {
      await withStore(backend, async (store) => {
        const seq = backend === 'sqlite' ? `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${p(1)}) SELECT i FROM s` : `SELECT i FROM generate_series(1, ${p(1)}::int) AS i`;
        const sizes = [3000, 10, 5000, 2, 2500, 7000, 1, 4100];
        const answers = await Promise.all(sizes.map((k) => store.selectColumns(seq, [k])));
        answers.forEach((a, j) => {
          assert.equal(a.rowCount, sizes[j]);
          assert.deepEqual(Array.from(a.columns[0]!), Array.from({ length: sizes[j]! }, (_, i) => i + 1));
        });
        await store.ping();
      });
    });

    it('fails with the driver error for bad SQL, and the store goes on answering', async () => {
      await withStore(backend, async (store) => {
        await assert.rejects(store.selectColumns(`SELECT nope FROM nowhere`, []), (e: Error & { code?: string }) => {
          assert.equal(toKilnError(e).status, 500, 'a bug, not a client error');
          return /nowhere/.test(e.message);
        });
        assert.deepEqual(rows(await store.selectColumns(`SELECT 1 + ${p(1)}`, [1])), [[2]]);
        await store.ping();
      });
    });

    if (backend === 'postgres') {
      it('is cancelled by the statement timeout, which answers 503, and the pool goes on', async () => {
        await withStore(
          backend,
          async (store) => {
            const err = await store.selectColumns(`SELECT pg_sleep(5)`, []).then(
              () => undefined,
              (e: unknown) => e,
            );
            assert.ok(err, 'the read was cancelled');
            assert.equal(toKilnError(err).status, 503);
            assert.deepEqual(rows(await store.selectColumns(`SELECT 2`, [])), [[2]]);
          },
          { statementTimeoutMs: 200 },
        );
      });
    }
  });
}
