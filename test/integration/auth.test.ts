import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../../src/platform/config.js';
import { createServer, checkAuthMode, type KilnServer } from '../../src/server.js';
import { freshStore, STORE_BACKENDS, tempDir, type TestStore } from '../support/backends.js';
import { call, TEST_SCRYPT, basicAuth } from '../support/server.js';

const basic = basicAuth;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });


async function start(storeUri: string, dir: string, extra: { auth?: 'on' | 'none'; env?: NodeJS.ProcessEnv; recheckMs?: number } = {}): Promise<KilnServer & { url: string }> {
  const config = loadConfig(
    { host: '127.0.0.1', port: 0, storeUri, artifactsUri: pathToFileURL(join(dir, 'artifacts')).href, logLevel: 'silent', home: dir, auth: extra.auth ?? 'on' },
    {},
  );
  const server = await createServer(config, {
    capabilities: { governance: { scrypt: TEST_SCRYPT, env: extra.env ?? {}, ...(extra.recheckMs !== undefined ? { recheckMs: extra.recheckMs } : {}) } },
  });
  await server.listen();
  return server as KilnServer & { url: string };
}

describe('--auth none is for loopback addresses only', () => {
  it('refuses another address without --insecure-no-auth, and says how to enable auth', () => {
    for (const host of ['127.0.0.1', 'localhost', '::1']) assert.doesNotThrow(() => checkAuthMode({ auth: 'none', host, insecureNoAuth: false }), host);
    for (const host of ['0.0.0.0', '::', '10.1.2.3', 'kiln.example.com']) {
      assert.throws(() => checkAuthMode({ auth: 'none', host, insecureNoAuth: false }), /--auth on.*KILN_ADMIN_USER.*--insecure-no-auth/s, host);
      assert.doesNotThrow(() => checkAuthMode({ auth: 'none', host, insecureNoAuth: true }), host);
      assert.doesNotThrow(() => checkAuthMode({ auth: 'on', host, insecureNoAuth: false }), host);
    }
  });
  it('loadConfig reads --auth and KILN_AUTH, and refuses other values', () => {
    assert.equal(loadConfig({}, {}).auth, 'none');
    assert.equal(loadConfig({}, { KILN_AUTH: 'on' }).auth, 'on');
    assert.equal(loadConfig({ auth: 'none' }, { KILN_AUTH: 'on' }).auth, 'none');
    assert.throws(() => loadConfig({}, { KILN_AUTH: 'yes' }), /auth must be on or none/);
    assert.equal(loadConfig({}, { KILN_INSECURE_NO_AUTH: 'true' }).insecureNoAuth, true);
  });
});

for (const backend of STORE_BACKENDS) {
  describe(`authentication with --auth on (${backend})`, () => {
    let store: TestStore;
    let dir: string;
    let server: KilnServer & { url: string };
    let url: string;
    const admin = basic('root', 'correct horse battery');

    before(async () => {
      store = await freshStore(backend);
      dir = tempDir('kiln-auth-');
      server = await start(store.uri, dir, { env: { KILN_ADMIN_USER: 'root', KILN_ADMIN_PASSWORD: 'correct horse battery' }, recheckMs: 300 });
      url = server.url;
    });
    after(async () => {
      await server?.close();
      await store?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('creates the first admin from KILN_ADMIN_USER and KILN_ADMIN_PASSWORD, once', async () => {
      const me = await call(url, 'GET', '/api/v1/auth/whoami', undefined, admin);
      assert.equal(me.status, 200, me.text);
      assert.deepEqual({ name: me.body.name, admin: me.body.admin, method: me.body.method, auth: me.body.auth }, { name: 'root', admin: true, method: 'password', auth: 'on' });
      // A second start with other values changes nothing: there are users already.
      const again = await start(store.uri, dir, { env: { KILN_ADMIN_USER: 'other', KILN_ADMIN_PASSWORD: 'another password' } });
      try {
        assert.equal((await call(again.url, 'GET', '/api/v1/auth/whoami', undefined, basic('other', 'another password'))).status, 401);
        assert.equal((await call(again.url, 'GET', '/api/v1/auth/whoami', undefined, admin)).status, 200);
      } finally {
        await again.close();
      }
    });

    it('answers 401 without credentials or with wrong ones, the same for an unknown user; public routes need none', async () => {
      const none = await call(url, 'GET', '/api/v1/auth/whoami');
      assert.equal(none.status, 401);
      assert.equal(none.body.error_code, 'UNAUTHENTICATED');
      const wrong = await call(url, 'GET', '/api/v1/auth/whoami', undefined, basic('root', 'wrong password'));
      const unknown = await call(url, 'GET', '/api/v1/auth/whoami', undefined, basic('nobody', 'wrong password'));
      assert.equal(wrong.status, 401);
      assert.equal(unknown.status, 401);
      assert.equal(wrong.body.message, unknown.body.message, 'a wrong name and a wrong password read the same');
      for (const authorization of ['Bearer kiln_nope', 'Bearer kiln_AAAAAAAAAAAA_' + 'A'.repeat(43), 'Digest abc', 'Basic !!!', `Basic ${Buffer.from('root:' + 'x'.repeat(5000)).toString('base64')}`]) {
        const r = await call(url, 'GET', '/api/v1/auth/whoami', undefined, { authorization });
        assert.equal(r.status, 401, authorization.slice(0, 30));
      }
      assert.equal((await call(url, 'GET', '/health')).status, 200);
      assert.equal((await call(url, 'GET', '/health', undefined, basic('root', 'wrong'))).status, 200, 'bad credentials on a public route are ignored');
      assert.equal((await call(url, 'GET', '/metrics')).status, 200);
      // CORS is closed: no other origin is allowed to read answers or send credentials.
      const preflight = await fetch(`${url}/api/v1/auth/whoami`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
      assert.equal(preflight.headers.get('access-control-allow-origin'), null);
      const cross = await call(url, 'GET', '/api/v1/auth/whoami', undefined, { ...admin, origin: 'https://evil.example' });
      assert.equal(cross.headers.get('access-control-allow-origin'), null);
      assert.equal(cross.headers.get('access-control-allow-credentials'), null);
    });

    it('lets admins manage users; others may not, and see only themselves', async () => {
      const created = await call(url, 'POST', '/api/v1/users', { name: 'ana', password: 'ana password 1', display_name: 'Ana' }, admin);
      assert.equal(created.status, 201, created.text);
      assert.deepEqual({ name: created.body.user.name, admin: created.body.user.admin, has_password: created.body.user.has_password }, { name: 'ana', admin: false, has_password: true });
      assert.equal((await call(url, 'POST', '/api/v1/users', { name: 'ana', password: 'ana password 1' }, admin)).status, 409);
      assert.equal((await call(url, 'POST', '/api/v1/users', { name: 'bad name', password: 'ana password 1' }, admin)).status, 400);
      assert.equal((await call(url, 'POST', '/api/v1/users', { name: 'short', password: 'short' }, admin)).status, 400);
      const ana = basic('ana', 'ana password 1');
      assert.equal((await call(url, 'GET', '/api/v1/users', undefined, ana)).status, 403);
      assert.equal((await call(url, 'POST', '/api/v1/users', { name: 'eve', password: 'eve password 1', admin: true }, ana)).status, 403);
      assert.equal((await call(url, 'GET', '/api/v1/users/ana', undefined, ana)).status, 200);
      assert.equal((await call(url, 'GET', '/api/v1/users/root', undefined, ana)).status, 403);
      assert.equal((await call(url, 'PATCH', '/api/v1/users/ana', { admin: true }, ana)).status, 403, 'no self-promotion');
      assert.equal((await call(url, 'PATCH', '/api/v1/users/ana', { display_name: 'Ana M.' }, ana)).body.user.display_name, 'Ana M.');
      const list = await call(url, 'GET', '/api/v1/users', undefined, admin);
      assert.deepEqual(list.body.users.map((u: { name: string }) => u.name), ['ana', 'root']);
      // The last admin stays.
      const demote = await call(url, 'PATCH', '/api/v1/users/root', { admin: false }, admin);
      assert.equal(demote.status, 409, demote.text);
      assert.match(demote.body.message, /last active admin/);
    });

    it('changes a password: your own needs the current one; the old one stops working at once', async () => {
      const ana = basic('ana', 'ana password 1');
      assert.equal((await call(url, 'PUT', '/api/v1/users/ana/password', { password: 'ana password 2' }, ana)).status, 400);
      assert.equal((await call(url, 'PUT', '/api/v1/users/ana/password', { password: 'ana password 2', current_password: 'nope' }, ana)).status, 403);
      assert.equal((await call(url, 'PUT', '/api/v1/users/ana/password', { password: 'ana password 2', current_password: 'ana password 1' }, ana)).status, 204);
      assert.equal((await call(url, 'GET', '/api/v1/auth/whoami', undefined, ana)).status, 401);
      assert.equal((await call(url, 'GET', '/api/v1/auth/whoami', undefined, basic('ana', 'ana password 2'))).status, 200);
    });

    it('issues API tokens shown once, bounded by scopes, revocable; bearer and basic-with-token both work', async () => {
      const ana = basic('ana', 'ana password 2');
      const made = await call(url, 'POST', '/api/v1/tokens', { name: 'laptop' }, ana);
      assert.equal(made.status, 201, made.text);
      const token: string = made.body.token;
      assert.match(token, /^kiln_[0-9A-Za-z]{12}_[0-9A-Za-z]{43}$/);
      assert.deepEqual(made.body.token_info.scopes, ['read', 'write']);
      const me = await call(url, 'GET', '/api/v1/auth/whoami', undefined, bearer(token));
      assert.deepEqual({ name: me.body.name, method: me.body.method, scopes: me.body.scopes, token_id: me.body.token_id }, { name: 'ana', method: 'token', scopes: ['read', 'write'], token_id: made.body.token_info.id });
      assert.equal((await call(url, 'GET', '/api/v1/auth/whoami', undefined, basic('anything', token))).body.name, 'ana');
      // The list shows no secret.
      const list = await call(url, 'GET', '/api/v1/tokens', undefined, bearer(token));
      assert.equal(list.body.tokens.length, 1);
      assert.ok(!list.text.includes(token.slice(18)), 'no secret in the list');
      assert.equal((await call(url, 'POST', '/api/v1/tokens', { name: 'laptop' }, ana)).status, 409, 'live names are unique per user');
      assert.equal((await call(url, 'POST', '/api/v1/tokens', { name: 'x', scopes: ['admin'] }, ana)).status, 403, 'admin scope for admins only');
      assert.equal((await call(url, 'POST', '/api/v1/tokens', { name: 'x', scopes: ['fly'] }, ana)).status, 400);
      assert.equal((await call(url, 'POST', '/api/v1/tokens', { name: 'x', expires_in_days: -1 }, ana)).status, 400);
      // A read-only token reaches no further than read, and cannot mint a wider token.
      const ro = (await call(url, 'POST', '/api/v1/tokens', { name: 'ro', scopes: ['read'] }, ana)).body.token as string;
      const widen = await call(url, 'POST', '/api/v1/tokens', { name: 'wider', scopes: ['read', 'write'] }, bearer(ro));
      assert.equal(widen.status, 403);
      assert.match(widen.body.message, /write/);
      assert.equal((await call(url, 'POST', '/api/v1/tokens', { name: 'narrow', scopes: ['read'] }, bearer(ro))).status, 201);
      // An admin's token without the admin scope is not an admin's key.
      const rootPlain = (await call(url, 'POST', '/api/v1/tokens', { name: 'plain' }, admin)).body.token as string;
      assert.equal((await call(url, 'GET', '/api/v1/users', undefined, bearer(rootPlain))).status, 403);
      const rootAdmin = (await call(url, 'POST', '/api/v1/tokens', { name: 'admin', scopes: ['read', 'write', 'admin'] }, admin)).body.token as string;
      assert.equal((await call(url, 'GET', '/api/v1/users', undefined, bearer(rootAdmin))).status, 200);
      // Revocation.
      const revoked = await call(url, 'DELETE', '/api/v1/tokens/laptop', undefined, ana);
      assert.equal(revoked.status, 200, revoked.text);
      assert.ok(revoked.body.token_info.revoked_time > 0);
      assert.equal((await call(url, 'GET', '/api/v1/auth/whoami', undefined, bearer(token))).status, 401);
      assert.equal((await call(url, 'DELETE', '/api/v1/tokens/laptop', undefined, ana)).status, 404);
      // Others' tokens: admins only.
      assert.equal((await call(url, 'GET', '/api/v1/tokens?user=root', undefined, ana)).status, 403);
      assert.equal((await call(url, 'GET', '/api/v1/tokens?user=ana', undefined, admin)).body.tokens.length, 3);
    });

    it('stops a token on another replica within the recheck interval when it is revoked or its user disabled', async () => {
      const other = await start(store.uri, dir, { recheckMs: 300 });
      try {
        const ana = basic('ana', 'ana password 2');
        const token = (await call(url, 'POST', '/api/v1/tokens', { name: 'replicated' }, ana)).body.token as string;
        assert.equal((await call(other.url, 'GET', '/api/v1/auth/whoami', undefined, bearer(token))).status, 200);
        assert.equal((await call(url, 'DELETE', '/api/v1/tokens/replicated', undefined, ana)).status, 200);
        await new Promise((r) => setTimeout(r, 400));
        assert.equal((await call(other.url, 'GET', '/api/v1/auth/whoami', undefined, bearer(token))).status, 401);

        const second = (await call(url, 'POST', '/api/v1/tokens', { name: 'second' }, ana)).body.token as string;
        assert.equal((await call(other.url, 'GET', '/api/v1/auth/whoami', undefined, basic('ana', 'ana password 2'))).status, 200);
        assert.equal((await call(other.url, 'GET', '/api/v1/auth/whoami', undefined, bearer(second))).status, 200);
        assert.equal((await call(url, 'PATCH', '/api/v1/users/ana', { disabled: true }, admin)).status, 200);
        await new Promise((r) => setTimeout(r, 400));
        assert.equal((await call(other.url, 'GET', '/api/v1/auth/whoami', undefined, bearer(second))).status, 401);
        assert.equal((await call(other.url, 'GET', '/api/v1/auth/whoami', undefined, basic('ana', 'ana password 2'))).status, 401);
        assert.equal((await call(url, 'PATCH', '/api/v1/users/ana', { disabled: false }, admin)).status, 200);
      } finally {
        await other.close();
      }
    });

    it('slows down guessing: after five failures for a user, 429 with Retry-After, the right password included, until the wait is over', async () => {
      assert.equal((await call(url, 'POST', '/api/v1/users', { name: 'guessed', password: 'guessed password' }, admin)).status, 201);
      for (let i = 0; i < 5; i++) assert.equal((await call(url, 'GET', '/api/v1/auth/whoami', undefined, basic('guessed', `wrong ${i}`))).status, 401);
      assert.equal((await call(url, 'GET', '/api/v1/auth/whoami', undefined, basic('guessed', 'wrong 5'))).status, 401, 'the fifth failure used the allowance');
      const limited = await call(url, 'GET', '/api/v1/auth/whoami', undefined, basic('guessed', 'guessed password'));
      assert.equal(limited.status, 429, limited.text);
      assert.equal(limited.headers.get('retry-after'), '1');
      assert.match(limited.body.message, /Too many failed sign-ins/);
      assert.equal((await call(url, 'GET', '/api/v1/auth/whoami', undefined, basic('ana', 'ana password 2'))).status, 200, 'another user is not slowed');
      await new Promise((r) => setTimeout(r, 1100));
      assert.equal((await call(url, 'GET', '/api/v1/auth/whoami', undefined, basic('guessed', 'guessed password'))).status, 200);
    });

    it('service accounts have no password and act through tokens an admin creates', async () => {
      const svc = await call(url, 'POST', '/api/v1/users', { name: 'ci-bot', kind: 'service' }, admin);
      assert.equal(svc.status, 201, svc.text);
      assert.equal((await call(url, 'POST', '/api/v1/users', { name: 'ci-bot2', kind: 'service', password: 'a password!' }, admin)).status, 400);
      const made = await call(url, 'POST', '/api/v1/tokens', { name: 'pipeline', user: 'ci-bot', expires_in_days: 1 }, admin);
      assert.equal(made.status, 201, made.text);
      const me = await call(url, 'GET', '/api/v1/auth/whoami', undefined, bearer(made.body.token));
      assert.deepEqual({ name: me.body.name, kind: me.body.kind }, { name: 'ci-bot', kind: 'service' });
      assert.equal((await call(url, 'POST', '/api/v1/tokens', { name: 'x', user: 'ci-bot' }, basic('ana', 'ana password 2'))).status, 403);
    });
  });
}
