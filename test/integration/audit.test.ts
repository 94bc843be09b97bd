import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sql } from 'kysely';
import { loadConfig } from '../../src/platform/config.js';
import { createServer, type KilnServer } from '../../src/server.js';
import { openStore, type MetadataStore } from '../../src/platform/db/index.js';
import { linkEntries, type HashedAuditEntry } from '../../src/platform/audit/chain.js';
import { AuditLog } from '../../src/platform/audit/log.js';
import { freshStore, STORE_BACKENDS, tempDir, type TestStore } from '../support/backends.js';
import { call, TEST_SCRYPT, basicAuth } from '../support/server.js';
import { kiln, shell } from '../support/cli.js';

const basic = basicAuth;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });


const ROOT_PASSWORD = 'correct horse battery';
const WRONG_PASSWORD = 'wrong-password-Zq81';

for (const backend of STORE_BACKENDS) {
  describe(`the audit log of a server with --auth on (${backend})`, () => {
    let store: TestStore;
    let dir: string;
    let server: KilnServer;
    let url: string;
    let env: Record<string, string>;
    const root = basic('root', ROOT_PASSWORD);
    /** Secrets that must never reach the log. */
    const secrets: string[] = [ROOT_PASSWORD, WRONG_PASSWORD];
    let rootToken: string;

    before(async () => {
      store = await freshStore(backend);
      dir = tempDir('kiln-audit-');
      const config = loadConfig(
        { host: '127.0.0.1', port: 0, storeUri: store.uri, artifactsUri: pathToFileURL(join(dir, 'artifacts')).href, logLevel: 'silent', home: dir, auth: 'on' },
        {},
      );
      server = await createServer(config, { capabilities: { governance: { scrypt: TEST_SCRYPT, env: { KILN_ADMIN_USER: 'root', KILN_ADMIN_PASSWORD: ROOT_PASSWORD } } } });
      url = await server.listen();
      env = { KILN_TRACKING_URI: url, KILN_CREDENTIALS: join(dir, 'credentials.json'), KILN_TOKEN: '', KILN_USERNAME: '', KILN_PASSWORD: '', MLFLOW_TRACKING_TOKEN: '', MLFLOW_TRACKING_USERNAME: '', MLFLOW_TRACKING_PASSWORD: '' };
    });
    after(async () => {
      await server?.close();
      await store?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    const entries = async (query = ''): Promise<HashedAuditEntry[]> => {
      const r = await call(url, 'GET', `/api/v1/audit?order=asc&max_results=1000${query}`, undefined, root);
      assert.equal(r.status, 200, r.text);
      return r.body.entries;
    };

    it('records the changes with who made them, how and from where, each in the transaction of its change', async () => {
      const made = await call(url, 'POST', '/api/v1/users', { name: 'ana', password: 'ana password 1' }, root);
      assert.equal(made.status, 201, made.text);
      assert.equal((await call(url, 'PATCH', '/api/v1/users/ana', { admin: true, display_name: 'Ana' }, root)).status, 200);
      assert.equal((await call(url, 'PATCH', '/api/v1/users/ana', { admin: false }, root)).status, 200);
      const token = await call(url, 'POST', '/api/v1/tokens', { name: 'laptop' }, basic('ana', 'ana password 1'));
      assert.equal(token.status, 201, token.text);
      secrets.push(token.body.token, token.body.token.split('_')[2]);
      const tokenRequest = token.headers.get('x-request-id');
      assert.equal((await call(url, 'DELETE', '/api/v1/tokens/laptop', undefined, bearer(token.body.token))).status, 200);
      assert.equal((await call(url, 'PUT', '/api/v1/users/ana/password', { password: 'ana password 2' }, root)).status, 204);
      secrets.push('ana password 1', 'ana password 2');
      assert.equal((await call(url, 'POST', '/api/v1/users', { name: 'gone', kind: 'service' }, root)).status, 201);
      assert.equal((await call(url, 'DELETE', '/api/v1/users/gone', undefined, root)).status, 204);
      // A change refused by the service leaves no entry of its own (its transaction never ran).
      assert.equal((await call(url, 'POST', '/api/v1/users', { name: 'ana', password: 'ana password 1' }, root)).status, 409);
      const admin = await call(url, 'POST', '/api/v1/tokens', { name: 'admin', scopes: ['read', 'write', 'admin'] }, root);
      rootToken = admin.body.token;
      secrets.push(rootToken);

      const log = await entries();
      const actions = log.map((e) => e.action);
      assert.deepEqual(
        actions.filter((a) => !a.startsWith('auth.login')),
        ['auth.user_created', 'auth.user_created', 'auth.admin_granted', 'auth.user_updated', 'auth.admin_revoked', 'auth.token_created', 'auth.token_revoked', 'auth.password_changed', 'auth.user_created', 'auth.user_deleted', 'auth.token_created'],
      );
      // The first admin, created by the server itself at start.
      assert.deepEqual([log[0]!.actor, log[0]!.actor_kind, log[0]!.auth_method, log[0]!.source, log[0]!.resource_id], ['system', 'system', 'system', null, 'root']);
      const created = log.find((e) => e.action === 'auth.token_created')!;
      assert.deepEqual(
        [created.actor, created.actor_kind, created.auth_method, created.source, created.request_id, created.resource_type, created.outcome],
        ['ana', 'user', 'password', '127.0.0.1', tokenRequest, 'token', 'ok'],
      );
      assert.deepEqual(created.details, { user: 'ana', name: 'laptop', scopes: ['read', 'write'], expiry_time: null });
      const revoked = log.find((e) => e.action === 'auth.token_revoked')!;
      assert.deepEqual([revoked.actor, revoked.auth_method, revoked.resource_id], ['ana', 'token', created.resource_id]);
      assert.deepEqual(log.find((e) => e.action === 'auth.user_updated')!.details, { changed: ['display_name'] });
      // A password checked (not remembered) is a sign-in.
      const logins = log.filter((e) => e.action === 'auth.login');
      assert.ok(logins.some((e) => e.actor === 'ana' && e.auth_method === 'password'), JSON.stringify(logins));
      assert.deepEqual(
        log.map((e) => e.seq),
        log.map((_, i) => i + 1),
      );
    });

    it('records a refused sign-in with what was tried but no secret, and a refused request', async () => {
      assert.equal((await call(url, 'GET', '/api/v1/auth/whoami', undefined, basic('root', WRONG_PASSWORD))).status, 401);
      const fake = `kiln_AAAAAAAAAAAA_${'B'.repeat(43)}`;
      secrets.push('B'.repeat(43));
      assert.equal((await call(url, 'GET', '/api/v1/auth/whoami', undefined, bearer(fake))).status, 401);
      assert.equal((await call(url, 'GET', '/api/v1/auth/whoami', undefined, { authorization: 'kiln_secretwithoutscheme' })).status, 401);
      secrets.push('kiln_secretwithoutscheme');
      assert.equal((await call(url, 'GET', '/api/v1/users', undefined, basic('ana', 'ana password 2'))).status, 403);
      const failed = await entries('&action=auth.login_failed');
      assert.deepEqual(
        failed.map((e) => [e.actor, e.auth_method, e.resource_type, e.resource_id, e.outcome, e.source]),
        [
          ['anonymous', 'password', 'user', 'root', 'denied', '127.0.0.1'],
          ['anonymous', 'token', 'token', 'AAAAAAAAAAAA', 'denied', '127.0.0.1'],
          ['anonymous', 'none', null, null, 'denied', '127.0.0.1'],
        ],
      );
      const denied = await entries('&outcome=denied&action=http.*');
      assert.deepEqual(
        denied.map((e) => [e.actor, e.action, e.resource_id, (e.details as unknown as { status: number }).status]),
        [['ana', 'http.request_denied', 'GET /api/v1/users', 403]],
      );
      const everything = JSON.stringify(await entries());
      for (const s of secrets) assert.ok(!everything.includes(s), `a secret (${s.slice(0, 6)}…) is in the audit log`);
    });

    it('serves the log and its head to admins only, and publishes the head on /metrics', async () => {
      assert.equal((await call(url, 'GET', '/api/v1/audit', undefined, basic('ana', 'ana password 2'))).status, 403);
      assert.equal((await call(url, 'GET', '/api/v1/audit/head')).status, 401);
      const head = await call(url, 'GET', '/api/v1/audit/head', undefined, bearer(rootToken));
      assert.equal(head.status, 200, head.text);
      const log = await entries();
      // Reading the log changes nothing; the refused read above is the last entry.
      assert.deepEqual(head.body, { seq: log.length, hash: log[log.length - 1]!.hash });
      const metrics = (await call(url, 'GET', '/metrics')).text;
      assert.match(metrics, new RegExp(`^kiln_audit_head_seq ${head.body.seq}$`, 'm'));
      assert.match(metrics, new RegExp(`^kiln_audit_head_info\\{hash="${head.body.hash}"\\} 1$`, 'm'));
      // Pages, newest first.
      const first = await call(url, 'GET', '/api/v1/audit?max_results=2', undefined, root);
      assert.deepEqual(first.body.entries.map((e: HashedAuditEntry) => e.seq), [log.length, log.length - 1]);
      const second = await call(url, 'GET', `/api/v1/audit?max_results=2&page_token=${first.body.next_page_token}`, undefined, root);
      assert.deepEqual(second.body.entries.map((e: HashedAuditEntry) => e.seq), [log.length - 2, log.length - 3]);
      assert.equal((await call(url, 'GET', '/api/v1/audit?page_token=nonsense', undefined, root)).status, 400);
    });

    it('kiln audit list and export go through the API with the same filters', async () => {
      const auth = { ...env, KILN_TOKEN: rootToken };
      const list = await kiln(['audit', 'list', '--action', 'auth.token_*', '--since', '1h'], auth);
      assert.equal(list.code, 0, list.err);
      const lines = list.out.trim().split('\n');
      assert.match(lines[0]!, /^SEQ\s+TIME\s+ACTOR\s+AUTH\s+SOURCE\s+ACTION\s+RESOURCE\s+OUTCOME$/);
      assert.deepEqual(
        lines.slice(2).map((l) => l.split(/\s+/)[3]),
        ['root', 'ana', 'ana'],
      );
      assert.match(lines[3]!, /auth\.token_revoked\s+token:\S{12}\s+ok$/);
      const exported = await kiln(['audit', 'export'], auth);
      assert.equal(exported.code, 0, exported.err);
      const rows = exported.out.trim().split('\n').map((l) => JSON.parse(l) as HashedAuditEntry);
      const head = (await call(url, 'GET', '/api/v1/audit/head', undefined, root)).body;
      assert.deepEqual(
        rows.map((e) => e.seq),
        Array.from({ length: head.seq }, (_, i) => i + 1),
      );
      const ana = await kiln(['audit', 'export', '--actor', 'ana', '--outcome', 'ok'], auth);
      assert.ok(ana.out.trim().split('\n').every((l) => (JSON.parse(l) as HashedAuditEntry).actor === 'ana'));
      assert.equal((await kiln(['audit', 'list', '--since', 'yesterday-ish'], auth)).code, 2);
      assert.equal((await kiln(['audit', 'list'], env)).code, 1, 'no credentials: refused');
    });

    describe('kiln audit verify --store, after the rows are tampered with in SQL', () => {
      let db: MetadataStore;
      let original: HashedAuditEntry[];
      let last: number;
      const verify = (...args: string[]) => kiln(['audit', 'verify', '--store', store.uri, ...args], env);
      const rows = async () => (await sql<HashedAuditEntry>`select * from audit_log order by seq`.execute(db.db)).rows;
      /** Puts the log and its head back as they were. */
      const restore = async () => {
        await sql`delete from audit_log`.execute(db.db);
        const t = db.db.withTables<{ audit_log: HashedAuditEntry }>();
        await t.insertInto('audit_log').values(original).execute();
        await sql`update audit_head set seq = ${last}, hash = ${original[last - 1]!.hash}`.execute(db.db);
      };
      /** Renumbers the entries from `from` on by `by` (through negative numbers: the primary key is checked row by row). */
      const shift = async (from: number, by: number) => {
        await sql`update audit_log set seq = -seq where seq >= ${from}`.execute(db.db);
        await sql`update audit_log set seq = -seq + ${by} where seq < 0`.execute(db.db);
      };
      const expectBad = async (seq: number, problem: string, ...args: string[]) => {
        const r = await verify(...args);
        assert.equal(r.code, 1, `${problem}: ${r.out}${r.err}`);
        assert.match(r.out, new RegExp(`^FAILED: entry ${seq} ${problem}: `), r.out);
      };

      before(async () => {
        await server.close();
        db = await openStore(store.uri);
        original = (await rows()).map((r) => ({ ...r, seq: Number(r.seq), time: Number(r.time), project_id: r.project_id === null ? null : Number(r.project_id) }));
        last = original.length;
        assert.ok(last >= 15, String(last));
      });
      after(async () => {
        await db?.close();
      });

      it('passes the intact chain, with the head it reports', async () => {
        const r = await verify();
        assert.equal(r.code, 0, r.out + r.err);
        assert.equal(r.out, `OK: ${last} entries, head ${last}:${original[last - 1]!.hash}\n`);
        const json = await verify('--json', '--expect-head', `5:${original[4]!.hash}`);
        assert.equal(json.code, 0, json.err);
        assert.deepEqual(JSON.parse(json.out).head, { seq: last, hash: original[last - 1]!.hash });
        assert.equal((await verify('--expect-head', '5:abc')).code, 2);
      });

      it('names an entry whose field was changed', async () => {
        await sql`update audit_log set actor = 'mallory' where seq = 3`.execute(db.db);
        await expectBad(3, 'modified');
        await restore();
        await sql`update audit_log set details = '{"admin":true}' where seq = 6`.execute(db.db);
        await expectBad(6, 'modified');
        await restore();
      });

      it('names a deleted entry, whether the ones after it were renumbered or not', async () => {
        await sql`delete from audit_log where seq = 4`.execute(db.db);
        await expectBad(4, 'missing');
        await shift(5, -1);
        await sql`update audit_head set seq = ${last - 1}`.execute(db.db);
        await expectBad(4, 'missing');
        await restore();
      });

      it('names a forged entry inserted in the middle (the ones after renumbered) or after the head', async () => {
        const forge = (after: HashedAuditEntry) => {
          const { seq: _s, prev_hash: _p, hash: _h, ...content } = after;
          return linkEntries({ seq: after.seq, hash: after.hash }, [{ ...content, actor: 'mallory', action: 'auth.admin_granted' }]).entries[0]!;
        };
        await shift(8, 1);
        const t = db.db.withTables<{ audit_log: HashedAuditEntry }>();
        await t.insertInto('audit_log').values(forge(original[6]!)).execute();
        await expectBad(8, 'inserted');
        await restore();
        await t.insertInto('audit_log').values(forge(original[last - 1]!)).execute();
        await expectBad(last + 1, 'inserted');
        await restore();
      });

      it('names two entries that swapped places', async () => {
        await sql`update audit_log set seq = -1 where seq = 9`.execute(db.db);
        await sql`update audit_log set seq = 9 where seq = 10`.execute(db.db);
        await sql`update audit_log set seq = 10 where seq = -1`.execute(db.db);
        await expectBad(9, 'reordered');
        await restore();
      });

      it('names a cut tail against the stored head, and against a head published earlier once the head row is moved back', async () => {
        const published = `${last}:${original[last - 1]!.hash}`;
        await sql`delete from audit_log where seq > ${last - 3}`.execute(db.db);
        await expectBad(last - 2, 'truncated');
        await sql`update audit_head set seq = ${last - 3}, hash = ${original[last - 4]!.hash}`.execute(db.db);
        const alone = await verify();
        assert.equal(alone.code, 0, 'a cut with the head moved back passes on its own');
        await expectBad(last - 2, 'truncated', '--expect-head', published);
        await restore();
        assert.equal((await verify('--expect-head', published)).code, 0);
      });

      it('reads the store directly: the audit log itself verifies the same', async () => {
        const r = await new AuditLog(db).verify();
        assert.deepEqual([r.ok, r.entries], [true, last]);
      });
    });
  });

  describe(`kiln admin on the store directly (${backend})`, () => {
    it('records what it changes, attributed to the command, and kiln audit verify passes', async () => {
      const fresh = await freshStore(backend);
      try {
        const env = { KILN_STORE_URI: '' };
        const created = await shell(`printf 'bo password 1\\n' | kiln admin create-user bo --admin --password-stdin --store '${fresh.uri}'`, env);
        assert.equal(created.code, 0, created.err);
        const reset = await shell(`printf 'bo password 2\\n' | kiln admin set-password bo --password-stdin --store '${fresh.uri}'`, env);
        assert.equal(reset.code, 0, reset.err);
        const db = await openStore(fresh.uri);
        try {
          const log = (await new AuditLog(db).list({}, { limit: 10, order: 'asc' })).entries;
          assert.deepEqual(
            log.map((e) => [e.action, e.resource_id, e.actor_kind, e.auth_method, e.source]),
            [
              ['auth.user_created', 'bo', 'system', 'system', 'cli'],
              ['auth.password_changed', 'bo', 'system', 'system', 'cli'],
              ['auth.user_updated', 'bo', 'system', 'system', 'cli'],
            ],
          );
          assert.match(log[0]!.actor, /^kiln admin \(.+@.+\)$/);
          assert.notEqual(log[0]!.request_id, log[1]!.request_id, 'each command is its own request');
        } finally {
          await db.close();
        }
        const r = await kiln(['audit', 'verify', '--store', fresh.uri], env);
        assert.equal(r.code, 0, r.out + r.err);
        assert.match(r.out, /^OK: 3 entries, head 3:[0-9a-f]{64}\n$/);
      } finally {
        await fresh.drop();
      }
    });
  });
}
