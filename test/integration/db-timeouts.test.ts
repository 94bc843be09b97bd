import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { openStore } from '../../src/platform/db/index.js';
import { toKilnError } from '../../src/platform/http/error-handler.js';
import { STORE_BACKENDS, freshStore } from '../support/backends.js';

if (STORE_BACKENDS.includes('postgres')) {
  describe('PostgreSQL statement timeout', () => {
    it('cancels a query running past it, and the error answers 503, not 500', async () => {
      const ts = await freshStore('postgres');
      const store = await openStore(ts.uri, { statementTimeoutMs: 200 });
      try {
        const started = Date.now();
        const err = await sql`SELECT pg_sleep(5)`.execute(store.db).then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.ok(err, 'the query was cancelled');
        assert.ok(Date.now() - started < 3000, `cancelled after about the timeout (${Date.now() - started} ms)`);
        const ke = toKilnError(err);
        assert.equal(ke.status, 503);
        assert.match(ke.message, /statement timeout/);
        // The connection serves the next query.
        await store.ping();
      } finally {
        await store.close();
        await ts.drop();
      }
    });

    it('is 30 s by default', async () => {
      const ts = await freshStore('postgres');
      const store = await openStore(ts.uri);
      try {
        const r = await sql<{ statement_timeout: string }>`SHOW statement_timeout`.execute(store.db);
        assert.equal(r.rows[0]!.statement_timeout, '30s');
      } finally {
        await store.close();
        await ts.drop();
      }
    });
  });
}
