import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql, type Transaction } from 'kysely';
import { MIGRATIONS } from '../../src/migrations.js';
import { migrateToLatest, openStore, type MetadataStore } from '../../src/platform/db/index.js';
import { EventLog } from '../../src/platform/events/log.js';
import type { EventTables } from '../../src/platform/events/tables.js';
import { AuditLog, detailsJson, MAX_DETAILS_LENGTH } from '../../src/platform/audit/log.js';
import { GENESIS_HASH, type HashedAuditEntry } from '../../src/platform/audit/chain.js';
import { runInContext } from '../../src/platform/auth/context.js';
import type { Principal } from '../../src/platform/auth/principal.js';
import { AuditHeadPublisher } from '../../src/platform/audit/publish.js';
import { createHttpApp } from '../../src/platform/http/app.js';
import { ServerMetrics } from '../../src/platform/http/metrics.js';
import { KilnError } from '../../src/platform/errors.js';
import { rule } from '../../src/platform/auth/rules.js';
import { pino } from 'pino';
import { STORE_BACKENDS, freshStore } from '../support/backends.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const ana: Principal = { kind: 'user', id: '7', name: 'ana', admin: false, method: 'token', scopes: ['read', 'write'], tokenId: 'abcdefgh1234' };

/** A fresh, migrated store; `run` gets it and the event log (with its audit log) on it. */
async function withStore(backend: 'sqlite' | 'postgres', run: (store: MetadataStore, events: EventLog) => Promise<void>): Promise<void> {
  const ts = await freshStore(backend);
  const store = await openStore(ts.uri, { poolSize: 24 });
  try {
    await migrateToLatest(store, MIGRATIONS);
    const events = new EventLog(store);
    try {
      await run(store, events);
    } finally {
      await events.close();
    }
  } finally {
    await store.close();
    await ts.drop();
  }
}

async function all(audit: AuditLog): Promise<HashedAuditEntry[]> {
  return (await audit.list({}, { limit: 100_000, order: 'asc' })).entries;
}

for (const backend of STORE_BACKENDS) {
  describe(`audit log on ${backend}`, () => {
    it('starts empty at the genesis head, and verifies', async () => {
      await withStore(backend, async (_store, { audit }) => {
        assert.deepEqual(await audit.head(), { seq: 0, hash: GENESIS_HASH });
        const r = await audit.verify();
        assert.deepEqual({ ok: r.ok, entries: r.entries, head: r.head }, { ok: true, entries: 0, head: { seq: 0, hash: GENESIS_HASH } });
      });
    });

    it("appends at the end of the change's transaction, attributed from the request context; a rollback leaves nothing", async () => {
      await withStore(backend, async (store, { audit }) => {
        await audit.transaction(store.db, async (_trx, record) => {
          record({ action: 'test.first' });
          record({ action: 'test.second', resourceType: 'thing', resourceId: 'x', projectId: 3, details: { n: 1 } });
        });
        await runInContext({ principal: ana, requestId: 'req-1', source: '10.0.0.1' }, () =>
          audit.transaction(store.db, async (_trx, record) => record({ action: 'test.third', outcome: 'denied' })),
        );
        await assert.rejects(
          audit.transaction(store.db, async (_trx, record) => {
            record({ action: 'test.rolled_back' });
            throw new Error('no');
          }),
          /no/,
        );
        const entries = await all(audit);
        assert.deepEqual(
          entries.map((e) => [e.seq, e.action, e.actor, e.actor_kind, e.auth_method, e.source, e.request_id, e.outcome]),
          [
            [1, 'test.first', 'system', 'system', 'system', null, null, 'ok'],
            [2, 'test.second', 'system', 'system', 'system', null, null, 'ok'],
            [3, 'test.third', 'ana', 'user', 'token', '10.0.0.1', 'req-1', 'denied'],
          ],
        );
        assert.deepEqual([entries[1]!.resource_type, entries[1]!.resource_id, entries[1]!.project_id, entries[1]!.details], ['thing', 'x', 3, '{"n":1}']);
        assert.equal(entries[0]!.prev_hash, GENESIS_HASH);
        assert.equal(entries[1]!.prev_hash, entries[0]!.hash);
        assert.deepEqual(await audit.head(), { seq: 3, hash: entries[2]!.hash });
        const alone = await audit.recordAlone({ action: 'auth.login_failed', outcome: 'denied' }, { actor: 'anonymous', actorKind: 'anonymous', authMethod: 'password', source: '10.0.0.2', requestId: 'req-2' });
        assert.equal(alone.seq, 4);
        const r = await audit.verify({ pageSize: 2 });
        assert.deepEqual({ ok: r.ok, entries: r.entries, head: r.head.seq, stored: r.storedHead?.seq }, { ok: true, entries: 4, head: 4, stored: 4 });
      });
    });

    it('gives every event appended its entry, in one order with the entries recorded without an event', async () => {
      await withStore(backend, async (store, events) => {
        const now = Date.now();
        await events.transaction(store.db, async (_trx, emit, audit) => {
          emit({ type: 'registry.alias_set', actor: 'ana', time: now, subject: 'churn', subjectKind: 'registered-model', data: { alias: 'prod', version: '3' } });
          audit({ action: 'test.explicit', resourceType: 'thing', resourceId: 't1' });
          emit({ type: 'data.version_created', actor: 'ana', time: now, subject: 'weather', data: { version: 2, blob: 'x'.repeat(10_000) } });
        });
        // Through append, in a transaction of the caller's.
        await store.db.transaction().execute(async (trx) => {
          await events.append(trx as Transaction<EventTables>, [{ type: 'data.validation_recorded', actor: 'bo', time: now, subject: 'weather', subjectKind: 'dataset', data: {} }], [{ action: 'test.after' }]);
        });
        // Only audit entries: no event, no event id used up.
        await events.transaction(store.db, async (_trx, _emit, audit) => audit({ action: 'test.alone' }));
        const entries = await all(events.audit);
        assert.deepEqual(
          entries.map((e) => [e.action, e.resource_type, e.resource_id]),
          [
            ['registry.alias_set', 'registered-model', 'churn'],
            ['test.explicit', 'thing', 't1'],
            ['data.version_created', 'data', 'weather'],
            ['data.validation_recorded', 'dataset', 'weather'],
            ['test.after', null, null],
            ['test.alone', null, null],
          ],
        );
        const ids = (await events.read(0, 10)).map((e) => e.id);
        assert.deepEqual(ids, [1, 2, 3]);
        const details = entries.map((e) => JSON.parse(e.details) as { event_id?: number; data?: Record<string, unknown>; trimmed?: boolean });
        assert.deepEqual([details[0]!.event_id, details[2]!.event_id, details[3]!.event_id], [1, 2, 3]);
        assert.deepEqual(details[0]!.data, { alias: 'prod', version: '3' });
        assert.ok(entries[2]!.details.length <= MAX_DETAILS_LENGTH && details[2]!.trimmed === true, 'a large event is trimmed in its entry');
        assert.equal((await events.audit.verify()).ok, true);
      });
    });

    it('lists newest first with filters and keyset pages', async () => {
      await withStore(backend, async (store, { audit }) => {
        const t0 = Date.now();
        await audit.transaction(store.db, async (_trx, record) => {
          for (let i = 1; i <= 12; i++) record({ action: i % 3 === 0 ? 'auth.token_created' : 'registry.alias_set', resourceType: 'token', resourceId: `t${i % 2}`, outcome: i === 5 ? 'denied' : 'ok' });
        });
        await runInContext({ principal: ana, requestId: 'r', source: '::1' }, () => audit.recordAlone({ action: 'auth.login' }));
        const seqs = (p: { entries: HashedAuditEntry[] }) => p.entries.map((e) => e.seq);
        const first = await audit.list({}, { limit: 5 });
        assert.deepEqual(seqs(first), [13, 12, 11, 10, 9]);
        assert.equal(first.next, 9);
        assert.deepEqual(seqs(await audit.list({}, { limit: 5, after: first.next })), [8, 7, 6, 5, 4]);
        const last = await audit.list({}, { limit: 5, after: 4 });
        assert.deepEqual([seqs(last), last.next], [[3, 2, 1], undefined]);
        assert.deepEqual(seqs(await audit.list({}, { limit: 3, order: 'asc', after: 10 })), [11, 12, 13]);
        assert.deepEqual(seqs(await audit.list({ action: 'auth.token_created' }, { limit: 50 })), [12, 9, 6, 3]);
        assert.deepEqual(seqs(await audit.list({ action: 'auth.*' }, { limit: 50 })), [13, 12, 9, 6, 3]);
        assert.deepEqual(seqs(await audit.list({ action: 'auth_*' }, { limit: 50 })), [], '_ in a prefix is literal');
        assert.deepEqual(seqs(await audit.list({ actor: 'ana' }, { limit: 50 })), [13]);
        assert.deepEqual(seqs(await audit.list({ resourceType: 'token', resourceId: 't0', action: 'auth.*' }, { limit: 50 })), [12, 6]);
        assert.deepEqual(seqs(await audit.list({ outcome: 'denied' }, { limit: 50 })), [5]);
        assert.deepEqual(seqs(await audit.list({ since: t0 - 60_000, until: t0 - 1 }, { limit: 50 })), []);
        assert.equal((await audit.list({ since: t0 }, { limit: 50 })).entries.length, 13);
      });
    });

    it('verify names a modified entry across pages, and a head row that is not the last entry', async () => {
      await withStore(backend, async (store, { audit }) => {
        for (let i = 0; i < 5; i++) await audit.transaction(store.db, async (_trx, record) => [1, 2, 3, 4, 5].forEach((n) => record({ action: 'test.x', details: { i, n } })));
        assert.equal((await audit.verify({ pageSize: 7 })).ok, true);
        await sql`update audit_log set details = '{"i":9}' where seq = 18`.execute(store.db);
        const r = await audit.verify({ pageSize: 7 });
        assert.deepEqual([r.ok, r.firstBad?.seq, r.firstBad?.problem], [false, 18, 'modified']);
        assert.equal(r.entries, 18, 'reading stops at the first bad entry');
        await sql`update audit_log set details = '{"i":3,"n":3}' where seq = 18`.execute(store.db);
        assert.equal((await audit.verify()).ok, true);
        await sql`update audit_head set seq = 30`.execute(store.db);
        const cut = await audit.verify();
        assert.deepEqual([cut.firstBad?.seq, cut.firstBad?.problem], [26, 'truncated']);
        await sql`update audit_head set seq = 25`.execute(store.db);
        assert.equal((await audit.verify()).ok, true);
        await sql`insert into audit_head (seq, hash) values (25, 'x')`.execute(store.db);
        assert.deepEqual((await audit.verify()).firstBad?.problem, 'head-mismatch');
      });
    });

    it('stores any text so that it verifies: unicode, quotes, control characters, NUL and lone surrogates', async () => {
      await withStore(backend, async (store, { audit }) => {
        const odd = ['ünïcødé 日本 😀', 'quote"back\\slash/', 'ctl\u0001\b\t\n\f\r\u001f\u007f', '\u2028\u2029', 'nul\u0000here', 'lone\ud800half', 'lone\udfffhalf'];
        for (const text of odd) {
          await audit.recordAlone({ action: 'test.odd', resourceType: text, resourceId: text, details: { text } }, { actor: text, actorKind: 'user', authMethod: 'password', source: text, requestId: text });
        }
        const r = await audit.verify();
        assert.deepEqual([r.ok, r.entries], [true, odd.length], JSON.stringify(r.firstBad));
        const stored = await all(audit);
        assert.equal(stored[4]!.actor, 'nul\ufffdhere');
        assert.deepEqual(JSON.parse(stored[4]!.details), { text: 'nul\u0000here' });
        // A value the database writes in another canonical form (SQLite: an integer stored as a real) is checked again here.
        await sql`update audit_log set time = time + 0.0 where seq = 2`.execute(store.db);
        assert.equal((await audit.verify()).ok, true);
      });
    });

    it('publishes the head in the log, at start and then at every interval', async () => {
      await withStore(backend, async (store, { audit }) => {
        await audit.recordAlone({ action: 'test.one' });
        const lines: { msg: string; seq: number; hash: string; audit_head: string }[] = [];
        const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
        const publisher = new AuditHeadPublisher(audit, logger, 30, () => {});
        publisher.start();
        try {
          while (lines.length < 1) await sleep(5);
          const head = await audit.head();
          assert.deepEqual(lines[0], { ...lines[0], msg: 'audit head', seq: 1, hash: head.hash, audit_head: `1:${head.hash}` });
          await audit.recordAlone({ action: 'test.two' });
          const moved = await audit.head();
          for (let i = 0; i < 200 && !lines.some((l) => l.seq === 2); i++) await sleep(10);
          assert.ok(lines.some((l) => l.seq === 2 && l.hash === moved.hash), JSON.stringify(lines));
        } finally {
          await publisher.stop();
        }
      });
    });

    it('records refused requests and failed changes (not failed reads) before the answer leaves', async () => {
      await withStore(backend, async (_store, { audit }) => {
        const app = await createHttpApp({ logger: pino({ level: 'silent' }), bodyLimit: 1024, metrics: new ServerMetrics(), version: 'test', healthCheck: async () => {}, webRoot: false, audit });
        const fail = (code: 'PERMISSION_DENIED' | 'INTERNAL_ERROR') => async () => {
          throw new KilnError(code, 'no');
        };
        app.post('/things/:id', { config: { permission: rule.public } }, fail('PERMISSION_DENIED'));
        app.post('/broken', { config: { permission: rule.public } }, fail('INTERNAL_ERROR'));
        app.get('/broken', { config: { permission: rule.public } }, fail('INTERNAL_ERROR'));
        await app.ready();
        try {
          const denied = await app.inject({ method: 'POST', url: '/things/42?secret=x', headers: { 'x-kiln-user': 'ana', 'x-request-id': 'req-9' } });
          assert.equal(denied.statusCode, 403);
          // On record by the time the answer is there.
          assert.equal((await all(audit)).length, 1);
          assert.equal((await app.inject({ method: 'GET', url: '/broken' })).statusCode, 500);
          assert.equal((await app.inject({ method: 'POST', url: '/broken' })).statusCode, 500);
          const entries = await all(audit);
          assert.deepEqual(
            entries.map((e) => [e.action, e.outcome, e.actor, e.auth_method, e.request_id, e.resource_type, e.resource_id, JSON.parse(e.details)]),
            [
              ['http.request_denied', 'denied', 'ana', 'none', 'req-9', 'route', 'POST /things/:id', { status: 403, path: '/things/42' }],
              ['http.request_failed', 'failed', 'anonymous', 'none', entries[1]!.request_id, 'route', 'POST /broken', { status: 500, path: '/broken' }],
            ],
          );
        } finally {
          await app.close();
        }
      });
    });

    it('concurrent appending transactions commit a gapless, valid chain, verified while they run', async () => {
      await withStore(backend, async (store, events) => {
        const audit = events.audit;
        let expected = 0;
        const work = Array.from({ length: 48 }, async (_, i) => {
          await sleep(i % 7);
          if (i % 11 === 0) {
            await audit.recordAlone({ action: 'test.alone', details: { i } });
            expected += 1;
            return;
          }
          const n = 1 + (i % 3);
          try {
            await events.transaction(store.db, async (_trx, emit, record) => {
              for (let k = 0; k < n; k++) record({ action: 'test.concurrent', details: { i, k } });
              if (i % 4 === 0) emit({ type: 'test.happened', actor: 'tester', time: Date.now(), data: { i } });
              // Work inside the transaction, before the append at its end, while others append.
              await sleep(1 + (i % 5));
              if (i % 13 === 5) throw new Error('rolled back');
            });
            expected += n + (i % 4 === 0 ? 1 : 0);
          } catch (e) {
            if ((e as Error).message !== 'rolled back') throw e;
          }
        });
        const during = (async () => {
          const reports = [];
          for (let k = 0; k < 3; k++) {
            reports.push(await audit.verify({ pageSize: 5 }));
            await sleep(5);
          }
          return reports;
        })();
        await Promise.all(work);
        for (const r of await during) assert.equal(r.ok, true, JSON.stringify(r.firstBad));
        const entries = await all(audit);
        assert.deepEqual(
          entries.map((e) => e.seq),
          Array.from({ length: expected }, (_, i) => i + 1),
        );
        const r = await audit.verify({ pageSize: 10 });
        assert.deepEqual({ ok: r.ok, entries: r.entries, stored: r.storedHead?.seq }, { ok: true, entries: expected, stored: expected });
      });
    });
  });
}

describe('audit entry details', () => {
  it('redact string values under secret-looking keys, at any depth, and keep token ids', () => {
    const json = detailsJson({ user: 'ana', password: 'hunter2', nested: { client_secret: 's3', token: 'kiln_x_y', token_id: 'abc', ok: true }, has_secret: true });
    assert.deepEqual(JSON.parse(json), { user: 'ana', password: '[redacted]', nested: { client_secret: '[redacted]', token: '[redacted]', token_id: 'abc', ok: true }, has_secret: true });
    assert.equal(detailsJson(undefined), '{}');
  });
  it('trim to the bound: long strings and arrays cut, deep values dropped, and say so', () => {
    const big = { name: 'm', notes: 'n'.repeat(50_000), tags: Array.from({ length: 500 }, (_, i) => `t${i}`), deep: { a: { b: { c: { d: { e: 'x'.repeat(5000) } } } } } };
    const json = detailsJson(big);
    assert.ok(json.length <= MAX_DETAILS_LENGTH, String(json.length));
    const parsed = JSON.parse(json) as Record<string, unknown>;
    assert.equal(parsed.trimmed, true);
    assert.equal(parsed.name, 'm');
    const tiny = detailsJson(big, 40);
    assert.ok(tiny.length <= 40, tiny);
    assert.equal((JSON.parse(tiny) as { trimmed: boolean }).trimmed, true);
  });
});
