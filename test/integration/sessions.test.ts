import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../../src/platform/config.js';
import { createServer, type KilnServer } from '../../src/server.js';
import { freshStore, STORE_BACKENDS, tempDir, type TestStore } from '../support/backends.js';
import { call, startTestServer, TEST_SCRYPT, basicAuth } from '../support/server.js';

const basic = basicAuth;
const ROOT_PASSWORD = 'correct horse battery';
const MIN = 60_000;

interface Session {
  readonly cookie: string;
  readonly csrf: string;
  readonly setCookie: string;
  readonly body: any;
}

for (const backend of STORE_BACKENDS) {
  describe(`browser sessions and CSRF (${backend})`, () => {
    let store: TestStore;
    let dir: string;
    let server: KilnServer & { url: string };
    let url: string;
    /** The governance clock runs this far ahead of the real one. */
    let offset = 0;
    const admin = basic('root', ROOT_PASSWORD);

    const login = async (username: string, password: string, headers: Record<string, string> = {}): Promise<Session> => {
      const r = await call(url, 'POST', '/api/v1/auth/login', { username, password }, headers);
      assert.equal(r.status, 200, r.text);
      const setCookie = r.headers.get('set-cookie') ?? '';
      return { cookie: setCookie.split(';')[0]!, csrf: r.body.csrf_token, setCookie, body: r.body };
    };
    const as = (s: Session, csrf = true) => ({ cookie: s.cookie, ...(csrf ? { 'x-kiln-csrf': s.csrf } : {}) });
    const whoami = async (s: Session) => call(url, 'GET', '/api/v1/auth/whoami', undefined, as(s, false));
    const auditActions = async (resource: string) =>
      (await call(url, 'GET', `/api/v1/audit?resource_id=${encodeURIComponent(resource)}&order=asc&max_results=1000`, undefined, admin)).body.entries.map((e: any) => `${e.action}:${e.outcome}:${e.auth_method}`);

    before(async () => {
      store = await freshStore(backend);
      dir = tempDir('kiln-sessions-');
      const config = loadConfig({ host: '127.0.0.1', port: 0, storeUri: store.uri, artifactsUri: pathToFileURL(join(dir, 'artifacts')).href, logLevel: 'silent', home: dir, auth: 'on' }, {});
      server = (await createServer(config, {
        capabilities: {
          governance: { scrypt: TEST_SCRYPT, env: { KILN_ADMIN_USER: 'root', KILN_ADMIN_PASSWORD: ROOT_PASSWORD }, recheckMs: 200, now: () => Date.now() + offset, loginLimits: { freeFailures: 3 } },
        },
      })) as KilnServer & { url: string };
      url = await server.listen();
      for (const name of ['ana', 'bob', 'cy', 'dee']) assert.equal((await call(url, 'POST', '/api/v1/users', { name, password: `${name}-passphrase-1` }, admin)).status, 201);
    });
    after(async () => {
      await server?.close();
      await store?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('signs in with a password: an HttpOnly, SameSite=Lax cookie (kiln_session over HTTP, __Host- and Secure over TLS) and the session with its CSRF token', async () => {
      const s = await login('ana', 'ana-passphrase-1');
      assert.match(s.setCookie, /^kiln_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=43200; HttpOnly; SameSite=Lax$/);
      assert.doesNotMatch(s.setCookie, /Domain|Secure/i);
      assert.deepEqual({ ...s.body, csrf_token: typeof s.body.csrf_token, expiry_time: typeof s.body.expiry_time }, {
        user: 'ana',
        admin: false,
        method: 'session',
        csrf_token: 'string',
        auth: 'on',
        sso: false,
        expiry_time: 'number',
        idle_expiry_time: s.body.idle_expiry_time,
      });
      assert.match(s.csrf, /^[A-Za-z0-9_-]{43}$/);
      // Behind a proxy that terminated TLS.
      const tls = await login('ana', 'ana-passphrase-1', { 'x-forwarded-proto': 'https' });
      assert.match(tls.setCookie, /^__Host-kiln_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=43200; HttpOnly; SameSite=Lax; Secure$/);
      assert.notEqual(tls.cookie, s.cookie);
      // Over TLS only the __Host- cookie counts (a plain one could have been planted by another host).
      assert.equal((await call(url, 'GET', '/api/v1/auth/whoami', undefined, { cookie: s.cookie, 'x-forwarded-proto': 'https' })).status, 401);
      assert.equal((await call(url, 'GET', '/api/v1/auth/whoami', undefined, { cookie: tls.cookie, 'x-forwarded-proto': 'https' })).status, 200);

      const who = await whoami(s);
      assert.equal(who.status, 200);
      assert.deepEqual({ name: who.body.name, method: who.body.method, scopes: who.body.scopes }, { name: 'ana', method: 'session', scopes: 'all' });
      const again = await call(url, 'GET', '/api/v1/auth/session', undefined, as(s, false));
      assert.equal(again.status, 200);
      assert.equal(again.body.csrf_token, s.csrf);
      assert.equal(again.headers.get('cache-control'), 'no-store');
      assert.ok((await auditActions('ana')).includes('auth.login:ok:password'));
      const users = (await call(url, 'GET', '/api/v1/users/ana', undefined, as(s, false))).body.user;
      assert.ok(users.last_login_time > 0);
    });

    it('answers 401 to GET /auth/session without a session, saying whether SSO is configured; clears an ended session’s cookie', async () => {
      const none = await call(url, 'GET', '/api/v1/auth/session');
      assert.equal(none.status, 401);
      assert.equal(none.body.error_code, 'UNAUTHENTICATED');
      assert.deepEqual(none.body.details, { auth: 'on', sso: false });
      const stale = await call(url, 'GET', '/api/v1/auth/session', undefined, { cookie: 'kiln_session=' + 'A'.repeat(43) });
      assert.equal(stale.status, 401);
      assert.match(stale.headers.get('set-cookie') ?? '', /^kiln_session=; Path=\/; Max-Age=0; HttpOnly; SameSite=Lax$/);
      // Other credentials: the session route says who they are, without a CSRF token.
      const basicSession = await call(url, 'GET', '/api/v1/auth/session', undefined, admin);
      assert.equal(basicSession.status, 200);
      assert.deepEqual([basicSession.body.user, basicSession.body.method, basicSession.body.csrf_token], ['root', 'password', null]);
    });

    it('refuses a wrong password with 401 (recorded), through the login limiter (429), and never for a service account', async () => {
      const wrong = await call(url, 'POST', '/api/v1/auth/login', { username: 'bob', password: 'not bob’s password' });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.headers.get('set-cookie'), null);
      assert.equal((await call(url, 'POST', '/api/v1/auth/login', { username: 'nobody', password: 'whatever-123' })).status, 401);
      // Three failures are free (loginLimits above), the fourth starts the wait.
      for (let i = 0; i < 3; i++) assert.equal((await call(url, 'POST', '/api/v1/auth/login', { username: 'bob', password: 'still wrong' })).status, 401);
      const limited = await call(url, 'POST', '/api/v1/auth/login', { username: 'bob', password: 'bob-passphrase-1' });
      assert.equal(limited.status, 429);
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
      assert.deepEqual((await auditActions('bob')).filter((a: string) => a.startsWith('auth.login')), Array(4).fill('auth.login_failed:denied:password'));
      assert.equal((await call(url, 'POST', '/api/v1/users', { name: 'svc', kind: 'service' }, admin)).status, 201);
      assert.equal((await call(url, 'POST', '/api/v1/auth/login', { username: 'svc', password: 'anything-at-all' })).status, 401);
      assert.equal((await call(url, 'POST', '/api/v1/auth/login', { username: 'ana' })).status, 400);
    });

    it('needs X-Kiln-CSRF on cookie-authenticated writes (403 without it or with another), not on bearer or basic ones', async () => {
      const s = await login('cy', 'cy-passphrase-1');
      const missing = await call(url, 'POST', '/api/v1/tokens', { name: 'no-csrf' }, as(s, false));
      assert.equal(missing.status, 403);
      assert.match(missing.body.message, /X-Kiln-CSRF/);
      assert.equal((await call(url, 'POST', '/api/v1/tokens', { name: 'bad-csrf' }, { cookie: s.cookie, 'x-kiln-csrf': 'A'.repeat(43) })).status, 403);
      assert.equal((await call(url, 'DELETE', '/api/v1/tokens/whatever', undefined, as(s, false))).status, 403);
      const made = await call(url, 'POST', '/api/v1/tokens', { name: 'with-csrf' }, as(s));
      assert.equal(made.status, 201, made.text);
      // Reads need none.
      assert.equal((await call(url, 'GET', '/api/v1/tokens', undefined, as(s, false))).status, 200);
      // A bearer token and basic auth are not cookies: no CSRF token, and they win over a cookie sent alongside.
      assert.equal((await call(url, 'POST', '/api/v1/tokens', { name: 'by-bearer' }, { authorization: `Bearer ${made.body.token}` })).status, 201);
      assert.equal((await call(url, 'POST', '/api/v1/tokens', { name: 'by-basic' }, { ...basic('cy', 'cy-passphrase-1'), cookie: s.cookie })).status, 201);
      assert.ok((await auditActions('POST /api/v1/tokens')).some((a: string) => a.startsWith('http.request_denied:denied')));
    });

    it('signs out: the session ends, the cookie is cleared, and the sign-out is recorded', async () => {
      const s = await login('dee', 'dee-passphrase-1');
      // Without the CSRF token the session is not ended (the cookie is cleared all the same).
      const forged = await call(url, 'POST', '/api/v1/auth/logout', undefined, as(s, false));
      assert.equal(forged.status, 204);
      assert.equal((await whoami(s)).status, 200);
      const out = await call(url, 'POST', '/api/v1/auth/logout', undefined, as(s));
      assert.equal(out.status, 204);
      assert.match(out.headers.get('set-cookie') ?? '', /^kiln_session=; Path=\/; Max-Age=0; HttpOnly; SameSite=Lax$/);
      assert.equal((await whoami(s)).status, 401);
      assert.equal((await call(url, 'GET', '/api/v1/auth/session', undefined, as(s, false))).status, 401);
      assert.deepEqual((await auditActions('dee')).filter((a: string) => /login|logout/.test(a)), ['auth.login:ok:password', 'auth.logout:ok:session']);
    });

    it('ends a session idle for an hour, and any session 12 hours after sign-in however active', async () => {
      const idle = await login('ana', 'ana-passphrase-1');
      offset += 59 * MIN;
      assert.equal((await whoami(idle)).status, 200, 'used within the hour');
      offset += 59 * MIN;
      assert.equal((await whoami(idle)).status, 200, 'the last use counts, not the sign-in');
      offset += 61 * MIN;
      assert.equal((await whoami(idle)).status, 401, 'idle for more than an hour');

      const busy = await login('ana', 'ana-passphrase-1');
      const start = offset;
      for (let step = 1; step <= 15; step++) {
        offset = start + step * 50 * MIN;
        await new Promise((r) => setTimeout(r, 250)); // past recheckMs: the store is read again
        const status = (await whoami(busy)).status;
        assert.equal(status, step * 50 < 12 * 60 ? 200 : 401, `after ${step * 50} minutes`);
      }
    });

    it('ends a user’s sessions when they are disabled, deleted or their password changes', async () => {
      const a = await login('ana', 'ana-passphrase-1');
      assert.equal((await call(url, 'PATCH', '/api/v1/users/ana', { disabled: true }, admin)).status, 200);
      assert.equal((await whoami(a)).status, 401);
      assert.equal((await call(url, 'PATCH', '/api/v1/users/ana', { disabled: false }, admin)).status, 200);
      assert.equal((await whoami(a)).status, 401, 'enabled again: the old session stays ended');
      assert.equal((await call(url, 'POST', '/api/v1/auth/login', { username: 'ana', password: 'ana-passphrase-1' })).status, 200);

      const b = await login('ana', 'ana-passphrase-1');
      assert.equal((await call(url, 'PUT', '/api/v1/users/ana/password', { password: 'ana-passphrase-2' }, admin)).status, 204);
      assert.equal((await whoami(b)).status, 401);

      const c = await login('ana', 'ana-passphrase-2');
      // Admin granted: the session sees it at once.
      assert.equal((await call(url, 'PATCH', '/api/v1/users/ana', { admin: true }, admin)).status, 200);
      assert.equal((await call(url, 'GET', '/api/v1/auth/session', undefined, as(c, false))).body.admin, true);
      assert.equal((await call(url, 'PATCH', '/api/v1/users/ana', { admin: false }, admin)).status, 200);
      assert.equal((await call(url, 'DELETE', '/api/v1/users/ana', undefined, admin)).status, 204);
      assert.equal((await whoami(c)).status, 401);
    });

    it('sends the security headers with the UI and the API, and no CORS header', async () => {
      for (const path of ['/api/v1/auth/session', '/health']) {
        const r = await fetch(url + path, { headers: { origin: 'https://evil.example' } });
        assert.match(r.headers.get('content-security-policy') ?? '', /default-src 'self'.*script-src 'self'.*frame-ancestors 'none'/);
        assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
        assert.equal(r.headers.get('referrer-policy'), 'same-origin');
        assert.equal(r.headers.get('x-frame-options'), 'DENY');
        assert.equal(r.headers.get('access-control-allow-origin'), null);
      }
      const preflight = await fetch(url + '/api/v1/tokens', { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
      assert.equal(preflight.headers.get('access-control-allow-origin'), null);
    });
  });
}

describe('sessions with --auth none', () => {
  it('the session route says auth is off, and there is no signing in', async () => {
    const ts = await startTestServer({ store: 'sqlite' });
    try {
      const s = await call(ts.url, 'GET', '/api/v1/auth/session');
      assert.equal(s.status, 200);
      assert.equal(s.body.auth, 'none');
      assert.equal(s.body.csrf_token, null);
      const r = await call(ts.url, 'POST', '/api/v1/auth/login', { username: 'ana', password: 'whatever-123' });
      assert.equal(r.status, 409);
      assert.equal(r.headers.get('set-cookie'), null);
    } finally {
      await ts.stop();
    }
  });
});
